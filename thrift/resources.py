"""Spreadsheet columns of groups, places, contributions and payouts.

Each resource maps columns to records and converts values with
`thrift.parsing`; records are found by natural keys (a group by name, a
member by phone, email or username, a round by number or due date), never
by database ids. Rows that move money are saved through `thrift.services`.
A file with any error writes nothing (the admin and `import_file` roll the
whole file back); importing the same file again changes nothing.
"""

import datetime
import logging
import re
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from import_export import fields, resources, widgets
from import_export.results import Error, RowResult

from accounts.models import User
from accounts.validators import normalize_phone

from . import exceptions as err
from . import parsing, services
from .cells import escape_formula, unescape_formula
from .models import (
    Contribution,
    Cycle,
    FeeType,
    Frequency,
    GroupStatus,
    Membership,
    PaymentMethod,
    Payout,
    Round,
    ThriftGroup,
)
from .money import ZERO
from .spreadsheets import ImportResult, UnreadableFile, check_rows

logger = logging.getLogger(__name__)

# --- widgets: one kind of value each, parsed by thrift.parsing ----------


class TextWidget(widgets.Widget):
    def __init__(self, *, required: bool = False, max_length: int | None = None):
        super().__init__()
        self.required = required
        self.max_length = max_length

    def clean(self, value, row=None, **kwargs):
        text = unescape_formula(parsing.clean_text(value))
        if self.required and not text:
            raise ValueError("This cell is empty; it needs a value.")
        if self.max_length and len(text) > self.max_length:
            raise ValueError(
                f"{text[:20]}... is {len(text)} characters long; the most is "
                f"{self.max_length}."
            )
        return text

    def render(self, value, obj=None, **kwargs):
        return escape_formula("" if value is None else str(value))


class AmountWidget(widgets.Widget):
    def __init__(self, *, required: bool = True):
        super().__init__()
        self.required = required

    def clean(self, value, row=None, **kwargs):
        if not self.required and parsing.is_blank(value):
            return None
        return parsing.parse_amount(value)

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        # Money stays a number: a native Decimal in XLSX, plain digits in CSV.
        return value if kwargs.get("force_native_type") else f"{value:.2f}"


class DateWidget(widgets.Widget):
    def __init__(self, *, required: bool = True):
        super().__init__()
        self.required = required

    def clean(self, value, row=None, **kwargs):
        if not self.required and parsing.is_blank(value):
            return None
        return parsing.parse_date(value)

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        if isinstance(value, datetime.datetime):
            value = timezone.localdate(value)
        return value if kwargs.get("force_native_type") else value.isoformat()


class WholeNumberWidget(widgets.Widget):
    def __init__(self, *, required: bool = True):
        super().__init__()
        self.required = required

    def clean(self, value, row=None, **kwargs):
        if not self.required and parsing.is_blank(value):
            return None
        return parsing.parse_whole_number(value)

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return value if kwargs.get("force_native_type") else str(value)


class ChoiceWidget(widgets.Widget):
    def __init__(self, choices, what: str, *, blank: str | None = None):
        super().__init__()
        self.choices = choices
        self.what = what
        self.blank = blank

    def clean(self, value, row=None, **kwargs):
        if self.blank is not None and parsing.is_blank(value):
            return self.blank
        return parsing.parse_choice(value, self.choices, self.what)

    def render(self, value, obj=None, **kwargs):
        return value or ""


class YesNoWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return parsing.parse_yes_no(value)

    def render(self, value, obj=None, **kwargs):
        return "yes" if value else "no"


class PhoneWidget(widgets.Widget):
    """A phone in any form the product accepts; exported as 0805..., which
    needs no escaping and is how members write it."""

    def clean(self, value, row=None, **kwargs):
        text = parsing.phone_text(value)
        if not text:
            return None
        try:
            return normalize_phone(text)
        except ValidationError as e:
            raise ValueError(e.messages[0]) from None

    def render(self, value, obj=None, **kwargs):
        return local_phone(value)


def local_phone(value: str | None) -> str:
    if not value:
        return ""
    return "0" + value[4:] if value.startswith("+234") else value


