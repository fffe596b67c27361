"""The common ground of every import file.

`SpreadsheetResource` reads columns by name, refuses a wrong file whole
before any row, keys each error by the file's column, loads the records a
file names once (see `finders`), and puts the importing user and file name
on every history row. Rows that move money are saved through
`thrift.services`; the resources only map and convert columns.
"""

import logging
from collections.abc import Callable

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from import_export import resources
from import_export.results import Error, RowResult

from accounts.models import User

from .. import exceptions as err
from .. import parsing, services
from ..cells import escape_formula
from ..models import ThriftGroup
from ..spreadsheets import ImportResult, UnreadableFile, check_rows
from .finders import GroupFinder, MemberFinder, RoundFinder, column_values
from .widgets import NUMBER_WIDGETS

logger = logging.getLogger(__name__)


class NotedRowResult(RowResult):
    """A row's outcome with a line for the preview saying what it does."""

    note = ""


def refusal(
    error: err.ThriftError, column: str | dict[type, str] = NON_FIELD_ERRORS
) -> ValidationError:
    """A service's refusal as a row error under `column`, or under the
    column that `column` maps the refusal's class to."""
    if isinstance(column, dict):
        column = column.get(type(error), NON_FIELD_ERRORS)
    return ValidationError({column: str(error)})


def read_cells(row, readers: dict[str, Callable]) -> tuple[dict, dict]:
    """The non-blank cells of `row` that `readers` names, each read by its
    reader, and the errors, both by column."""
    values, errors = {}, {}
    for column, read in readers.items():
        if column in row and not parsing.is_blank(row[column]):
            try:
                values[column] = read(row[column])
            except ValueError as e:
                errors[column] = [str(e)]
    return values, errors


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
    #: Records the rows name, loaded before the first row: any of "groups"
    #: (by `group_column`), "members" (by the member column) and "rounds"
    #: (of those groups), set as attributes of the same names.
    finders: tuple[str, ...] = ()
    #: The column naming a row's group.
    group_column = "group"

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
        headers = [self.our_column(header) for header in dataset.headers]
        if "password" in headers:
            raise UnreadableFile(
                "The file has a password column. Passwords are never imported; "
                "members are created without one. Remove the column and upload "
                "the file again."
            )
        self.check_unknown(dataset.headers, headers)
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

    def our_column(self, header) -> str:
        """Our name for a header as typed: any case, spaces or underscores,
        or another name people give the column."""
        name = "_".join(parsing.clean_text(header).lower().split())
        return self.column_aliases.get(name, name)

    def check_unknown(self, originals: list, headers: list[str]) -> None:
        known = self.known_columns()
        unknown = [
            parsing.clean_text(original) or f"(column {i + 1} has no name)"
            for i, (original, name) in enumerate(zip(originals, headers, strict=True))
            if name not in known
        ]
        if unknown:
            raise UnreadableFile(
                f"Unknown column(s): {', '.join(unknown)}. The columns of "
                f"{self.file_kind} are: {', '.join(known)}."
            )

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
        self.load_finders(dataset)

    # --- the records a file names, loaded once --------------------------

    def load_finders(self, dataset) -> None:
        """Load the groups, members and rounds that `finders` asks for, with
        a few queries for the whole file."""
        if "groups" in self.finders or "rounds" in self.finders:
            self.groups = GroupFinder(column_values(dataset, self.group_column))
        if "members" in self.finders:
            self.members = MemberFinder(column_values(dataset, "member"))
        if "rounds" in self.finders:
            self.rounds = RoundFinder(self.groups.groups.values())

    def find_group(self, row) -> ThriftGroup:
        """The row's group, if the importing user may import into it."""
        group = self.groups.find(row.get(self.group_column))
        self.check_group(group, self.group_column)
        return group

    def find_member(self, row) -> User:
        """The member the row names, else an error under "member"."""
        try:
            return self.members.find(row.get("member"))
        except ValueError as e:
            raise ValidationError({"member": str(e)}) from None

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
