"""The arrears report: per place, filters, sorting, scoping, exports."""

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
from thrift.models import Contribution

pytestmark = pytest.mark.django_db

URL = reverse("reports:arrears")


def summary(report):
    return [
        (
            row["membership__member__first_name"],
            row["count"],
            row["amount"],
            (report.today - row["oldest_due"]).days,
        )
        for row in report.rows
    ]


def test_rows_per_place_largest_first(book, owner):
    report = queries.arrears_report(owner, book.today)

    assert summary(report) == [
        ("Dapo", 3, Decimal("26000.00"), 22),
        ("Chidi", 2, Decimal("20000.00"), 15),
        ("Ada", 1, Decimal("10000.00"), 8),
        ("Bola", 1, Decimal("10000.00"), 8),
    ]
    assert (report.amount, report.count, report.places) == (
        Decimal("66000.00"),
        7,
        4,
    )


def test_sort_by_days_and_by_member(book, owner):
    by_days = queries.arrears_report(owner, book.today, order="-days")
    by_member = queries.arrears_report(owner, book.today, order="member")
    smallest = queries.arrears_report(owner, book.today, order="amount")

    assert [r[0] for r in summary(by_days)] == ["Dapo", "Chidi", "Ada", "Bola"]
    assert [r[0] for r in summary(by_member)] == ["Ada", "Bola", "Chidi", "Dapo"]
    assert [r[0] for r in summary(smallest)] == ["Ada", "Bola", "Chidi", "Dapo"]


def test_unknown_sort_falls_back_to_amount(book, owner):
    report = queries.arrears_report(owner, book.today, order="-membership__password")

    assert [r[0] for r in summary(report)][0] == "Dapo"


def test_min_days_filter(book, client, owner):
    response = login(client, owner).get(URL, {"min_days": 10})

    report = response.context["report"]
    # Only R1 (T-22) and R2 (T-15) are ten days late or more.
    assert summary(report) == [
        ("Dapo", 2, Decimal("16000.00"), 22),
        ("Chidi", 1, Decimal("10000.00"), 15),
    ]
    assert (report.amount, report.count, report.places) == (
        Decimal("26000.00"),
        3,
        2,
    )


def test_group_and_coordinator_filters(book, client, owner, other_coordinator):
    login(client, owner)
    beta = client.get(URL, {"group": book.beta.pk}).context["report"]
    theirs = client.get(URL, {"coordinator": other_coordinator.pk}).context["report"]
    alpha = client.get(URL, {"group": book.alpha.pk}).context["report"]

    assert (beta.amount, list(beta.rows)) == (Decimal("0.00"), [])
    assert theirs.amount == Decimal("0.00")
    assert alpha.amount == Decimal("66000.00")


def test_coordinator_cannot_filter_to_another_group(book, client, other_coordinator):
    response = login(client, other_coordinator).get(URL, {"group": book.alpha.pk})

    assert response.status_code == 200
    assert response.context["filter"].errors
    assert response.context["report"].amount == Decimal("0.00")
    assert "Dapo" not in response.content.decode()


def test_negative_days_is_refused(book, client, owner):
    response = login(client, owner).get(URL, {"min_days": -3})

    assert "min_days" in response.context["filter"].errors
    assert list(response.context["report"].rows) == []


def test_scoping(book, client, coordinator, other_coordinator, auditor):
    def total(user):
        client.force_login(user)
        return client.get(URL).context["report"].amount

    assert total(coordinator) == Decimal("66000.00")
    assert total(other_coordinator) == Decimal("0.00")
    assert total(auditor) == Decimal("66000.00")


def test_page_links_rows_and_sorts(book, client, owner):
    html = login(client, owner).get(URL, {"o": "-days"}).content.decode()

    assert 'id="arrears-total">₦66,000.00<' in html
    place = book.places["Dapo"].pk
    assert f"overdue=yes&amp;membership__id__exact={place}" in html
    assert "o=days" in html  # clicking the active column reverses it


def test_csv_export(book, client, owner):
    response = login(client, owner).get(URL, {"export": "csv", "min_days": 10})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Group",
        "Coordinator",
        "Place",
        "Member",
        "Phone",
        "Overdue rounds",
        "Oldest due",
        "Days overdue",
        "Amount owed",
    ]
    dapo = rows[1]
    assert dapo[0] == "Alpha Ajo"
    assert dapo[3] == "Dapo Alpha (left)"
    assert dapo[5:] == [
        "2",
        (book.today - datetime.timedelta(days=22)).isoformat(),
        "22",
        "16000.00",
    ]
    assert rows[-1] == ["Total", "", "", "", "", "3", "", "", "26000.00"]


def test_xlsx_export(book, client, owner):
    response = login(client, owner).get(URL, {"export": "xlsx"})

    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[3]][:4] == [
        "Group",
        "Coordinator",
        "Place",
        "Member",
    ]
    assert sheet["I4"].value == 26000
    assert sheet["I4"].number_format == "#,##0.00"
    assert sheet["G4"].value.date() == book.today - datetime.timedelta(days=22)
    assert sheet["H4"].value == 22
    assert [sheet.cell(row=8, column=c).value for c in (1, 6, 9)] == [
        "Total",
        7,
        66000,
    ]


def test_text_that_looks_like_a_formula_is_made_inert(book, client, owner):
    dapo = book.member("Dapo")
    dapo.first_name = '=HYPERLINK("http://x","y")'
    dapo.last_name = "+1"
    dapo.save()
    login(client, owner)

    csv_rows = list(
        csv.reader(io.StringIO(client.get(URL, {"export": "csv"}).content.decode()))
    )
    sheet = load_workbook(
        io.BytesIO(client.get(URL, {"export": "xlsx"}).content)
    ).active

    assert csv_rows[1][3] == '\'=HYPERLINK("http://x","y") +1 (left)'
    assert sheet["D4"].value == '\'=HYPERLINK("http://x","y") +1 (left)'
    assert sheet["D4"].data_type == "s"


def test_needs_staff(book, client):
    assert client.get(URL).status_code == 302


def test_query_count_is_the_same_for_5_and_50_places(
    coordinator, client, django_assert_max_num_queries
):
    login(client, coordinator)
    big_group(coordinator, 5, name="Five")

    def count(**params):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(URL, params)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    few = count()
    few_export = count(export="xlsx")
    big_group(coordinator, 45, name="Forty-five")
    assert Contribution.objects.filter(status="pending").count() > 50

    assert few <= 20
    assert count() == few
    assert count(export="xlsx") == few_export
    with django_assert_max_num_queries(few):
        response = client.get(URL)
    assert len(response.context["rows"]) == 50
