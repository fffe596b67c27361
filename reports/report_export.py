"""CSV and XLSX downloads of the reports.

Money goes into a spreadsheet as a number with a number format, never as
text, so that a treasurer can add it up. Text that a spreadsheet would read
as a formula (a member named "=HYPERLINK(...)") is written with a leading
apostrophe, in both formats (see `thrift.cells`).
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

from thrift.cells import escape_formula
from thrift.money import format_money

from .queries import LedgerCard

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOLD = Font(bold=True)


def cell_value(value):
    """What goes into a cell: numbers and dates as themselves, text made safe."""
    if value is None:
        return None
    if isinstance(value, bool | int | Decimal | datetime.date):
        return value
    return escape_formula(str(value))


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
    sheet.cell(row=1, column=1, value=escape_formula(title)).font = Font(
        bold=True, size=13
    )
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
    return escape_formula(str(value))


FILLS = {
    "paid": PatternFill("solid", fgColor="C6EFCE"),
    "part-paid": PatternFill("solid", fgColor="FFEB9C"),
    "overdue": PatternFill("solid", fgColor="FFC7CE"),
    "waived": PatternFill("solid", fgColor="D9D9D9"),
    "pending": None,
}
CENTRE = Alignment(horizontal="center")


# --- the ledger card ------------------------------------------------------

LEDGER_HEADER_ROW = 4
LEDGER_FIRST_ROUND_COLUMN = 3
KEY = ("paid", "part-paid", "overdue", "waived", "pending")


def ledger_xlsx(card: LedgerCard) -> HttpResponse:
    """The card as one sheet set up for A4 landscape: a cell per place and
    round holding what was paid (coloured by state), totals per row and per
    round, then the payouts and who collected."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"Cycle {card.cycle.number}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True

    _ledger_title(sheet, card)
    _ledger_header(sheet, card)
    last = _ledger_places(sheet, card)
    _ledger_rounds(sheet, card, last + 1)
    sheet.freeze_panes = sheet.cell(
        row=LEDGER_HEADER_ROW + 1, column=LEDGER_FIRST_ROUND_COLUMN
    )
    return xlsx_response(workbook, f"ledger-{card.group.pk}-cycle-{card.cycle.number}")


def _money_cell(sheet, row: int, column: int, value, bold: bool = False):
    cell = sheet.cell(row=row, column=column, value=value)
    cell.number_format = MONEY_FORMAT
    if bold:
        cell.font = BOLD
    return cell


def _ledger_title(sheet, card: LedgerCard) -> None:
    group = card.group
    title = f"{group.name}: ledger card, cycle {card.cycle.number}"
    sheet.cell(row=1, column=1, value=escape_formula(title)).font = Font(
        bold=True, size=13
    )
    sheet.cell(
        row=2,
        column=1,
        value=f"{group.get_frequency_display()}, "
        f"{format_money(group.contribution_amount, group.currency)} a place; "
        f"as of {card.today:%d %b %Y}; amounts in {group.currency}",
    )


def _ledger_header(sheet, card: LedgerCard) -> None:
    heads = ["#", "Member"]
    heads += [f"R{col.round.number} {col.round.due_date:%d %b}" for col in card.columns]
    heads += ["Paid", "Arrears"]
    for i, text in enumerate(heads, start=1):
        cell = sheet.cell(row=LEDGER_HEADER_ROW, column=i, value=text)
        cell.font = BOLD
        cell.alignment = CENTRE
        sheet.column_dimensions[get_column_letter(i)].width = 13
    sheet.column_dimensions["A"].width = 5
    sheet.column_dimensions["B"].width = 26


def _ledger_places(sheet, card: LedgerCard) -> int:
    """One row per place; return the last row written."""
    r = LEDGER_HEADER_ROW
    totals_column = LEDGER_FIRST_ROUND_COLUMN + len(card.columns)
    for r, row in enumerate(card.rows, start=LEDGER_HEADER_ROW + 1):
        name = str(row.membership.member) + (" (left)" if row.has_left else "")
        sheet.cell(row=r, column=1, value=row.position)
        sheet.cell(row=r, column=2, value=cell_value(name))
        for i, ledger_cell in enumerate(row.cells, start=LEDGER_FIRST_ROUND_COLUMN):
            if ledger_cell is None:
                continue
            if ledger_cell.state == "waived":
                cell = sheet.cell(row=r, column=i, value="waived")
                cell.alignment = CENTRE
            else:
                cell = _money_cell(sheet, r, i, ledger_cell.contribution.amount_paid)
            if FILLS[ledger_cell.state] is not None:
                cell.fill = FILLS[ledger_cell.state]
        _money_cell(sheet, r, totals_column, row.paid, bold=True)
        _money_cell(sheet, r, totals_column + 1, row.arrears, bold=True)
    return r


def _ledger_rounds(sheet, card: LedgerCard, first: int) -> None:
    """Paid in per round, the payouts and who collected, then the key."""
    paid_row, payout_row, who_row = first, first + 1, first + 2
    for row, label in ((paid_row, "Paid in"), (payout_row, "Paid out")):
        sheet.cell(row=row, column=2, value=label).font = BOLD
    sheet.cell(row=who_row, column=2, value="Collected by").font = BOLD
    for i, col in enumerate(card.columns, start=LEDGER_FIRST_ROUND_COLUMN):
        _money_cell(sheet, paid_row, i, col.paid, bold=True)
        if col.payout is not None:
            _money_cell(sheet, payout_row, i, col.payout.amount)
            who = f"{col.payout.membership.member}, {col.payout.paid_on:%d %b}"
        else:
            who = col.round.get_status_display().lower()
        sheet.cell(row=who_row, column=i, value=cell_value(who))
    totals_column = LEDGER_FIRST_ROUND_COLUMN + len(card.columns)
    _money_cell(sheet, paid_row, totals_column, card.paid, bold=True)
    _money_cell(sheet, paid_row, totals_column + 1, card.arrears, bold=True)
    _money_cell(sheet, payout_row, totals_column, card.paid_out, bold=True)

    key_row = who_row + 2
    sheet.cell(row=key_row, column=2, value="Key").font = BOLD
    for i, state in enumerate(KEY, start=LEDGER_FIRST_ROUND_COLUMN):
        cell = sheet.cell(row=key_row, column=i, value=state)
        if FILLS[state] is not None:
            cell.fill = FILLS[state]
