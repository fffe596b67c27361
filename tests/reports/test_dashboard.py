"""The dashboard on the admin index: each figure against the book worked
out by hand in conftest, per role, with its links and a flat query count."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import COORDINATORS, role_group
from reports import queries
from tests.factories import make_group, make_places, make_staff, running_group
from tests.reports.conftest import big_group, login
from thrift import services
from thrift.models import lagos_today

pytestmark = pytest.mark.django_db

INDEX = "/admin/"


def test_owner_figures(book, owner):
    figures = queries.dashboard_figures(owner, book.today)

    assert figures.active_groups == 2
    assert figures.members == 5  # Ada and Dapo left Alpha
    assert figures.places == 5
    # Alpha: Dapo's 4,000 and Ada's and Bola's R2 today; Beta: Funmi's
    # 20,000 and Gozie's 5,000 today. Efe paid two months ago.
    assert figures.collected_this_month == Decimal("49000.00")
    assert figures.collected_last_month == Decimal("30000.00")
    # Dapo 6,000 + 10,000 + 10,000; Chidi 10,000 + 10,000; Ada 10,000;
    # Bola 10,000. The waived R4 shares count for nothing.
    assert figures.arrears == Decimal("66000.00")
    assert figures.overdue_count == 7


def test_coordinator_counts_only_own_groups(book, coordinator, other_coordinator):
    mine = queries.dashboard_figures(coordinator, book.today)
    theirs = queries.dashboard_figures(other_coordinator, book.today)

    assert (mine.active_groups, mine.members, mine.places) == (1, 2, 2)
    assert mine.collected_this_month == Decimal("24000.00")
    assert mine.collected_last_month == Decimal("30000.00")
    assert (mine.arrears, mine.overdue_count) == (Decimal("66000.00"), 7)

    assert (theirs.active_groups, theirs.members, theirs.places) == (1, 3, 3)
    assert theirs.collected_this_month == Decimal("25000.00")
    assert theirs.collected_last_month == Decimal("0.00")
    assert (theirs.arrears, theirs.overdue_count) == (Decimal("0.00"), 0)


def test_auditor_sees_everything(book, auditor):
    figures = queries.dashboard_figures(auditor, book.today)

    assert figures.collected_this_month == Decimal("49000.00")
    assert figures.arrears == Decimal("66000.00")


def test_payouts_due_lists_late_and_coming_rounds_net_of_fee(book, owner):
    due = queries.payouts_due(owner, book.today)

    rows = [
        (
            d.group.name,
            d.round.number,
            d.round.recipient.member.first_name,
            d.pot,
            d.fee,
            d.amount,
            d.is_late,
        )
        for d in due
    ]
    # Alpha R3 (T-8) was never paid out: late. R4 was cancelled when Dapo
    # left. Beta R1 falls due at T+3.
    assert rows == [
        ("Alpha Ajo", 3, "Chidi", Decimal("40000.00"), Decimal("1000.00"),
         Decimal("39000.00"), True),
        ("Beta Esusu", 1, "Efe", Decimal("60000.00"), Decimal("6000.00"),
         Decimal("54000.00"), False),
    ]  # fmt: skip


def test_payouts_due_agree_with_quote_payout(book, owner):
    for due in queries.payouts_due(owner, book.today):
        quote = services.quote_payout(due.round)
        assert (due.pot, due.fee, due.amount) == (quote.pot, quote.fee, quote.amount)


def test_payouts_due_leave_out_rounds_past_the_week(book, owner):
    due = queries.payouts_due(owner, book.today - datetime.timedelta(days=5), days=7)

    # Seen from five days ago, Beta R1 (T+3) is eight days off.
    assert [(d.group.name, d.round.number) for d in due] == [("Alpha Ajo", 3)]


def test_collections_by_month(book, owner, coordinator):
    months = queries.collections_by_month(owner, book.today)

    assert len(months) == 12
    assert months[-1].month == book.this_month
    assert [m.amount for m in months[-3:]] == [
        Decimal("20000.00"),
        Decimal("30000.00"),
        Decimal("49000.00"),
    ]
    assert sum(m.amount for m in months[:-3]) == Decimal("0")
    mine = queries.collections_by_month(coordinator, book.today)
    assert [m.amount for m in mine[-3:]] == [
        Decimal("0.00"),
        Decimal("30000.00"),
        Decimal("24000.00"),
    ]


def test_arrears_by_group(book, owner, other_coordinator):
    rows = queries.arrears_by_group(owner, book.today)

    assert [(g.name, g.amount, g.count) for g in rows] == [
        ("Alpha Ajo", Decimal("66000.00"), 7)
    ]
    assert queries.arrears_by_group(other_coordinator, book.today) == []


def test_latest_changes_are_newest_first_and_scoped(book, coordinator, owner):
    mine = queries.latest_changes(coordinator, limit=10)
    everything = queries.latest_changes(owner, limit=10)

    assert len(mine) == 10
    assert [c.when for c in mine] == sorted((c.when for c in mine), reverse=True)
    groups = {_group_name(c) for c in mine}
    assert groups == {"Alpha Ajo"}
    # Beta was built last, so the newest changes overall are Beta's.
    assert _group_name(everything[0]) == "Beta Esusu"


def _group_name(change):
    row = change.row
    return (
        row.name if change.model._meta.model_name == "thriftgroup" else row.group.name
    )


def test_dashboard_page_shows_figures_with_links(book, client, owner):
    response = login(client, owner).get(INDEX)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="figure-collected-this-month"' in html
    assert "₦49,000.00" in html
    assert "₦30,000.00" in html
    assert "₦66,000.00" in html
    assert "₦54,000.00" in html  # Beta's payout to Efe
    assert "/admin/thrift/contribution/?overdue=yes" in html
    assert (
        "/admin/thrift/contribution/?paid_on__gte="
        f"{book.this_month.isoformat()}&amp;paid_on__lt=" in html
    )
    assert "/admin/thrift/thriftgroup/?status__exact=active" in html
    assert reverse("reports:arrears") in html
    # Both charts are inline SVG and load nothing.
    assert html.count("<svg") >= 2
    assert "kozea.github.io" not in html
    assert "<?xml" not in html
    charts = html[html.index("<svg") : html.rindex("</svg>")]
    assert "<script" not in charts


def test_figure_links_open_the_same_rows(book, client, owner):
    login(client, owner)
    overdue = client.get("/admin/thrift/contribution/?overdue=yes")
    this_month = client.get(
        "/admin/thrift/contribution/",
        {
            "paid_on__gte": book.this_month.isoformat(),
            "paid_on__lt": queries.add_months(book.this_month, 1).isoformat(),
        },
    )

    places = client.get("/admin/thrift/membership/?left_at__isempty=1")
    groups = client.get("/admin/thrift/thriftgroup/?status__exact=active")
    rounds = client.get(
        "/admin/thrift/round/",
        {
            "status__exact": "open",
            "due_date__lte": (book.today + datetime.timedelta(days=7)).isoformat(),
        },
    )

    assert overdue.context["cl"].result_count == 7
    # Dapo, Ada, Bola in Alpha; Funmi and Gozie in Beta.
    assert this_month.context["cl"].result_count == 5
    assert places.context["cl"].result_count == 5
    assert groups.context["cl"].result_count == 2
    assert rounds.context["cl"].result_count == 2


def test_coordinator_dashboard_page_counts_only_their_groups(
    book, client, other_coordinator
):
    html = login(client, other_coordinator).get(INDEX).content.decode()

    assert "₦25,000.00" in html
    assert "Alpha Ajo" not in html
    assert "₦66,000.00" not in html


def test_dashboard_needs_staff(book, client):
    response = client.get(INDEX)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_dashboard_query_count_does_not_grow_with_rows(
    coordinator, client, django_assert_max_num_queries
):
    login(client, coordinator)
    big_group(coordinator, 5, name="Small")
    small = _count_queries(client, INDEX)
    # Figures, chart, arrears, payouts due, and for a coordinator the keys
    # then the rows of each kind of record's latest changes.
    assert small <= 30

    big_group(coordinator, 50, name="Large")
    with django_assert_max_num_queries(small):
        response = client.get(INDEX)
    assert response.status_code == 200
    assert _count_queries(client, INDEX) == small


def test_latest_changes_read_as_sentences(book, client, coordinator):
    html = login(client, coordinator).get(INDEX).content.decode()

    # The last things done in Alpha: Dapo left, which waived round 4's
    # shares and cancelled it; before that Ada left; then the payouts.
    assert (
        'Place of Dapo Alpha in Alpha Ajo</a> <span class="text-muted">changed' in html
    )
    assert "Contribution of Chidi Alpha, Alpha Ajo R4</a>" in html
    assert "waived, ₦0.00 of ₦10,000.00 paid" in html
    assert "Round 4 of Alpha Ajo</a>" in html
    assert "Payout to Bola Alpha, Alpha Ajo R2</a>" in html
    assert "₦39,000.00 paid out on" in html
    assert "Beta Esusu" not in html
    assert f'href="{reverse("audit_log")}"' in html


def test_menu_reaches_every_report(book, client, coordinator):
    html = login(client, coordinator).get(INDEX).content.decode()
    sidebar = html[html.index('id="jazzy-sidebar"') :]

    assert "Reports &amp; statements" in sidebar
    for name in ("arrears", "collections", "ledger_index", "statement_search"):
        assert f'href="{reverse(f"reports:{name}")}"' in sidebar


def test_coordinator_without_groups_sees_zeros(client, roles):
    newcomer = make_staff(username="newcomer")
    newcomer.groups.add(role_group(COORDINATORS))
    response = login(client, newcomer).get(INDEX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "₦0.00" in html
    assert "No payments yet" in html
    assert "No payouts are late or fall due in the next 7 days." in html


def test_figures_tell_the_layout_how_long_their_value_is(owner, client):
    group = make_group(contribution_amount=Decimal("123456789.00"))
    place, *_ = make_places(group, 2)
    cycle = services.start_cycle(group, by=owner, route="test")
    services.pay_contribution(
        cycle.rounds.get(number=1).contributions.get(membership=place),
        by=owner,
        route="test",
    )
    client.force_login(owner)

    content = client.get(reverse("admin:index")).content.decode()

    # The stylesheet sizes a value by its length (see reports.css).
    assert '<h3 class="figure-value" style="--chars: 15">₦123,456,789.00</h3>' in (
        content
    )
    assert '<h3 class="figure-value" style="--chars: 1">1</h3>' in content


def test_arrears_by_group_breaks_ties_by_name(owner):
    """Groups owing the same are listed by name, also at the cut: the
    database cuts by id, so the ones tied with the last kept are re-read."""
    names = ["Delta", "Charlie", "Bravo", "Alpha"]  # created last-name first
    for name in names:
        running_group(3, name=name, coordinator=owner)
    rich, *_ = running_group(3, name="Zulu", coordinator=owner)
    rich.contributions.update(amount_due=Decimal("50000.00"))

    rows = queries.arrears_by_group(owner, lagos_today(), limit=3)

    assert [g.name for g in rows] == ["Zulu", "Alpha", "Bravo"]
    assert rows[1].amount == rows[2].amount
