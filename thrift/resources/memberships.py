"""Spreadsheet columns of places: which member holds which place in which
group, and in what payout order.

A new place is made with `services.join_group`; an existing place changes
only its position and joining date, and its position only while no cycle
is running.
"""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from import_export import fields

from .. import exceptions as err
from .. import parsing, services
from ..models import Cycle, Membership
from .base import SpreadsheetResource, refusal
from .widgets import DateWidget, PhoneWidget, TextWidget, WholeNumberWidget


class MembershipResource(SpreadsheetResource):
    group = fields.Field("group__name", "group", TextWidget(required=True))
    member = fields.Field("member__phone", "member", PhoneWidget())
    position = fields.Field("position", "position", WholeNumberWidget(required=False))
    joined_on = fields.Field("joined_at", "joined_on", DateWidget(required=False))
    member_name = fields.Field("member", "member_name", TextWidget(), readonly=True)

    required_columns = ("group", "member")
    column_aliases = {"phone": "member", "email": "member", "username": "member"}
    reference_columns = ("member_name",)
    file_kind = "a memberships file"
    finders = ("groups", "members")

    class Meta(SpreadsheetResource.Meta):
        model = Membership
        fields = ("group", "member", "member_name", "position", "joined_on")
        clean_model_instances = False

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.used: set[int] = set()

    def get_instance(self, instance_loader, row):
        group = self.find_group(row)
        member = self.find_member(row)
        position = None
        if not parsing.is_blank(row.get("position")):
            try:
                position = parsing.parse_whole_number(row["position"])
            except ValueError as e:
                raise ValidationError({"position": str(e)}) from None
        places = list(
            group.memberships.filter(member=member, left_at__isnull=True).order_by("pk")
        )
        # Each row takes one place not yet taken by an earlier row, so a file
        # giving one member two places ("two hands") imports again unchanged.
        for place in places:
            if position is not None and place.position == position:
                self.used.add(place.pk)
                return place
        free = [place for place in places if place.pk not in self.used]
        if free and (position is None or not group.allow_multiple_places):
            self.used.add(free[0].pk)
            return free[0]
        self.new_place = (group, member)
        return None

    def init_instance(self, row=None):
        group, member = self.new_place
        return Membership(group=group, member=member)

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        # A blank position leaves a place as it is (or unplaced, if new).
        if "position" in row and not parsing.is_blank(row["position"]):
            try:
                instance.position = parsing.parse_whole_number(row["position"])
            except ValueError as e:
                errors["position"] = [str(e)]
        if "joined_on" in row and not parsing.is_blank(row["joined_on"]):
            try:
                joined_on = parsing.parse_date(row["joined_on"])
            except ValueError as e:
                errors["joined_on"] = [str(e)]
            else:
                if timezone.localdate(instance.joined_at) != joined_on:
                    instance.joined_at = timezone.make_aware(
                        datetime.datetime.combine(joined_on, datetime.time(9))
                    )
        if errors:
            raise ValidationError(errors)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if instance.pk is None or import_validation_errors:
            return False
        saved = Membership.objects.get(pk=instance.pk)
        return (
            saved.position == instance.position
            and saved.joined_at == instance.joined_at
        )

    def do_instance_save(self, instance, is_create):
        try:
            if is_create:
                place = services.join_group(
                    instance.group,
                    instance.member,
                    by=self.user,
                    route=self.route,
                    position=instance.position,
                )
                instance.pk = place.pk
                instance._state.adding = False
                self.used.add(place.pk)
                if instance.joined_at != place.joined_at:
                    self.stamp_save(instance)
                return
            self._update_place(instance)
        except err.ThriftError as e:
            raise refusal(e, "position") from None

    def _update_place(self, instance) -> None:
        group = instance.group
        saved = Membership.objects.get(pk=instance.pk)
        if saved.position != instance.position:
            if group.cycles.filter(status=Cycle.Status.OPEN).exists():
                raise ValidationError(
                    {
                        "position": f"{group.name} has a cycle running, so its payout "
                        "order is fixed; swap positions from the admin instead."
                    }
                )
            taken = group.memberships.filter(position=instance.position).exclude(
                pk=instance.pk
            )
            if instance.position is not None and taken.exists():
                raise ValidationError(
                    {
                        "position": f"Position {instance.position} in {group.name} "
                        "is already taken."
                    }
                )
        self.stamp_save(instance)