NUMBER_WIDGETS = (AmountWidget, DateWidget, WholeNumberWidget)
# Digits and the separators people put in phone numbers, nothing else.
PHONE_LIKE = re.compile(r"[+\d\s\-().]+")


# --- finding members by a natural key ------------------------------------


class MemberFinder:
    """Members by phone (any accepted form), email or username, loaded with
    a few queries per file rather than one per row."""

    def __init__(self, values, *, usernames=()):
        phones, emails = set(), set()
        usernames = {parsing.clean_text(u) for u in usernames} - {""}
        for value in values:
            kind, key = self.key(value)
            {"phone": phones, "email": emails, "username": usernames}.get(
                kind, set()
            ).add(key)
        self.by_phone, self.by_email, self.by_username = {}, {}, {}
        query = Q(pk__in=[])
        if phones:
            query |= Q(phone__in=phones)
        if usernames:
            query |= Q(username__in=usernames)
        for user in User.objects.filter(query):
            if user.phone:
                self.by_phone[user.phone] = user
            self.by_username[user.username] = user
        emails = sorted(emails)
        for start in range(0, len(emails), 200):
            # Emails match in any case; OR-ed in chunks, not one query each.
            query = Q(pk__in=[])
            for email in emails[start : start + 200]:
                query |= Q(email__iexact=email)
            for user in User.objects.filter(query):
                self.by_email.setdefault(user.email.lower(), []).append(user)

    @staticmethod
    def key(value) -> tuple[str, str]:
        text = parsing.phone_text(value)
        if not text:
            return "blank", ""
        if "@" in text:
            return "email", text.lower()
        try:
            return "phone", normalize_phone(text)
        except ValidationError as e:
            if PHONE_LIKE.fullmatch(text):
                return "bad phone", e.messages[0]
            return "username", text

    def find(self, value) -> User:
        kind, key = self.key(value)
        if kind == "blank":
            raise ValueError("This cell is empty; give the member's phone or email.")
        if kind == "bad phone":
            raise ValueError(key)
        if kind == "phone":
            user = self.by_phone.get(key)
        elif kind == "email":
            found = self.by_email.get(key, [])
            if len(found) > 1:
                raise ValueError(
                    f"More than one member has the email {key}; use their phone."
                )
            user = found[0] if found else None
        else:
            user = self.by_username.get(key)
        if user is None:
            what = {"phone": "phone number", "email": "email"}.get(kind, "username")
            raise ValueError(
                f"No member has the {what} {parsing.clean_text(value)}. Import "
                "the member first, or check the number."
            )
        return user


# --- the common ground of every import file ------------------------------


