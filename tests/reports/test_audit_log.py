"""The audit log: every change across the audited models, filtered, scoped
to the viewer, paginated in a fixed number of queries, and exported."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from reports.audit_views import safe_cell
from tests.factories import make_group, make_places, make_user, running_group
from thrift import services
from thrift.models import Contribution, Membership

pytestmark = pytest.mark.django_db

URL = reverse("audit_log")


def log(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    return response


def shown(response) -> list[tuple[str, int, str, str]]:
    """(record type, record id, change, route) of each row on the page."""
    return [
        (e.audited.key, e.record_id, e.change, e.route)
        for e in response.context["entries"]
    ]


@pytest.fixture
def two_groups(coordinator, other_coordinator):
    mine, my_places, my_cycle = running_group(
        places=2, coordinator=coordinator, name="Mine"
    )
    theirs, their_places, their_cycle = running_group(
        places=2, coordinator=other_coordinator, name="Theirs"
    )
    return mine, theirs


def test_log_lists_changes_newest_first_with_links(client, auditor, owner):
    group = make_group(name="Alpha")
    place = services.join_group(group, make_user(), by=owner, route="first")
    place.position = 4
    services.stamp(place, owner, "second").save()
    client.force_login(auditor)

    response = log(client, model="thrift.membership")

    assert shown(response) == [
        ("thrift.membership", place.pk, "changed", "second"),
        ("thrift.membership", place.pk, "created", "first"),
    ]
    content = response.content.decode()
    assert f'href="/admin/thrift/membership/{place.pk}/change/"' in content
    assert f'href="/admin/thrift/membership/{place.pk}/history/"' in content
    changes = response.context["entries"][0].changes
    assert [(c.field, c.old, c.new) for c in changes] == [("Position", "—", "4")]


def test_log_and_history_show_a_change_in_one_way(client, auditor, owner):
    group = make_group(name="Alpha")
    place = services.join_group(group, make_user(), by=owner, route="first")
    place.position = 4
    services.stamp(place, owner, "second").save()
    client.force_login(auditor)
    cell = (
        '<li><strong>Position:</strong> <span class="audit-old">—</span> &rarr; '
        '<span class="audit-new">4</span></li>'
    )

    log_page = log(client, model="thrift.membership").content.decode()
    history = client.get(f"/admin/thrift/membership/{place.pk}/history/")

    assert history.status_code == 200
    assert " ".join(log_page.split()).count(cell) == 1
    assert " ".join(history.content.decode().split()).count(cell) == 1


def test_deleted_records_stay_in_the_log(owner_client, owner):
    group = make_group()
    place = services.join_group(group, make_user(), by=owner, route="test")
    member_name, place_id = place.member.display_name, place.pk
    services.stamp(place, owner, "admin form").delete()

    response = log(owner_client, model="thrift.membership", change="-")

    assert shown(response) == [("thrift.membership", place_id, "deleted", "admin form")]
    entry = response.context["entries"][0]
    assert entry.record_url is None
    assert entry.label == f"{member_name} in {group.name}"
    assert owner_client.get(entry.history_url).status_code == 200


def test_filters_by_user_route_change_and_group(client, auditor, owner, two_groups):
    mine, theirs = two_groups
    contribution = Contribution.objects.filter(group=mine).order_by("pk").first()
    services.pay_contribution(contribution, by=owner, route="admin action: mark_paid")
    client.force_login(auditor)

    by_user = log(client, user=owner.pk)
    contains = log(client, route="mark_paid")
    starts = log(client, route_starts="admin action")
    not_starts = log(client, route_starts="mark_paid")
    changed_in_mine = log(
        client, group=mine.pk, change="~", model="thrift.contribution"
    )

    expected = [
        ("thrift.contribution", contribution.pk, "changed", "admin action: mark_paid")
    ]
    assert shown(by_user) == expected
    assert shown(contains) == expected
    assert shown(starts) == expected
    assert shown(not_starts) == []
    assert shown(changed_in_mine) == expected


def test_group_filter_includes_the_groups_members(client, auditor, two_groups):
    mine, theirs = two_groups
    members = set(
        Membership.objects.filter(group=mine).values_list("member", flat=True)
    )
    client.force_login(auditor)

    response = log(client, group=mine.pk, model="accounts.user")

    assert {e.record_id for e in response.context["entries"]} == members


def test_date_range_filter_counts_days_in_lagos(client, auditor, owner):
    group = make_group()
    rows = list(group.history.all())
    lagos = timezone.get_fixed_timezone(60)
    # 00:30 in Lagos on 2 March is still 1 March in UTC.
    group.history.filter(history_id=rows[0].history_id).update(
        history_date=datetime.datetime(2026, 3, 2, 0, 30, tzinfo=lagos)
    )
    client.force_login(auditor)

    on_day = log(
        client,
        model="thrift.thriftgroup",
        date_after="2026-03-02",
        date_before="2026-03-02",
    )
    day_before = log(client, model="thrift.thriftgroup", date_before="2026-03-01")

    assert shown(on_day) == [("thrift.thriftgroup", group.pk, "created", "")]
    assert shown(day_before) == []


def test_bad_filter_shows_errors_and_no_rows(client, auditor, two_groups):
    client.force_login(auditor)

    response = log(client, date_after="not-a-date", change="x")

    assert response.context["entries"] == []
    assert response.context["filter"].form.errors.keys() == {"date", "change"}


def test_coordinator_sees_only_their_groups(client, coordinator, two_groups):
    mine, theirs = two_groups
    client.force_login(coordinator)

    response = client.get(URL, {"model": "thrift.contribution"})
    groups = {e.group.name for e in response.context["entries"]}
    users = log(client, model="accounts.user")
    other_group = log(client, group=theirs.pk)

    assert groups == {"Mine"}
    assert response.context["page_obj"].paginator.count == 4
    mine_members = set(
        Membership.objects.filter(group=mine).values_list("member", flat=True)
    )
    assert {e.record_id for e in users.context["entries"]} <= mine_members | {
        coordinator.pk
    }
    assert {e.record_id for e in users.context["entries"]} >= mine_members
    assert other_group.context["entries"] == []
    assert "group" in other_group.context["filter"].form.errors


def test_auditor_sees_every_group(client, auditor, two_groups):
    client.force_login(auditor)

    response = log(client, model="thrift.contribution")

    assert {e.group.name for e in response.context["entries"]} == {"Mine", "Theirs"}
    assert response.context["page_obj"].paginator.count == 8


def test_members_and_strangers_cannot_open_the_log(client, roles):
    client.force_login(make_user(is_staff=True))
    assert client.get(URL).status_code == 403

    client.force_login(make_user())
    assert client.get(URL).status_code == 302  # to the admin login


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_csv_export_has_the_filtered_rows_and_escapes_formulas(client, auditor, owner):
    group = make_group(name='=HYPERLINK("http://x")', currency="NGN")
    (place,) = make_places(group, 1, by=owner)
    contribution_amount = group.contribution_amount
    services.stamp(group, owner, "@import: sheet.csv")
    group.contribution_amount = Decimal("15000.00")
    group.save()
    client.force_login(auditor)

    response = client.get(URL, {"model": "thrift.thriftgroup", "export": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = read_csv(response)
    assert rows[0][:6] == [
        "When (Africa/Lagos)",
        "Record type",
        "Record",
        "Record id",
        "Change",
        "Changed fields",
    ]
    assert [row[1:5] + row[6:9] for row in rows[1:]] == [
        [
            "Thrift group",
            '\'=HYPERLINK("http://x")',
            str(group.pk),
            "changed",
            owner.display_name,
            "'@import: sheet.csv",
            '\'=HYPERLINK("http://x")',
        ],
        [
            "Thrift group",
            '\'=HYPERLINK("http://x")',
            str(group.pk),
            "created",
            "",
            "",
            '\'=HYPERLINK("http://x")',
        ],
    ]
    assert rows[1][5] == (
        f"Contribution amount: ₦{contribution_amount:,} -> ₦15,000.00"
    )


def test_xlsx_export_matches_and_escapes(client, auditor, owner):
    group = make_group(name="+Tontine")
    services.stamp(group, owner, "-5+3")
    group.status = "paused"
    group.save()
    client.force_login(auditor)

    response = client.get(URL, {"model": "thrift.thriftgroup", "export": "xlsx"})

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [row[2:5] + [row[5], row[7], row[8]] for row in values[1:]] == [
        [
            "'+Tontine",
            group.pk,
            "changed",
            "Status: Draft -> Paused",
            "'-5+3",
            "'+Tontine",
        ],
        ["'+Tontine", group.pk, "created", values[2][5], None, "'+Tontine"],
    ]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+234", "'+234"),
        ("-₦5.00", "'-₦5.00"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Ada Obi", "Ada Obi"),
        (None, ""),
        (42, 42),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def count_log_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_log_runs_a_fixed_number_of_queries(
    client, auditor, owner, django_assert_max_num_queries
):
    group, places, cycle = running_group(places=3)
    services.mark_paid(
        cycle.rounds.get(number=1).contributions.all(), by=owner, route="t"
    )
    client.force_login(auditor)
    few = count_log_queries(client)
    # Worst case: every kind of record and of related name on one page;
    # on SQLite the page's rows take one query per history table.
    assert few <= 40
    assert Contribution.history.count() < 50

    group, places, cycle = running_group(places=22)  # 484 contributions
    for r in cycle.rounds.order_by("number")[:2]:
        services.mark_paid(r.contributions.all(), by=owner, route="admin action: t")
        services.record_payout(r, by=owner, route="admin action: t")
    services.swap_positions(
        places[5], places[6], reason="agreed", by=owner, route="admin action: t"
    )
    assert Contribution.history.count() > 500

    with django_assert_max_num_queries(few):
        response = client.get(URL)
    with django_assert_max_num_queries(few):
        page_five = client.get(URL, {"page": 5})
    with django_assert_max_num_queries(few):
        filtered = client.get(URL, {"route_starts": "admin action", "change": "~"})

    assert len(response.context["entries"]) == 50
    assert len(page_five.context["entries"]) == 50
    assert page_five.context["page_obj"].paginator.count > 600
    assert {e.route for e in filtered.context["entries"]} == {"admin action: t"}


def test_log_slices_match_the_fully_sorted_union(owner):
    """`Log` reads the newest rows of each table and merges them (on
    MariaDB); every slice must equal the same slice of the whole union
    sorted by the database."""
    from reports import audit

    group, places, cycle = running_group(places=4)
    for r in cycle.rounds.order_by("number")[:2]:
        for c in r.contributions.order_by("pk"):
            services.pay_contribution(c, by=owner, route="t")
        services.record_payout(r, by=owner, route="t")
    parts = [audit.log_part(a, owner) for a in audit.AUDITED]
    whole = list(audit.combine(parts))
    log = audit.Log(parts)

    assert len(whole) > 40
    assert log.count() == len(whole)
    for start, stop in ((0, 7), (7, 20), (19, 45), (len(whole) - 3, len(whole) + 5)):
        assert [r["history_id"] for r in log[start:stop]] == [
            r["history_id"] for r in whole[start:stop]
        ], (start, stop)
        assert [r["kind"] for r in log[start:stop]] == [
            r["kind"] for r in whole[start:stop]
        ]
    assert log[3] == whole[3]
    only_payouts = audit.Log([audit.log_part(audit.BY_KEY["thrift.payout"], owner)])
    assert [r["kind"] for r in only_payouts[0:5]] == ["thrift.payout"] * 2


def test_group_filter_becomes_a_search_box_past_many_groups(
    client, auditor, monkeypatch
):
    from reports import report_filters

    monkeypatch.setattr(report_filters, "GROUP_CHOICES_MAX", 2)
    groups = [make_group(name=f"Group {n}") for n in range(3)]
    client.force_login(auditor)

    few = log(client)  # three groups > 2: a search box
    chosen = log(client, group=groups[1].pk)

    page = few.content.decode()
    assert "admin-autocomplete" in page
    assert "Group 0</option>" not in page
    chosen_page = chosen.content.decode()
    assert f'<option value="{groups[1].pk}" selected>Group 1</option>' in chosen_page
    assert "Group 2</option>" not in chosen_page
    assert "admin/js/autocomplete.js" in page
    collections = client.get(reverse("reports:collections")).content.decode()
    assert "admin-autocomplete" in collections
    assert "Group 0</option>" not in collections

    monkeypatch.setattr(report_filters, "GROUP_CHOICES_MAX", 100)
    select = log(client).content.decode()
    assert "Group 0</option>" in select and "Group 2</option>" in select


def test_an_estimated_count_reads_as_about(client, auditor, monkeypatch):
    """Past the exact-count cap the log's size is InnoDB's estimate; the page
    says so rather than print it as exact."""
    from thrift import paginator

    running_group(places=2)
    client.force_login(auditor)
    exact = log(client).content.decode()
    monkeypatch.setattr(paginator, "COUNT_CAP", 3)
    monkeypatch.setattr(paginator, "filtered_row_estimate", lambda qs: 21_000)

    estimated = log(client, change="+").content.decode()

    assert "about" not in exact.split("newest first")[0][-60:]
    assert "about 168,000 changes, newest first" in estimated


def test_a_payout_names_its_round(client, auditor, owner):
    """A payout's round is a one-to-one key; it is named like any other
    key, never as a deleted record."""
    group, places, cycle = running_group(places=2, name="Oja")
    first = cycle.rounds.get(number=1)
    services.mark_paid(first.contributions.all(), by=owner, route="t")
    services.record_payout(first, by=owner, route="t")
    client.force_login(auditor)

    entry = log(client, model="thrift.payout").context["entries"][0]

    assert entry.label == f"Payout of {first} to {first.recipient.member.display_name}"
    assert "deleted" not in entry.label
    assert ("Round", str(first)) in [(c.field, c.new) for c in entry.changes]
