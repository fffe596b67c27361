"""The collections report: per day, week and month, by group and
coordinator, with totals; filters, scoping, exports and query count."""

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
from tests.reports.conftest import big_group, login

pytestmark = pytest.mark.django_db

URL = reverse("reports:collections")


def lines(report):
    return [
        (
            queries.as_date(row["period"]),
            row["group__name"],
            row["count"],
            Decimal(row["amount"]).quantize(Decimal("0.01")),
        )
        for row in report.rows
    ]


def since_last_month(book):
    return book.last_month, book.today + datetime.timedelta(days=1)


def test_per_month(book, owner):
    start, end = since_last_month(book)
    report = queries.collections_report(owner, start, end, "month")

    assert lines(report) == [
        (book.this_month, "Alpha Ajo", 3, Decimal("24000.00")),
        (book.this_month, "Beta Esusu", 2, Decimal("25000.00")),
        (book.last_month, "Alpha Ajo", 3, Decimal("30000.00")),
    ]
    assert report.period_totals == {
        book.this_month: Decimal("49000.00"),
        book.last_month: Decimal("30000.00"),
    }
    assert (report.amount, report.count) == (Decimal("79000.00"), 8)


def test_per_day_and_week(book, owner):
    start, end = since_last_month(book)
    days = queries.collections_report(owner, start, end, "day")
    weeks = queries.collections_report(owner, start, end, "week")

    assert lines(days) == [
        (book.today, "Alpha Ajo", 3, Decimal("24000.00")),
        (book.today, "Beta Esusu", 2, Decimal("25000.00")),
        (book.last_month, "Alpha Ajo", 3, Decimal("30000.00")),
    ]
    monday = book.today - datetime.timedelta(days=book.today.weekday())
    assert lines(weeks)[0] == (monday, "Alpha Ajo", 3, Decimal("24000.00"))
    assert weeks.period_totals[monday] == Decimal("49000.00")
    assert weeks.amount == days.amount == Decimal("79000.00")


def test_end_is_excluded_and_start_included(book, owner):
    today_only = queries.collections_report(
        owner, book.today, book.today + datetime.timedelta(days=1), "day"
    )
    before_today = queries.collections_report(owner, book.last_month, book.today)

    assert today_only.amount == Decimal("49000.00")
    assert before_today.amount == Decimal("30000.00")


def test_scoping(book, coordinator, other_coordinator):
    start, end = since_last_month(book)

    mine = queries.collections_report(coordinator, start, end)
    theirs = queries.collections_report(other_coordinator, start, end)

    assert mine.amount == Decimal("54000.00")
    assert {r[1] for r in lines(mine)} == {"Alpha Ajo"}
    assert theirs.amount == Decimal("25000.00")


def test_page_defaults_to_this_month_per_day(book, client, owner):
    response = login(client, owner).get(URL)

    report = response.context["report"]
    assert (report.start, report.last_day, report.period) == (
        book.this_month,
        book.today,
        "day",
    )
    assert report.amount == Decimal("49000.00")
    assert 'id="collections-total">₦49,000.00<' in response.content.decode()


def test_filters_on_the_page(book, client, owner, other_coordinator):
    login(client, owner)
    window = {"start": book.last_month.isoformat(), "end": book.today.isoformat()}

    by_group = client.get(URL, {**window, "group": book.alpha.pk, "period": "month"})
    by_coordinator = client.get(URL, {**window, "coordinator": other_coordinator.pk})

    assert by_group.context["report"].amount == Decimal("54000.00")
    assert by_group.context["report"].period == "month"
    assert by_coordinator.context["report"].amount == Decimal("25000.00")


def test_bad_filter_shows_nothing_rather_than_everything(
    book, client, other_coordinator
):
    response = login(client, other_coordinator).get(
        URL, {"group": book.alpha.pk, "period": "fortnight"}
    )

    assert response.status_code == 200
    assert response.context["filter"].errors
    assert response.context["report"].amount == Decimal("0.00")


def test_csv_and_xlsx_export(book, client, owner):
    login(client, owner)
    window = {
        "start": book.last_month.isoformat(),
        "end": book.today.isoformat(),
        "period": "month",
    }

    text = client.get(URL, {**window, "export": "csv"}).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    sheet = load_workbook(
        io.BytesIO(client.get(URL, {**window, "export": "xlsx"}).content)
    ).active

    assert rows[0] == ["Period from", "Group", "Coordinator", "Payments", "Collected"]
    coordinator = book.alpha.coordinator.get_full_name()
    assert rows[1] == [book.this_month.isoformat(), "Alpha Ajo", coordinator, "3",
                       "24000.00"]  # fmt: skip
    assert rows[-1] == ["Total", "", "", "8", "79000.00"]
    assert sheet["E4"].value == 24000
    assert sheet["E4"].number_format == "#,##0.00"
    assert sheet["A4"].value.date() == book.this_month
    assert [sheet.cell(row=7, column=c).value for c in (1, 4, 5)] == [
        "Total",
        8,
        79000,
    ]


def test_needs_staff(book, client):
    assert client.get(URL).status_code == 302


def test_query_count_is_the_same_for_5_and_50_groups(
    coordinator, client, django_assert_max_num_queries
):
    login(client, coordinator)
    params = {"period": "day"}
    for n in range(5):
        big_group(coordinator, 2, name=f"Small {n}")

    def count(**extra):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(URL, {**params, **extra})
        assert response.status_code == 200
        return len(ctx.captured_queries), response

    few, response = count()
    assert len(response.context["rows"]) == 5
    few_export, _ = count(export="csv")
    for n in range(45):
        big_group(coordinator, 2, name=f"More {n}")

    many, response = count()
    assert len(response.context["rows"]) == 50
    assert few <= 20
    assert many == few
    assert count(export="csv")[0] == few_export
    with django_assert_max_num_queries(few):
        client.get(URL, params)