class SpreadsheetResource(resources.ModelResource):
    """Columns by name (any case, spaces or underscores), a clear refusal of
    unknown, missing and password columns, errors keyed by column, and the
    importing user and file name on every history row."""

    #: Columns a file must have.
    required_columns: tuple[str, ...] = ()
    #: Other names people give a column, mapped to ours.
    column_aliases: dict[str, str] = {}
    #: Columns that are exported for reference and ignored on import.
    reference_columns: tuple[str, ...] = ()
    #: What the file holds, for messages ("a contributions file").
    file_kind = "file"

    def __init__(self, user: User | None = None, **kwargs):
        super().__init__(**kwargs)
        self.user = user
        self.route = "import"
        self.dry_run = True

    @classmethod
    def get_result_class(cls):
        return ImportResult

    @classmethod
    def get_row_result_class(cls):
        return NotedRowResult

    def before_import_row(self, row, **kwargs):
        self.note = ""

    def after_import_row(self, row, row_result, **kwargs):
        row_result.note = self.note

    def skip_row(self, instance, original, row, import_validation_errors=None):
        skip = super().skip_row(instance, original, row, import_validation_errors)
        if not skip and original is not None and original.pk is not None:
            changed = [
                f.column_name
                for f in self.get_import_fields()
                if not f.readonly and f.get_value(instance) != f.get_value(original)
            ]
            self.note = "changes " + ", ".join(changed)
        return skip

    def known_columns(self) -> list[str]:
        return [f.column_name for f in self.get_import_fields()]

    def import_columns(self) -> list[str]:
        return [c for c in self.known_columns() if c not in self.reference_columns]

    # Header checks happen before any row is read, so a wrong file is
    # refused whole with one message instead of an error on every row.
    def normalise_headers(self, dataset) -> None:
        known = self.known_columns()
        headers = []
        for header in dataset.headers:
            name = "_".join(parsing.clean_text(header).lower().split())
            name = self.column_aliases.get(name, name)
            headers.append(name)
        if "password" in headers:
            raise UnreadableFile(
                "The file has a password column. Passwords are never imported; "
                "members are created without one. Remove the column and upload "
                "the file again."
            )
        unknown = [
            parsing.clean_text(original) or f"(column {i + 1} has no name)"
            for i, (original, name) in enumerate(
                zip(dataset.headers, headers, strict=True)
            )
            if name not in known
        ]
        if unknown:
            raise UnreadableFile(
                f"Unknown column(s): {', '.join(unknown)}. The columns of "
                f"{self.file_kind} are: {', '.join(known)}."
            )
        repeated = sorted({h for h in headers if headers.count(h) > 1})
        if repeated:
            raise UnreadableFile(
                f"The column(s) {', '.join(repeated)} appear more than once."
            )
        missing = [c for c in self.required_columns if c not in headers]
        if missing:
            raise UnreadableFile(
                f"The file has no {', '.join(missing)} column. {self.file_kind} "
                f"needs the columns {', '.join(self.required_columns)} in the "
                "first row."
            )
        dataset.headers = headers

    def import_data(self, dataset, **kwargs):
        file_name = kwargs.get("file_name") or "file"
        user = kwargs.get("user") or self.user
        preview = kwargs.get("dry_run", False)
        logger.info(
            "import start resource=%s file=%s user=%s rows=%s preview=%s",
            type(self).__name__,
            file_name,
            getattr(user, "pk", None),
            len(dataset),
            preview,
        )
        try:
            if not dataset.headers:
                raise UnreadableFile("The file is empty.")
            check_rows(len(dataset))
            self.normalise_headers(dataset)
        except UnreadableFile as e:
            result = self.get_result_class()()
            result.total_rows = len(dataset)
            result.append_base_error(Error(e))
            logger.warning("import refused file=%s reason=%s", file_name, e)
            return result
        self.dry_run = preview
        result = self.import_rows(dataset, **kwargs)
        result.file_headers = list(dataset.headers)
        result.column_names = self.column_names()
        self.log_result(result, file_name)
        return result

    def import_rows(self, dataset, **kwargs):
        return super().import_data(dataset, **kwargs)

    def log_result(self, result, file_name: str) -> None:
        counts = result.counts()
        logger.info(
            "import end resource=%s file=%s new=%s updated=%s unchanged=%s errors=%s",
            type(self).__name__,
            file_name,
            counts["new"],
            counts["updated"],
            counts["unchanged"],
            counts["errors"],
        )
        if result.has_validation_errors() or result.has_errors():
            first = [row.number + 1 for row in result.invalid_rows[:10]]
            logger.warning("import invalid file=%s first_rows=%s", file_name, first)

    def column_names(self) -> dict[str, str]:
        """Error keys (model fields and columns) to the file's column names."""
        names = {}
        for field in self.fields.values():
            if field.attribute:
                names[field.attribute.split("__")[0]] = field.column_name
        names.update((f.column_name, f.column_name) for f in self.fields.values())
        return names

    def before_import(self, dataset, **kwargs):
        self.user = kwargs.get("user") or self.user
        if self.user is None:
            raise ValueError("An import needs the importing user.")
        file_name = kwargs.get("file_name") or "file"
        self.route = f"import: {file_name}"

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        for field in self.get_import_fields():
            if field.readonly or field.column_name not in row:
                continue
            try:
                self.import_field(field, instance, row, **kwargs)
            except ValueError as e:
                errors[field.column_name] = ValidationError(str(e))
        if errors:
            raise ValidationError(errors)

    def validate_instance(
        self, instance, import_validation_errors=None, validate_unique=True
    ):
        try:
            super().validate_instance(instance, import_validation_errors)
        except ValidationError as e:
            names = self.column_names()
            raise ValidationError(
                {names.get(key, key): value for key, value in e.error_dict.items()}
            ) from None

    def check_group(self, group: ThriftGroup, column: str = "group") -> None:
        """Coordinators import only into their own groups."""
        if not services.can_manage_group(self.user, group):
            raise ValidationError(
                {
                    column: f"{group.name} is run by another coordinator; you can "
                    "import only into your own groups."
                }
            )

    def save_m2m(self, instance, row, **kwargs):
        # No file of ours has many-to-many columns; the library would look
        # through every field of every row to find out.
        pass

    def stamp_save(self, instance) -> None:
        services.stamp(instance, self.user, self.route).save()

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        if isinstance(field.widget, NUMBER_WIDGETS):
            # "-500.00" in a CSV is a number, not a formula.
            return value
        return escape_formula(value)

    class Meta:
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        store_row_values = True
        use_bulk = False


