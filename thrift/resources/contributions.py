"""Spreadsheet columns of contributions: payments against the rounds.

`amount_paid` is what a member has paid on a contribution in total, so a
file can be imported again (or an exported file imported back) without
paying anything twice. Every row is checked in memory against the locked
contributions, then the whole file is paid through one
`services.PaymentBatch`.
"""

from collections import defaultdict

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from import_export import fields
from import_export.results import RowResult

from .. import exceptions as err
from .. import parsing, services
from ..models import Contribution, Membership, PaymentMethod
from ..money import ZERO
from .base import SpreadsheetResource, read_cells, refusal
from .widgets import (
    AmountWidget,
    ChoiceWidget,
    DateWidget,
    PhoneWidget,
    TextWidget,
    WholeNumberWidget,
    read_text,
)

# The column a refusal of the payment service is shown under.
REFUSAL_COLUMNS = {
    err.NotAllowed: "group",
    err.ContributionWaived: "status",
    err.InvalidPayment: "amount_paid",
    err.Overpayment: "amount_paid",
}


class ContributionResource(SpreadsheetResource):
    """Payments recorded on contributions. `amount_paid` is what the member
    has paid on that contribution in total, so a file can be imported again
    (or an exported file imported back) without paying anything twice."""

    group = fields.Field("group__name", "group", TextWidget(required=True))
    member = fields.Field("membership__member__phone", "member", PhoneWidget())
    member_name = fields.Field(
        "membership__member", "member_name", TextWidget(), readonly=True
    )
    round = fields.Field("round__number", "round", WholeNumberWidget())
    due_date = fields.Field("due_date", "due_date", DateWidget())
    amount_due = fields.Field("amount_due", "amount_due", AmountWidget(), readonly=True)
    amount_paid = fields.Field("amount_paid", "amount_paid", AmountWidget())
    status = fields.Field(
        "status", "status", ChoiceWidget(Contribution.Status, "contribution status")
    )
    paid_on = fields.Field("paid_on", "paid_on", DateWidget(required=False))
    method = fields.Field(
        "method", "method", ChoiceWidget(PaymentMethod, "payment method")
    )
    reference = fields.Field("reference", "reference", TextWidget(max_length=100))

    required_columns = ("group", "member", "amount_paid")
    column_aliases = {"phone": "member", "email": "member", "username": "member"}
    reference_columns = ("member_name", "amount_due")
    file_kind = "a contributions file"
    finders = ("groups", "members", "rounds")

    class Meta(SpreadsheetResource.Meta):
        model = Contribution
        fields = (
            "group",
            "member",
            "member_name",
            "round",
            "due_date",
            "amount_due",
            "amount_paid",
            "status",
            "paid_on",
            "method",
            "reference",
        )
        clean_model_instances = False
        # Values are shown from the file; copying each row to diff it
        # would double the time of a large file.
        skip_diff = True

    def import_rows(self, dataset, **kwargs):
        # Rows are checked in memory against locked contributions and
        # written together at the end, so the library's savepoint around
        # each row (two round trips a row) protects nothing: the file runs
        # in one transaction of ours, rolled back for a preview or an error.
        kwargs.update(dry_run=False, use_transactions=False)
        with transaction.atomic():
            result = super().import_rows(dataset, **kwargs)
            if self.dry_run or result.has_errors() or result.has_validation_errors():
                transaction.set_rollback(True)
        return result

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        users = self.members.users()
        self.places = self._load_places(users)
        wanted = Contribution.objects.filter(
            round__in=list(self.rounds.by_number.values()),
            membership__member__in=set(users),
        )
        self.batch = services.PaymentBatch(by=self.user, route=self.route)
        locked = self.batch.lock(wanted.values_list("pk", flat=True))
        self.contributions = self._attach(locked.values(), users)
        self.today = timezone.localdate()

    def _load_places(self, users: dict) -> defaultdict:
        places = defaultdict(list)
        for place in Membership.objects.filter(
            group__in=self.groups.groups.values(), member__in=set(users)
        ).order_by("pk"):
            places[(place.group_id, place.member_id)].append(place)
        return places

    def _attach(self, locked, users: dict) -> dict:
        """The locked contributions by round and place, each holding the
        round, group, place and member already loaded, so that no row or
        message loads them again."""
        places = {}
        for group_places in self.places.values():
            for place in group_places:
                place.member = users[place.member_id]
                places[place.pk] = place
        rounds = {r.pk: r for r in self.rounds.by_number.values()}
        groups = {g.pk: g for g in self.groups.groups.values()}
        for r in rounds.values():
            r.cycle.group = groups[r.group_id]
        for c in locked:
            c.round = rounds[c.round_id]
            c.membership = places[c.membership_id]
        return {(c.round_id, c.membership_id): c for c in locked}

    def get_instance(self, instance_loader, row):
        group = self.find_group(row)
        member = self.find_member(row)
        r = self.rounds.find(group, row)
        found = [
            self.contributions[(r.pk, place.pk)]
            for place in self.places.get((group.pk, member.pk), [])
            if (r.pk, place.pk) in self.contributions
        ]
        if not found:
            raise ValidationError(
                {
                    "member": f"{member} has no contribution in round {r.number} of "
                    f"{group.name}; they had no place in that cycle."
                }
            )
        # Limitation: a member with two places in one group ("two hands") is
        # refused here; a file has no column yet to say which place paid.
        if len(found) > 1:
            raise ValidationError(
                {
                    "member": f"{member} holds two places in {group.name}; record "
                    "their payments from the admin."
                }
            )
        return found[0]

    def init_instance(self, row=None):
        raise ValidationError(
            {NON_FIELD_ERRORS: "Contributions are created when a cycle starts."}
        )

    def import_instance(self, instance, row, **kwargs):
        readers = {
            "amount_paid": parsing.parse_amount,
            "paid_on": parsing.parse_date,
            "method": lambda v: parsing.parse_choice(
                v, PaymentMethod, "payment method"
            ),
            "status": lambda v: parsing.parse_choice(
                v, Contribution.Status, "contribution status"
            ),
            "reference": read_text,
        }
        values, errors = read_cells(row, readers)
        if len(values.get("reference", "")) > 100:
            errors["reference"] = ["The reference is longer than 100 characters."]
        if errors:
            raise ValidationError(errors)
        instance._import = self._plan(instance, values)

    def _plan(self, c: Contribution, values: dict) -> dict:
        """What a row pays on `c`: the file's total paid less what the books
        already show; raise ValidationError if the row cannot be true."""
        paid = values.get("amount_paid")
        if paid is None:
            raise ValidationError({"amount_paid": "The amount paid is missing."})
        self._check_amount(c, paid)
        paid_on = values.get("paid_on")
        self._check_paid_on(c, paid, paid_on)
        self._check_status(c, paid, values.get("status"))
        return {
            "amount": paid - c.amount_paid,
            "paid_on": paid_on,
            "method": values.get("method", PaymentMethod.CASH),
            "reference": values.get("reference", ""),
        }

    @staticmethod
    def _check_amount(c: Contribution, paid) -> None:
        money = c.group.money
        if paid > c.amount_due:
            raise ValidationError(
                {
                    "amount_paid": f"{money(paid)} is more than the "
                    f"{money(c.amount_due)} due for this round."
                }
            )
        if paid < c.amount_paid:
            raise ValidationError(
                {
                    "amount_paid": f"The books already show {money(c.amount_paid)} "
                    f"paid; an import cannot lower a payment. Correct it from the "
                    "admin."
                }
            )

    def _check_paid_on(self, c: Contribution, paid, paid_on) -> None:
        delta = paid - c.amount_paid
        if delta > 0 and paid_on is None:
            raise ValidationError({"paid_on": "Give the date the money was paid."})
        if paid_on and paid_on > self.today:
            raise ValidationError({"paid_on": f"{paid_on:%d/%m/%Y} is in the future."})
        if delta == 0 and paid > 0 and paid_on and paid_on != c.paid_on:
            raise ValidationError(
                {
                    "paid_on": f"The books show this paid on {c.paid_on:%d/%m/%Y}; "
                    "an import does not change a recorded payment."
                }
            )

    @staticmethod
    def _check_status(c: Contribution, paid, status) -> None:
        expected = (
            Contribution.Status.WAIVED
            if c.status == Contribution.Status.WAIVED
            else Contribution.Status.PAID
            if paid == c.amount_due
            else Contribution.Status.PENDING
        )
        if status and status != expected:
            money = c.group.money
            raise ValidationError(
                {
                    "status": f"The file says {status}, but {money(paid)} of "
                    f"{money(c.amount_due)} paid makes it {expected}."
                }
            )

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors:
            return False
        return instance._import["amount"] == ZERO

    def after_import_row(self, row, row_result, **kwargs):
        c = row_result.instance or getattr(self, "last", None)
        if row_result.import_type == RowResult.IMPORT_TYPE_UPDATE and c is not None:
            money = c.group.money
            owed = c.amount_due - c.amount_paid
            paid = money(c._import["amount"])
            self.note = (
                f"pays {paid}; paid in full"
                if owed == 0
                else f"pays {paid}; {money(owed)} still owed"
            )
        super().after_import_row(row, row_result, **kwargs)

    def do_instance_save(self, instance, is_create):
        plan = instance._import
        self.last = instance
        try:
            changed = self.batch.pay(
                instance,
                paid_on=plan["paid_on"],
                method=plan["method"],
                reference=plan["reference"],
                amount=plan["amount"],
            )
        except err.ThriftError as e:
            raise refusal(e, REFUSAL_COLUMNS) from None
        if not changed:
            raise ValidationError(
                {
                    "reference": f"The books already show a payment with reference "
                    f"{plan['reference']}; a further payment needs its own reference."
                }
            )

    def after_import(self, dataset, result, **kwargs):
        # Limitation: a preview checks every rule but skips this write, so a
        # database refusal (none is known) would show only on confirm.
        if not self.dry_run and not (
            result.has_errors() or result.has_validation_errors()
        ):
            self.batch.save()
        super().after_import(dataset, result, **kwargs)
