"""CSV and XLSX downloads of the reports.

Money goes into a spreadsheet as a number with a number format, never as
text, so that a treasurer can add it up. Text that a spreadsheet would read
as a formula (a member named "=HYPERLINK(...)") is written with a leading
apostrophe, in both formats.
"""

import csv
import datetime
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOLD = Font(bold=True)


def safe_text(value: str) -> str:
    """`value`, made inert if a spreadsheet would run it as a formula."""
    if value and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def cell_value(value):
    """What goes into a cell: numbers and dates as themselves, text made safe."""
    if value is None:
        return None
    if isinstance(value, bool | int | Decimal | datetime.date):
        return value
    return safe_text(str(value))


@dataclass
class Column:
    title: str
    money: bool = False
    width: int = 14


def write_table(sheet, columns: Sequence[Column], rows: Iterable[Sequence], start=1):
    """Write a header row and `rows` from row `start`; return the next row."""
    for i, column in enumerate(columns, start=1):
        cell = sheet.cell(row=start, column=i, value=column.title)
        cell.font = BOLD
        sheet.column_dimensions[get_column_letter(i)].width = column.width
    row_number = start
    for row_number, row in enumerate(rows, start=start + 1):
        for i, (column, value) in enumerate(zip(columns, row, strict=True), start=1):
            cell = sheet.cell(row=row_number, column=i, value=cell_value(value))
            if column.money:
                cell.number_format = MONEY_FORMAT
            elif isinstance(value, datetime.date):
                cell.number_format = DATE_FORMAT
    return row_number + 1


def xlsx_response(workbook: Workbook, filename: str) -> HttpResponse:
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def table_xlsx(
    filename: str,
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence],
    totals: Sequence | None = None,
) -> HttpResponse:
    """One sheet: a title line, the table and an optional totals row."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = filename[:31]
    sheet.cell(row=1, column=1, value=safe_text(title)).font = Font(bold=True, size=13)
    next_row = write_table(sheet, columns, rows, start=3)
    if totals is not None:
        for i, (column, value) in enumerate(zip(columns, totals, strict=True), 1):
            cell = sheet.cell(row=next_row, column=i, value=cell_value(value))
            cell.font = BOLD
            if column.money:
                cell.number_format = MONEY_FORMAT
    sheet.freeze_panes = "A4"
    return xlsx_response(workbook, filename)


def table_csv(
    filename: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence],
    totals: Sequence | None = None,
) -> HttpResponse:
    """The same table as CSV: money as plain 1234.50, text made safe."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response.write("\ufeff")  # so that Excel reads UTF-8 names and ₦
    writer = csv.writer(response)
    writer.writerow([column.title for column in columns])
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
    if totals is not None:
        writer.writerow([_csv_value(value) for value in totals])
    return response


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal | int | datetime.date):
        return str(value)
    return safe_text(str(value))


FILLS = {
    "paid": PatternFill("solid", fgColor="C6EFCE"),
    "part-paid": PatternFill("solid", fgColor="FFEB9C"),
    "overdue": PatternFill("solid", fgColor="FFC7CE"),
    "waived": PatternFill("solid", fgColor="D9D9D9"),
    "pending": None,
}
CENTRE = Alignment(horizontal="center")