class NotedRowResult(RowResult):
    """A row's outcome with a line for the preview saying what it does."""

    note = ""


def refusal(error: err.ThriftError, column: str = NON_FIELD_ERRORS):
    """A service's refusal as a row error under `column`."""
    return ValidationError({column: str(error)})


class GroupFinder:
    """Groups named in a file, found with one query, name in any case."""

    def __init__(self, names):
        wanted = {parsing.clean_text(n).lower() for n in names} - {""}
        self.groups = {}
        if wanted:
            for group in ThriftGroup.objects.select_related("coordinator"):
                if group.name.lower() in wanted:
                    self.groups[group.name.lower()] = group

    def find(self, value) -> ThriftGroup:
        name = parsing.clean_text(value)
        if not name:
            raise ValidationError({"group": "This cell is empty; name the group."})
        group = self.groups.get(name.lower())
        if group is None:
            raise ValidationError(
                {"group": f"There is no group called {name}. Check the spelling."}
            )
        return group


def column_values(dataset, column: str) -> list:
    if column not in (dataset.headers or []):
        return []
    return dataset[column]


# --- groups -------------------------------------------------------------


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

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.finder = GroupFinder(column_values(dataset, "name"))

    def get_instance(self, instance_loader, row):
        group = self.finder.groups.get(parsing.clean_text(row.get("name")).lower())
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
        if (
            "coordinator" not in errors
            and instance.coordinator_id
            and not self.user.is_superuser
            and instance.coordinator_id != self.user.pk
        ):
            errors["coordinator"] = [
                f"You can import only groups you coordinate; {instance.name} names "
                f"{instance.coordinator.username}."
            ]
        if errors:
            raise ValidationError(errors)

    def do_instance_save(self, instance, is_create):
        self.stamp_save(instance)


# --- places -------------------------------------------------------------


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

    class Meta(SpreadsheetResource.Meta):
        model = Membership
        fields = ("group", "member", "member_name", "position", "joined_on")
        clean_model_instances = False

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.groups = GroupFinder(column_values(dataset, "group"))
        self.members = MemberFinder(column_values(dataset, "member"))
        self.used: set[int] = set()

    def get_instance(self, instance_loader, row):
        group = self.groups.find(row.get("group"))
        self.check_group(group)
        try:
            member = self.members.find(row.get("member"))
        except ValueError as e:
            raise ValidationError({"member": str(e)}) from None
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


# --- rounds, by number or due date --------------------------------------


