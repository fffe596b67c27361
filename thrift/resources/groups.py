"""Spreadsheet columns of groups.

A group is found by its name, in any case; the name is never changed by a
file. Coordinators import only groups they coordinate themselves.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from import_export import fields, widgets

from accounts.models import User

from .. import parsing
from ..models import FeeType, Frequency, GroupStatus, ThriftGroup
from .base import SpreadsheetResource
from .finders import MemberFinder
from .widgets import AmountWidget, ChoiceWidget, DateWidget, TextWidget, YesNoWidget


class StaffWidget(widgets.Widget):
    """A coordinator by username, email or phone."""

    def clean(self, value, row=None, **kwargs):
        text = parsing.clean_text(value)
        if not text:
            raise ValueError("This cell is empty; give the coordinator's username.")
        kind, key = MemberFinder.key(value)
        query = {
            "phone": Q(phone=key),
            "email": Q(email__iexact=key),
        }.get(kind, Q(username=text))
        found = list(User.objects.filter(query, is_staff=True)[:2])
        if len(found) != 1:
            raise ValueError(f"No staff user {text} can coordinate a group.")
        return found[0]

    def render(self, value, obj=None, **kwargs):
        return value.username if value else ""


class ThriftGroupResource(SpreadsheetResource):
    name = fields.Field("name", "name", TextWidget(required=True, max_length=120))
    contribution_amount = fields.Field(
        "contribution_amount", "contribution_amount", AmountWidget()
    )
    currency = fields.Field("currency", "currency", TextWidget(max_length=3))
    frequency = fields.Field(
        "frequency", "frequency", ChoiceWidget(Frequency, "frequency")
    )
    start_date = fields.Field("start_date", "start_date", DateWidget())
    coordinator = fields.Field("coordinator", "coordinator", StaffWidget())
    fee_type = fields.Field(
        "fee_type", "fee_type", ChoiceWidget(FeeType, "service fee type", blank="none")
    )
    fee_value = fields.Field("fee_value", "fee_value", AmountWidget())
    allow_multiple_places = fields.Field(
        "allow_multiple_places", "allow_multiple_places", YesNoWidget()
    )
    # Status follows from starting and closing cycles; read only to check it.
    status = fields.Field("status", "status", readonly=True)

    required_columns = (
        "name",
        "contribution_amount",
        "frequency",
        "start_date",
        "coordinator",
    )
    reference_columns = ("status",)
    file_kind = "a groups file"
    finders = ("groups",)
    group_column = "name"

    class Meta(SpreadsheetResource.Meta):
        model = ThriftGroup
        fields = (
            "name",
            "contribution_amount",
            "currency",
            "frequency",
            "start_date",
            "coordinator",
            "fee_type",
            "fee_value",
            "allow_multiple_places",
            "status",
        )
        import_id_fields = ("name",)

    def get_instance(self, instance_loader, row):
        group = self.groups.get(row.get("name"))
        if group is not None:
            self.check_group(group, "name")
        return group

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        if "status" in row and not parsing.is_blank(row["status"]):
            try:
                parsing.parse_choice(row["status"], GroupStatus, "group status")
            except ValueError as e:
                errors["status"] = [str(e)]
        if instance.pk is not None:
            # The name is how the row found the group (in any case); it is
            # not renamed by the file.
            row = {**row, "name": instance.name}
        no_fee = parsing.clean_text(row.get("fee_type")).lower() in {"", "none"}
        if no_fee and parsing.is_blank(row.get("fee_value")):
            row = {**row, "fee_value": "0"}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as e:
            errors.update(e.message_dict)
        if not errors and not instance.currency:
            instance.currency = settings.THRIFT_DEFAULT_CURRENCY
        if instance.currency:
            instance.currency = instance.currency.upper()
        if "coordinator" not in errors:
            errors.update(self._coordinator_errors(instance))
        if errors:
            raise ValidationError(errors)

    def _coordinator_errors(self, group: ThriftGroup) -> dict:
        if (
            not group.coordinator_id
            or self.user.is_superuser
            or group.coordinator_id == self.user.pk
        ):
            return {}
        return {
            "coordinator": [
                f"You can import only groups you coordinate; {group.name} names "
                f"{group.coordinator.username}."
            ]
        }

    def do_instance_save(self, instance, is_create):
        self.stamp_save(instance)
