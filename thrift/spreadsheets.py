"""Spreadsheet files in and out of the admin: reading CSV and XLSX files
people really have, the size limits, the import result shown to staff, and
the admin mixin that puts import and export on a changelist."""

import csv
import io
import logging
import zipfile

import tablib
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpResponseRedirect
from django.urls import reverse
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.forms import ImportForm
from import_export.results import Result, RowResult

logger = logging.getLogger(__name__)

# Rows shown in the preview table; the counts always cover the whole file.
PREVIEW_ROWS = 500
# Errors listed on the page; the count always covers the whole file.
SHOWN_ERRORS = 1000

FILE_HELP = "Save the sheet from your spreadsheet program as CSV or Excel (.xlsx)."


class UnreadableFile(Exception):
    """The file as a whole cannot be imported; the message says why."""


def _mib(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def check_size(size: int) -> None:
    """Refuse a file over THRIFT_IMPORT_MAX_BYTES."""
    limit = settings.THRIFT_IMPORT_MAX_BYTES
    if size > limit:
        raise UnreadableFile(
            f"The file is {_mib(size)}; the largest file we import is "
            f"{_mib(limit)}. Split it into smaller files."
        )


def check_rows(count: int) -> None:
    """Refuse a file with more data rows than THRIFT_IMPORT_MAX_ROWS."""
    limit = settings.THRIFT_IMPORT_MAX_ROWS
    if count > limit:
        raise UnreadableFile(
            f"The file has more than {limit:,} rows; the most we import at once "
            f"is {limit:,}. Split it into smaller files."
        )


def _trimmed(rows: list[list]) -> list[list]:
    # Spreadsheets often save empty lines after the data; they are not rows.
    while rows and all(v is None or str(v).strip() == "" for v in rows[-1]):
        rows.pop()
    return rows


def _dataset(header: list, rows: list[list]) -> tablib.Dataset:
    if not header or all(h is None or str(h).strip() == "" for h in header):
        raise UnreadableFile(f"The file is empty. {FILE_HELP}")
    rows = _trimmed(rows)
    if not rows:
        raise UnreadableFile(
            "The file has a header row but no data rows under it; there is "
            "nothing to import."
        )
    check_rows(len(rows))
    width = len(header)
    dataset = tablib.Dataset(headers=[("" if h is None else str(h)) for h in header])
    for number, row in enumerate(rows, start=2):
        extra = row[width:]
        if any(v is not None and str(v).strip() != "" for v in extra):
            raise UnreadableFile(
                f"Row {number} has more cells than the header row has columns. "
                "Give every column a name in the first row."
            )
        row = list(row[:width])
        dataset.append(row + [""] * (width - len(row)))
    return dataset


def decode_text(data: bytes) -> str:
    """Decode a CSV file: UTF-8 (with or without a byte-order mark), else
    Windows-1252, which is what Excel saves as "CSV" on Windows."""
    if data.startswith(b"PK\x03\x04"):
        raise UnreadableFile(
            "This is an Excel workbook, not a CSV file. Choose the xlsx format."
        )
    if b"\x00" in data[:8192]:
        raise UnreadableFile(f"This is not a CSV text file. {FILE_HELP}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise UnreadableFile(
            f"The file's characters are neither UTF-8 nor Windows-1252. {FILE_HELP}"
        ) from None


class CSVFile(base_formats.CSV):
    """CSV in UTF-8, UTF-8 with BOM or Windows-1252; read as bytes so the
    encoding can be detected rather than assumed."""

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, str):
            in_stream = in_stream.encode("utf-8")
        check_size(len(in_stream))
        text = decode_text(in_stream)
        try:
            rows = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error as e:
            raise UnreadableFile(f"The CSV file is damaged ({e}). {FILE_HELP}") from e
        if not rows:
            raise UnreadableFile(f"The file is empty. {FILE_HELP}")
        return _dataset(rows[0], rows[1:])

    def export_data(self, dataset, **kwargs):
        # The byte-order mark makes Excel read ₦ and accented names right.
        return "\ufeff" + dataset.export("csv")


class XLSXFile(base_formats.XLSX):
    """The first sheet of an .xlsx workbook, with its real number and date
    cells."""

    def create_dataset(self, in_stream):
        import openpyxl

        check_size(len(in_stream))
        try:
            book = openpyxl.load_workbook(
                io.BytesIO(in_stream), read_only=True, data_only=True
            )
            sheet = book.worksheets[0]
            limit = settings.THRIFT_IMPORT_MAX_ROWS
            rows = []
            for row in sheet.iter_rows(values_only=True):
                rows.append(list(row))
                if len(rows) > limit + 1 and any(v is not None for v in row):
                    break
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError) as e:
            raise UnreadableFile(
                f"This is not an Excel .xlsx workbook we can open. {FILE_HELP}"
            ) from e
        finally:
            if "book" in locals():
                book.close()
        if not rows:
            raise UnreadableFile(f"The file is empty. {FILE_HELP}")
        return _dataset(rows[0], rows[1:])


