"""Spreadsheet columns of payouts: the pot of a round paid to its
recipient.

Each row is recorded with `services.record_payout`, which checks the
rotation order, outstanding contributions and the fee; the file's amount,
if given, must be the pot less the fee.
"""

from django.core.exceptions import ValidationError
from django.utils import timezone
from import_export import fields

from accounts.models import User

from .. import exceptions as err
from .. import parsing, services
from ..models import Payout, Round
from .base import SpreadsheetResource, read_cells, refusal
from .widgets import (
    AmountWidget,
    DateWidget,
    PhoneWidget,
    TextWidget,
    WholeNumberWidget,
    read_text,
)

# The column a refusal of the payout service is shown under.
REFUSAL_COLUMNS = {
    err.NotAllowed: "group",
    err.PayoutExists: "round",
    err.AlreadyCollected: "member",
    err.OutstandingContributions: "override_reason",
}


class PayoutResource(SpreadsheetResource):
    group = fields.Field("group__name", "group", TextWidget(required=True))
    round = fields.Field("round__number", "round", WholeNumberWidget())
    due_date = fields.Field("round__due_date", "due_date", DateWidget())
    member = fields.Field("membership__member__phone", "member", PhoneWidget())
    member_name = fields.Field(
        "membership__member", "member_name", TextWidget(), readonly=True
    )
    pot = fields.Field("pot", "pot", AmountWidget(), readonly=True)
    fee = fields.Field("fee", "fee", AmountWidget(), readonly=True)
    amount = fields.Field("amount", "amount", AmountWidget())
    paid_on = fields.Field("paid_on", "paid_on", DateWidget())
    reference = fields.Field("reference", "reference", TextWidget(max_length=100))
    override_reason = fields.Field("override_reason", "override_reason", TextWidget())

    required_columns = ("group", "paid_on")
    column_aliases = {"phone": "member", "email": "member", "username": "member"}
    reference_columns = ("member_name", "pot", "fee")
    file_kind = "a payouts file"
    finders = ("groups", "members", "rounds")

    class Meta(SpreadsheetResource.Meta):
        model = Payout
        fields = (
            "group",
            "round",
            "due_date",
            "member",
            "member_name",
            "pot",
            "fee",
            "amount",
            "paid_on",
            "reference",
            "override_reason",
        )
        clean_model_instances = False
        skip_diff = True

    def get_instance(self, instance_loader, row):
        group = self.find_group(row)
        r = self.rounds.find(group, row)
        self.round = Round.objects.select_related(
            "group", "cycle", "recipient__member"
        ).get(pk=r.pk)
        return Payout.objects.filter(round=r).select_related("membership").first()

    def init_instance(self, row=None):
        return Payout(round=self.round, group=self.round.group)

    def import_instance(self, instance, row, **kwargs):
        r = self.round
        readers = {
            "paid_on": parsing.parse_date,
            "amount": parsing.parse_amount,
            "reference": read_text,
            "override_reason": read_text,
        }
        values, errors = read_cells(row, readers)
        if "paid_on" not in values and "paid_on" not in errors:
            errors["paid_on"] = ["Give the date the pot was paid out."]
        elif values.get("paid_on") and values["paid_on"] > timezone.localdate():
            errors["paid_on"] = [f"{values['paid_on']:%d/%m/%Y} is in the future."]
        if not parsing.is_blank(row.get("member")):
            try:
                member = self.members.find(row["member"])
            except ValueError as e:
                errors["member"] = [str(e)]
            else:
                errors.update(self._recipient_errors(r, member))
        if errors:
            raise ValidationError(errors)
        instance._import = values

    @staticmethod
    def _check_amount(r: Round, amount) -> None:
        quote = services.quote_payout(r)
        if quote.amount != amount:
            raise ValidationError(
                {
                    "amount": f"The pot less the service fee is "
                    f"{r.group.money(quote.amount)}, but the file says "
                    f"{r.group.money(amount)}."
                }
            )

    @staticmethod
    def _recipient_errors(r: Round, member: User) -> dict:
        if r.recipient is None or r.recipient.member_id == member.pk:
            return {}
        collected = (
            Payout.objects.filter(cycle=r.cycle, membership__member=member)
            .select_related("round")
            .first()
        )
        if collected is not None:
            return {
                "member": [
                    f"{member} has already collected in {r.cycle} (round "
                    f"{collected.round.number})."
                ]
            }
        return {
            "member": [
                f"Round {r.number} of {r.group.name} is collected by "
                f"{r.recipient.member}, not {member}."
            ]
        }

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if instance.pk is None or import_validation_errors:
            return False
        values = instance._import
        return (
            values["paid_on"] == instance.paid_on
            and values.get("reference", "") == instance.reference
            and values.get("amount", instance.amount) == instance.amount
        )

    def do_instance_save(self, instance, is_create):
        values = instance._import
        r = self.round
        if "amount" in values and is_create:
            self._check_amount(r, values["amount"])
        try:
            payout = services.record_payout(
                r,
                by=self.user,
                route=self.route,
                paid_on=values["paid_on"],
                reference=values.get("reference", ""),
                override_reason=values.get("override_reason", ""),
            )
        except err.ThriftError as e:
            raise refusal(e, REFUSAL_COLUMNS) from None
        for f in Payout._meta.concrete_fields:
            setattr(instance, f.attname, getattr(payout, f.attname))
        instance._state.adding = False
        money = r.group.money
        self.note = (
            f"pays out {money(payout.amount)} to {r.recipient.member} (pot "
            f"{money(payout.pot)} less {money(payout.fee)} fee)"
        )
