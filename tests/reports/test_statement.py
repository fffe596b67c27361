"""A member's statement across groups: lines, totals, scoping, exports."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from reports import queries
from tests.factories import make_group, make_user
from tests.reports.conftest import big_group, login
from thrift import services
from thrift.models import lagos_today

pytestmark = pytest.mark.django_db


def statement_url(member, **params):
    url = reverse("reports:statement", args=[member.pk])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def whole_cycle(book):
    return book.today - datetime.timedelta(days=60), book.today + datetime.timedelta(
        days=60
    )


def test_member_who_collected_and_left(book, owner):
    start, end = whole_cycle(book)
    st = queries.member_statement(owner, book.member("Ada"), start, end, book.today)

    assert [(c.round.number, c.status) for c in st.contributions] == [
        (1, "paid"),
        (2, "paid"),
        (3, "pending"),
        (4, "waived"),
    ]
    assert [(p.round.number, p.amount) for p in st.payouts] == [
        (1, Decimal("39000.00"))
    ]
    assert st.due == Decimal("30000.00")  # R4 waived
    assert st.paid_in == Decimal("20000.00")
    assert st.received == Decimal("39000.00")
    assert st.net == Decimal("19000.00")
    assert st.arrears == Decimal("10000.00")
    assert st.arrears_all_time == Decimal("10000.00")
    assert st.not_yet_due == Decimal("0.00")  # R4 was waived
    assert [(p.group.name, p.left_at is not None) for p in st.places] == [
        ("Alpha Ajo", True)
    ]


def test_not_yet_due_counts_what_remains_of_a_running_cycle(book, owner):
    start, end = whole_cycle(book)
    st = queries.member_statement(owner, book.member("Gozie"), start, end, book.today)

    # R1 (T+3) has 15,000 left; R2 and R3 are still to come in full.
    assert st.not_yet_due == Decimal("55000.00")
    assert st.arrears == Decimal("0.00")


def test_part_payment_counts_what_was_paid(book, owner):
    start, end = whole_cycle(book)
    st = queries.member_statement(owner, book.member("Dapo"), start, end, book.today)

    assert st.paid_in == Decimal("4000.00")
    assert st.received == Decimal("0.00")
    assert st.net == Decimal("-4000.00")
    assert st.arrears == Decimal("26000.00")


def test_date_range_limits_lines_and_totals(book, owner):
    # From T-16: Ada's R1 (T-22) and its payout (T-22) fall before it.
    start = book.today - datetime.timedelta(days=16)
    st = queries.member_statement(
        owner, book.member("Ada"), start, book.today, book.today
    )

    assert [c.round.number for c in st.contributions] == [2, 3, 4]
    assert st.payouts == []
    assert (st.due, st.paid_in, st.received) == (
        Decimal("20000.00"),
        Decimal("10000.00"),
        Decimal("0.00"),
    )
    assert st.arrears == Decimal("10000.00")


def test_statement_spans_groups(book, owner, coordinator, other_coordinator):
    # Efe, of Beta, takes a place in a third group run by Alpha's
    # coordinator too.
    efe = book.member("Efe")
    gamma = make_group(coordinator, name="Gamma Ajo")
    services.join_group(gamma, efe, by=coordinator, route="test")
    cycle = services.start_cycle(
        gamma, by=coordinator, route="test", start_date=book.today
    )
    services.pay_contribution(
        cycle.rounds.get(number=1).contributions.get(membership__member=efe),
        by=coordinator,
        route="test",
        paid_on=book.today,
    )
    start, end = whole_cycle(book)

    everything = queries.member_statement(owner, efe, start, end, book.today)
    mine = queries.member_statement(coordinator, efe, start, end, book.today)
    theirs = queries.member_statement(other_coordinator, efe, start, end, book.today)

    assert everything.paid_in == Decimal("30000.00")
    assert {c.group.name for c in everything.contributions} == {
        "Beta Esusu",
        "Gamma Ajo",
    }
    assert mine.paid_in == Decimal("10000.00")
    assert {c.group.name for c in mine.contributions} == {"Gamma Ajo"}
    assert theirs.paid_in == Decimal("20000.00")


def test_page_shows_totals(book, client, coordinator):
    start, end = whole_cycle(book)
    response = login(client, coordinator).get(
        statement_url(book.member("Ada"), start=start, end=end)
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="st-paid">₦20,000.00<' in html
    assert 'id="st-received">₦39,000.00<' in html
    assert 'id="st-net">₦19,000.00<' in html
    assert 'id="st-arrears">₦10,000.00<' in html
    assert "received more than paid in" in html
    assert 'id="st-to-come">₦0.00<' in html
    assert "Alpha Ajo" in html and "left " in html


def test_bad_dates_fall_back_to_the_default_range(book, client, coordinator):
    response = login(client, coordinator).get(
        statement_url(book.member("Ada"), start="not-a-date")
    )

    assert response.status_code == 200
    report = response.context["report"]
    assert report.last_day == book.today
    assert report.start == queries.add_months(book.this_month, -11)


def test_reversed_dates_are_swapped(book, client, coordinator):
    start, end = whole_cycle(book)
    response = login(client, coordinator).get(
        statement_url(book.member("Ada"), start=end, end=start)
    )

    report = response.context["report"]
    assert (report.start, report.last_day) == (start, end)


def test_other_coordinators_member_is_not_found(book, client, other_coordinator):
    login(client, other_coordinator)

    assert client.get(statement_url(book.member("Ada"))).status_code == 404
    assert client.get(statement_url(book.member("Efe"))).status_code == 200


def test_member_without_a_place_is_not_found(book, client, owner):
    stranger = make_user(first_name="Stranger")

    assert login(client, owner).get(statement_url(stranger)).status_code == 404


def test_search_finds_only_members_in_scope(book, client, coordinator):
    login(client, coordinator)
    alpha = client.get(reverse("reports:statement_search"), {"q": "Alpha"})
    beta = client.get(reverse("reports:statement_search"), {"q": "Beta"})

    assert [m.first_name for m in alpha.context["members"]] == [
        "Ada",
        "Bola",
        "Chidi",
        "Dapo",
    ]
    assert beta.context["members"] == []


def test_csv_export(book, client, coordinator):
    start, end = whole_cycle(book)
    response = login(client, coordinator).get(
        statement_url(book.member("Ada"), start=start, end=end, export="csv")
    )

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Date",
        "Group",
        "Cycle",
        "Round",
        "Entry",
        "Due",
        "Paid in",
        "Received",
        "Paid on",
        "Status",
    ]
    entries = [(r[3], r[4], r[5], r[6], r[7], r[9]) for r in rows[1:-1]]
    assert entries == [
        ("1", "contribution", "10000.00", "10000.00", "", "paid"),
        ("1", "payout", "", "", "39000.00", "paid out"),
        ("2", "contribution", "10000.00", "10000.00", "", "paid"),
        ("3", "contribution", "10000.00", "0.00", "", "overdue"),
        ("4", "contribution", "10000.00", "0.00", "", "waived"),
    ]
    assert rows[-1][0] == "Total"
    assert rows[-1][5:8] == ["30000.00", "20000.00", "39000.00"]


def test_xlsx_export(book, client, coordinator):
    start, end = whole_cycle(book)
    response = login(client, coordinator).get(
        statement_url(book.member("Ada"), start=start, end=end, export="xlsx")
    )

    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value.startswith("Statement of Ada Alpha (")
    assert sheet["A3"].value == "Date"
    assert sheet["G4"].value == 10000
    assert sheet["G4"].number_format == "#,##0.00"
    assert sheet["H5"].value == 39000
    last = sheet.max_row
    assert [sheet.cell(row=last, column=c).value for c in (1, 6, 7, 8)] == [
        "Total",
        30000,
        20000,
        39000,
    ]


def test_query_count_is_the_same_for_5_and_50_lines(
    coordinator, client, django_assert_max_num_queries
):
    login(client, coordinator)
    few = big_group(coordinator, 5, name="Five").memberships.first().member
    many = big_group(coordinator, 50, name="Fifty").memberships.first().member
    today = lagos_today()
    window = {"start": today - datetime.timedelta(days=60)}
    window["end"] = today + datetime.timedelta(days=400)

    def count(member):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(statement_url(member, **window))
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.context["lines"])

    queries_few, lines_few = count(few)
    queries_many, lines_many = count(many)
    assert (lines_few, lines_many) == (6, 51)  # rounds plus one payout each
    assert queries_few <= 20
    assert queries_many == queries_few
    with django_assert_max_num_queries(queries_few):
        client.get(statement_url(many, **window, export="xlsx"))