IMPORT_FORMATS = [CSVFile, XLSXFile]
# Export uses the library's XLSX class itself: it is the one that gets
# native numbers and dates from the widgets.
EXPORT_FORMATS = [CSVFile, base_formats.XLSX]


class ImportResult(Result):
    """An import's outcome with what the preview page shows."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.file_headers: list[str] = []
        self.column_names: dict[str, str] = {}

    def error_messages(self) -> list[str]:
        """Every problem as one line: the spreadsheet row (the header is
        row 1), the column and the reason."""
        lines = [str(error.error) for error in self.base_errors]
        for number, errors in self.row_errors():
            for error in errors:
                lines.append(f"Row {number + 1}: {error.error}")
        for row in self.invalid_rows:
            for key, reasons in row.error_dict.items():
                column = self.column_names.get(key, key)
                where = f"Row {row.number + 1}"
                if key != NON_FIELD_ERRORS:
                    where += f", column {column}"
                for reason in reasons:
                    lines.append(f"{where}: {reason}")
        return lines

    def shown_errors(self) -> list[str]:
        return self.error_messages()[:SHOWN_ERRORS]

    def error_count(self) -> int:
        return len(self.base_errors) + len(self.invalid_rows) + len(self.row_errors())

    def preview_rows(self) -> list[RowResult]:
        return self.rows[:PREVIEW_ROWS]

    def preview_values(self):
        for row in self.preview_rows():
            values = [row.row_values.get(h, "") for h in self.file_headers]
            yield row, ["" if v is None else v for v in values]

    def counts(self) -> dict[str, int]:
        return {
            "new": self.totals[RowResult.IMPORT_TYPE_NEW],
            "updated": self.totals[RowResult.IMPORT_TYPE_UPDATE],
            "unchanged": self.totals[RowResult.IMPORT_TYPE_SKIP],
            "errors": self.totals[RowResult.IMPORT_TYPE_INVALID]
            + self.totals[RowResult.IMPORT_TYPE_ERROR],
        }


class SpreadsheetImportForm(ImportForm):
    """The upload step: refuses an empty or oversized file before reading."""

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        try:
            check_size(upload.size)
        except UnreadableFile as e:
            raise forms.ValidationError(str(e)) from None
        return upload


class SpreadsheetAdminMixin(ImportExportMixin):
    """Import (preview, then confirm) and export on a changelist.

    Resources get the acting user; a confirmed import that meets an error
    is rolled back whole, as the preview would have been.
    """

    import_form_class = SpreadsheetImportForm
    import_template_name = "admin/thrift/import.html"
    import_formats = IMPORT_FORMATS
    export_formats = EXPORT_FORMATS
    import_error_display = ("message",)

    def get_import_context_data(self, **kwargs):
        context = super().get_import_context_data(**kwargs)
        # Shown on every step, also after a refused upload.
        context["import_columns"] = [
            resource().import_columns() for resource in self.resource_classes
        ]
        return context

    def has_import_permission(self, request):
        opts = self.opts
        return request.user.has_perm(
            f"{opts.app_label}.add_{opts.model_name}"
        ) or request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def get_resource_kwargs(self, request, *args, **kwargs):
        return {"user": request.user}

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs.pop("request", None)
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, UnreadableFile):
            form.add_error("import_file", str(e))
        else:
            logger.warning("import unreadable file error=%s", type(e).__name__)
            form.add_error(
                "import_file",
                f"We could not read this file. Check that the format matches the "
                f"file. {FILE_HELP}",
            )

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            shown = result.error_messages()[:5]
            messages.error(
                request,
                "Nothing was imported: "
                + "; ".join(shown)
                + (" ..." if result.error_count() > len(shown) else ""),
            )
            url = reverse(
                "admin:{}_{}_import".format(*self.get_model_info()),
                current_app=self.admin_site.name,
            )
            return HttpResponseRedirect(url)
        return super().process_result(result, request)

    def add_success_message(self, result, request):
        counts = result.counts()
        messages.success(
            request,
            f"Import finished: {counts['new']} new, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged {self.opts.verbose_name_plural}.",
        )