class RoundFinder:
    """Rounds of the open cycle of each group, or of its latest cycle."""

    def __init__(self, groups):
        groups = list(groups)
        self.cycles: dict[int, Cycle] = {}
        for cycle in Cycle.objects.filter(group__in=groups).order_by(
            "group_id", "number"
        ):
            current = self.cycles.get(cycle.group_id)
            if current is None or current.status != Cycle.Status.OPEN:
                self.cycles[cycle.group_id] = cycle
        self.by_number: dict[tuple[int, int], Round] = {}
        self.by_date: dict[tuple[int, datetime.date], Round] = {}
        rounds = Round.objects.filter(cycle__in=self.cycles.values()).select_related(
            "cycle"
        )
        for r in rounds:
            self.by_number[(r.cycle_id, r.number)] = r
            self.by_date[(r.cycle_id, r.due_date)] = r

    def find(self, group: ThriftGroup, row) -> Round:
        cycle = self.cycles.get(group.pk)
        if cycle is None:
            raise ValidationError(
                {"group": f"{group.name} has not started a cycle; it has no rounds."}
            )
        number = due = None
        errors = {}
        if not parsing.is_blank(row.get("round")):
            try:
                number = parsing.parse_whole_number(row["round"])
            except ValueError as e:
                errors["round"] = str(e)
        if not parsing.is_blank(row.get("due_date")):
            try:
                due = parsing.parse_date(row["due_date"])
            except ValueError as e:
                errors["due_date"] = str(e)
        if errors:
            raise ValidationError(errors)
        if number is None and due is None:
            raise ValidationError(
                {"round": "Give the round number or its due date to say which round."}
            )
        found = None
        if number is not None:
            found = self.by_number.get((cycle.pk, number))
            if found is None:
                raise ValidationError(
                    {
                        "round": f"{group.name} cycle {cycle.number} has no round {number}."
                    }
                )
        if due is not None:
            by_date = self.by_date.get((cycle.pk, due))
            if by_date is None:
                raise ValidationError(
                    {
                        "due_date": f"No round of {group.name} cycle {cycle.number} "
                        f"falls due on {due:%d/%m/%Y}."
                    }
                )
            if found is not None and by_date != found:
                raise ValidationError(
                    {
                        "due_date": f"Round {number} of {group.name} falls due on "
                        f"{found.due_date:%d/%m/%Y}, not {due:%d/%m/%Y}."
                    }
                )
            found = by_date
        return found


# --- contributions ------------------------------------------------------


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
        self.groups = GroupFinder(column_values(dataset, "group"))
        self.members = MemberFinder(column_values(dataset, "member"))
        self.rounds = RoundFinder(self.groups.groups.values())
        self.places = defaultdict(list)
        members = {u.pk for u in self.members.by_phone.values()}
        members |= {u.pk for u in self.members.by_username.values()}
        members |= {u.pk for users in self.members.by_email.values() for u in users}
        for place in Membership.objects.filter(
            group__in=self.groups.groups.values(), member__in=members
        ).order_by("pk"):
            self.places[(place.group_id, place.member_id)].append(place)
        wanted = Contribution.objects.filter(
            round__in=list(self.rounds.by_number.values()),
            membership__member__in=members,
        )
        self.batch = services.PaymentBatch(by=self.user, route=self.route)
        locked = self.batch.lock(wanted.values_list("pk", flat=True))
        # Attach what the rows and messages read from the look-ups already
        # made, rather than loading it again with every contribution.
        users = {u.pk: u for u in self.members.by_phone.values()}
        users.update((u.pk, u) for u in self.members.by_username.values())
        users.update((u.pk, u) for us in self.members.by_email.values() for u in us)
        places = {}
        for group_places in self.places.values():
            for place in group_places:
                place.member = users[place.member_id]
                places[place.pk] = place
        rounds = {r.pk: r for r in self.rounds.by_number.values()}
        groups = {g.pk: g for g in self.groups.groups.values()}
        for r in rounds.values():
            r.cycle.group = groups[r.group_id]
        for c in locked.values():
            c.round = rounds[c.round_id]
            c.membership = places[c.membership_id]
        self.contributions = {(c.round_id, c.membership_id): c for c in locked.values()}
        self.today = timezone.localdate()

    def get_instance(self, instance_loader, row):
        group = self.groups.find(row.get("group"))
        self.check_group(group)
        try:
            member = self.members.find(row.get("member"))
        except ValueError as e:
            raise ValidationError({"member": str(e)}) from None
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
        errors = {}
        values = {}
        readers = {
            "amount_paid": parsing.parse_amount,
            "paid_on": parsing.parse_date,
            "method": lambda v: parsing.parse_choice(
                v, PaymentMethod, "payment method"
            ),
            "status": lambda v: parsing.parse_choice(
                v, Contribution.Status, "contribution status"
            ),
            "reference": lambda v: unescape_formula(parsing.clean_text(v)),
        }
        for column, read in readers.items():
            if column in row and not parsing.is_blank(row[column]):
                try:
                    values[column] = read(row[column])
                except ValueError as e:
                    errors[column] = [str(e)]
        if len(values.get("reference", "")) > 100:
            errors["reference"] = ["The reference is longer than 100 characters."]
        if errors:
            raise ValidationError(errors)
        instance._import = self._plan(instance, values)

    def _plan(self, c: Contribution, values: dict) -> dict:
        paid = values["amount_paid"] if "amount_paid" in values else None
        if paid is None:
            raise ValidationError({"amount_paid": "The amount paid is missing."})
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
        delta = paid - c.amount_paid
        paid_on = values.get("paid_on")
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
        expected = (
            Contribution.Status.WAIVED
            if c.status == Contribution.Status.WAIVED
            else Contribution.Status.PAID
            if paid == c.amount_due
            else Contribution.Status.PENDING
        )
        status = values.get("status")
        if status and status != expected:
            raise ValidationError(
                {
                    "status": f"The file says {status}, but {money(paid)} of "
                    f"{money(c.amount_due)} paid makes it {expected}."
                }
            )
        return {
            "amount": delta,
            "paid_on": paid_on,
            "method": values.get("method", PaymentMethod.CASH),
            "reference": values.get("reference", ""),
        }

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
            column = {
                err.NotAllowed: "group",
                err.ContributionWaived: "status",
                err.InvalidPayment: "amount_paid",
                err.Overpayment: "amount_paid",
            }.get(type(e), NON_FIELD_ERRORS)
            raise refusal(e, column) from None
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


