"""The group ledger card: the grid, its totals, the payout row, scoping,
the XLSX export and a flat query count."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from reports import queries
from tests.factories import make_group
from tests.reports.conftest import big_group, login

pytestmark = pytest.mark.django_db


def card_url(group, cycle_number=None):
    if cycle_number is None:
        return reverse("reports:ledger_card", args=[group.pk])
    return reverse("reports:ledger_card_cycle", args=[group.pk, cycle_number])


def grid(card):
    return {
        row.membership.member.first_name: [
            (cell.state, cell.contribution.amount_paid, cell.owed) for cell in row.cells
        ]
        for row in card.rows
    }


def test_cells_show_state_and_amount(book):
    card = queries.ledger_card(book.alpha_cycle, book.today)

    paid = ("paid", Decimal("10000.00"), Decimal("0.00"))
    owes = ("overdue", Decimal("0.00"), Decimal("10000.00"))
    waived = ("waived", Decimal("0.00"), Decimal("0.00"))
    assert grid(card) == {
        "Ada": [paid, paid, owes, waived],
        "Bola": [paid, paid, owes, waived],
        "Chidi": [paid, owes, owes, waived],
        "Dapo": [
            ("overdue", Decimal("4000.00"), Decimal("6000.00")),
            owes,
            owes,
            waived,
        ],
    }


def test_part_paid_before_due_date_is_part_paid(book):
    card = queries.ledger_card(book.beta_cycle, book.today)

    first_round = {row.membership.member.first_name: row.cells[0] for row in card.rows}
    assert first_round["Gozie"].state == "part-paid"
    assert first_round["Gozie"].contribution.amount_paid == Decimal("5000.00")
    assert first_round["Efe"].state == "paid"
    assert card.rows[0].cells[1].state == "pending"


def test_rows_follow_payout_order_and_keep_those_who_left(book):
    card = queries.ledger_card(book.alpha_cycle, book.today)

    assert [
        (row.position, row.membership.member.first_name, row.has_left)
        for row in card.rows
    ] == [(1, "Ada", True), (2, "Bola", False), (3, "Chidi", False), (4, "Dapo", True)]


def test_totals_per_row_column_and_card(book):
    card = queries.ledger_card(book.alpha_cycle, book.today)

    assert [(row.paid, row.arrears) for row in card.rows] == [
        (Decimal("20000.00"), Decimal("10000.00")),
        (Decimal("20000.00"), Decimal("10000.00")),
        (Decimal("10000.00"), Decimal("20000.00")),
        (Decimal("4000.00"), Decimal("26000.00")),
    ]
    assert [(col.paid, col.due) for col in card.columns] == [
        (Decimal("34000.00"), Decimal("40000.00")),
        (Decimal("20000.00"), Decimal("40000.00")),
        (Decimal("0.00"), Decimal("40000.00")),
        (Decimal("0.00"), Decimal("0.00")),  # cancelled, every share waived
    ]
    assert (card.due, card.paid, card.arrears) == (
        Decimal("120000.00"),
        Decimal("54000.00"),
        Decimal("66000.00"),
    )
    assert (card.paid_out, card.fees) == (Decimal("78000.00"), Decimal("2000.00"))


def test_payout_row_names_who_collected(book):
    card = queries.ledger_card(book.alpha_cycle, book.today)

    assert [
        (col.payout.membership.member.first_name, col.payout.amount)
        if col.payout
        else (col.round.status, None)
        for col in card.columns
    ] == [
        ("Ada", Decimal("39000.00")),
        ("Bola", Decimal("39000.00")),
        ("open", None),
        ("cancelled", None),
    ]


def test_page_renders_the_grid(book, client, coordinator):
    response = login(client, coordinator).get(card_url(book.alpha))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="ledger-grid"' in html
    assert html.count('class="cell paid"') == 5
    assert html.count('class="cell overdue"') == 7
    assert html.count('class="cell waived"') == 4
    assert "54,000.00" in html and "66,000.00" in html
    assert "@page { size: A4 landscape" in html
    assert 'href="/static/reports/reports.css"' in html
    css = Path(finders.find("reports/reports.css")).read_text()
    assert "@media print" in css
    assert ".app-sidebar" in css


def test_group_page_links_to_its_card(book, client, coordinator):
    url = reverse("admin:thrift_thriftgroup_change", args=[book.alpha.pk])
    html = login(client, coordinator).get(url).content.decode()

    assert f'href="{card_url(book.alpha)}"' in html


def test_card_is_in_the_ledger_list(book, client, coordinator):
    html = login(client, coordinator).get(reverse("reports:ledger_index")).content
    html = html.decode()

    assert card_url(book.alpha, 1) in html
    assert card_url(book.beta, 1) not in html


def test_other_coordinators_card_is_not_found(book, client, other_coordinator):
    login(client, other_coordinator)

    assert client.get(card_url(book.alpha)).status_code == 404
    assert client.get(card_url(book.alpha, 1)).status_code == 404
    assert client.get(card_url(book.alpha) + "?export=xlsx").status_code == 404
    assert client.get(card_url(book.beta)).status_code == 200


def test_auditor_opens_any_card(book, client, auditor):
    login(client, auditor)

    assert client.get(card_url(book.alpha)).status_code == 200
    assert client.get(card_url(book.beta)).status_code == 200


def test_unknown_cycle_is_not_found(book, client, owner):
    assert login(client, owner).get(card_url(book.alpha, 2)).status_code == 404


def test_group_without_a_cycle_says_so(client, coordinator):
    group = make_group(coordinator, name="Not Started")
    response = login(client, coordinator).get(card_url(group))

    assert response.status_code == 200
    assert "has not started a cycle" in response.content.decode()


def test_card_needs_staff(book, client):
    response = client.get(card_url(book.alpha))

    assert response.status_code == 302


def test_xlsx_holds_numbers_with_a_money_format(book, client, coordinator):
    response = login(client, coordinator).get(card_url(book.alpha) + "?export=xlsx")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == "Alpha Ajo: ledger card, cycle 1"
    header = [cell.value for cell in sheet[4]]
    assert header[:3] == ["#", "Member", header[2]]
    assert header[2].startswith("R1 ")
    assert header[-2:] == ["Paid", "Arrears"]
    rows = {
        sheet.cell(row=r, column=2).value: [
            sheet.cell(row=r, column=c).value for c in range(1, 9)
        ]
        for r in range(5, 9)
    }
    ten = Decimal("10000")
    assert rows["Dapo Alpha (left)"] == [4, "Dapo Alpha (left)", 4000, 0, 0, "waived",
                                         4000, 26000]  # fmt: skip
    assert rows["Ada Alpha (left)"] == [1, "Ada Alpha (left)", ten, ten, 0, "waived",
                                        20000, 10000]  # fmt: skip
    assert sheet.cell(row=5, column=3).number_format == "#,##0.00"
    assert isinstance(sheet.cell(row=5, column=3).value, int | float)
    assert sheet.cell(row=5, column=3).fill.fgColor.rgb.endswith("C6EFCE")  # paid
    assert sheet.cell(row=8, column=3).fill.fgColor.rgb.endswith("FFC7CE")  # overdue
    # The totals below the places: paid in per round, payouts and who.
    assert [sheet.cell(row=9, column=c).value for c in range(2, 9)] == [
        "Paid in", 34000, 20000, 0, 0, 54000, 66000]  # fmt: skip
    assert [sheet.cell(row=10, column=c).value for c in range(2, 5)] == [
        "Paid out", 39000, 39000]  # fmt: skip
    assert sheet.cell(row=11, column=3).value.startswith("Ada Alpha, ")
    assert sheet.cell(row=11, column=6).value == "cancelled"


def _queries_for(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_is_the_same_for_5_and_50_places(
    coordinator, client, django_assert_max_num_queries
):
    login(client, coordinator)
    small = big_group(coordinator, 5, name="Five")
    large = big_group(coordinator, 50, name="Fifty")

    count = _queries_for(client, card_url(small))
    assert count <= 20
    with django_assert_max_num_queries(count):
        client.get(card_url(large))
    assert _queries_for(client, card_url(large)) == count
    assert _queries_for(client, card_url(small) + "?export=xlsx") == _queries_for(
        client, card_url(large) + "?export=xlsx"
    )