# --- payouts ------------------------------------------------------------


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

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.groups = GroupFinder(column_values(dataset, "group"))
        self.members = MemberFinder(column_values(dataset, "member"))
        self.rounds = RoundFinder(self.groups.groups.values())

    def get_instance(self, instance_loader, row):
        group = self.groups.find(row.get("group"))
        self.check_group(group)
        r = self.rounds.find(group, row)
        self.round = Round.objects.select_related(
            "group", "cycle", "recipient__member"
        ).get(pk=r.pk)
        return Payout.objects.filter(round=r).select_related("membership").first()

    def init_instance(self, row=None):
        return Payout(round=self.round, group=self.round.group)

    def import_instance(self, instance, row, **kwargs):
        r = self.round
        errors = {}
        values = {}
        readers = {
            "paid_on": parsing.parse_date,
            "amount": parsing.parse_amount,
            "reference": lambda v: unescape_formula(parsing.clean_text(v)),
            "override_reason": lambda v: unescape_formula(parsing.clean_text(v)),
        }
        for column, read in readers.items():
            if column in row and not parsing.is_blank(row[column]):
                try:
                    values[column] = read(row[column])
                except ValueError as e:
                    errors[column] = [str(e)]
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
            quote = services.quote_payout(r)
            if quote.amount != values["amount"]:
                raise ValidationError(
                    {
                        "amount": f"The pot less the service fee is "
                        f"{r.group.money(quote.amount)}, but the file says "
                        f"{r.group.money(values['amount'])}."
                    }
                )
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
            column = {
                err.NotAllowed: "group",
                err.PayoutExists: "round",
                err.AlreadyCollected: "member",
                err.OutstandingContributions: "override_reason",
            }.get(type(e), NON_FIELD_ERRORS)
            raise refusal(e, column) from None
        for f in Payout._meta.concrete_fields:
            setattr(instance, f.attname, getattr(payout, f.attname))
        instance._state.adding = False
        money = r.group.money
        self.note = (
            f"pays out {money(payout.amount)} to {r.recipient.member} (pot "
            f"{money(payout.pot)} less {money(payout.fee)} fee)"
        )
