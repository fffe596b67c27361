"""The dashboard and a ledger card as a coordinator sees them in a real
browser: the charts draw, and the card prints without the admin around it."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.roles import COORDINATORS, role_group
from tests.e2e.conftest import PASSWORD, log_in
from tests.factories import make_group, make_places, make_staff
from thrift import services
from thrift.models import FeeType, Frequency, lagos_today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def coordinator_with_a_group():
    call_command("setup_roles", verbosity=0)
    user = make_staff(username="amaka", first_name="Amaka", last_name="Eze")
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(role_group(COORDINATORS))
    group = make_group(
        user,
        name="Unity Weekly",
        frequency=Frequency.WEEKLY,
        contribution_amount=Decimal("10000.00"),
        fee_type=FeeType.FIXED,
        fee_value=Decimal("1000.00"),
        start_date=lagos_today() - datetime.timedelta(weeks=2),
    )
    make_places(group, 4, by=user)
    cycle = services.start_cycle(group, by=user, route="test")
    first = cycle.rounds.get(number=1)
    services.mark_paid(
        list(first.contributions.order_by("pk")[:3]), by=user, route="test"
    )
    services.record_payout(
        first, by=user, route="test", override_reason="One share still owed."
    )
    return user, group


def test_dashboard_draws_its_figures_and_charts(page):
    coordinator_with_a_group()
    log_in(page, "amaka")

    assert page.url.endswith("/admin/")
    # Three shares of round 1 (two weeks ago) paid today; its fourth and
    # all four of round 2 (a week ago) are overdue.
    figure = "#figure-{} .figure-value"
    assert page.inner_text(figure.format("collected-this-month")) == "₦30,000.00"
    assert page.inner_text(figure.format("arrears")) == "₦50,000.00"
    for chart in ("#collections-chart svg", "#arrears-chart svg"):
        box = page.locator(chart).bounding_box()
        assert box["width"] > 200 and box["height"] > 100
    assert page.locator("#arrears-chart svg rect.rect").count() == 1
    page.steps.shot("dashboard")


def test_ledger_card_opens_from_the_group_and_prints_alone(page):
    _, group = coordinator_with_a_group()
    log_in(page, "amaka")

    page.goto(f"/admin/thrift/thriftgroup/{group.pk}/change/")
    page.click("#ledger-card-link")
    page.wait_for_load_state()

    assert page.locator("#ledger-grid td.cell.paid").count() == 3
    assert page.locator("#ledger-grid td.cell.overdue").count() >= 1
    assert page.locator("#jazzy-sidebar").is_visible()
    page.steps.shot("ledger-card")

    page.emulate_media(media="print")
    assert not page.locator("#jazzy-sidebar").is_visible()
    assert not page.locator("#jazzy-navbar").is_visible()
    assert page.locator("#ledger-grid").is_visible()
    page.steps.shot("ledger-card-print")


# Each figure's value (the text itself, not its box) against its icon and
# its card, in page pixels; an icon the theme hides is not in the way.
FIGURE_LAYOUT = """() => [...document.querySelectorAll('.figure')].map(f => {
    const value = f.querySelector('.figure-value');
    const range = document.createRange();
    range.selectNodeContents(value);
    const v = range.getBoundingClientRect();
    const i = f.querySelector('.small-box-icon').getBoundingClientRect();
    const card = f.querySelector('.small-box').getBoundingClientRect();
    const iconShown = getComputedStyle(f.querySelector('.small-box-icon')).display !== 'none';
    const apart = v.right <= i.left || i.right <= v.left || v.bottom <= i.top || i.bottom <= v.top;
    return {
        text: value.textContent.trim(),
        overlaps: iconShown && !apart,
        inside: v.left >= card.left && v.right <= card.right,
        lines: Math.round(v.height / parseFloat(getComputedStyle(value).lineHeight)),
    };
})"""


@pytest.mark.parametrize("width, height", [(1366, 900), (390, 844)])
def test_big_amounts_keep_clear_of_the_figure_icons(page, width, height):
    call_command("setup_roles", verbosity=0)
    user = make_staff(username="amaka", first_name="Amaka", last_name="Eze")
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(role_group(COORDINATORS))
    group = make_group(
        user,
        name="Lekki Traders",
        contribution_amount=Decimal("123456789.00"),
        start_date=lagos_today() - datetime.timedelta(days=40),
    )
    make_places(group, 3, by=user)
    cycle = services.start_cycle(group, by=user, route="test")
    first = cycle.rounds.get(number=1).contributions.order_by("pk").first()
    services.pay_contribution(first, by=user, route="test")
    page.set_viewport_size({"width": width, "height": height})

    log_in(page, "amaka")
    page.steps.shot("figures")
    figures = {f["text"]: f for f in page.evaluate(FIGURE_LAYOUT)}

    # Round 1 (40 days ago) and round 2 (10 days ago) are overdue but for
    # the one share paid today.
    assert {"₦123,456,789.00", "₦617,283,945.00"} <= figures.keys()
    for f in figures.values():
        assert (f["text"], f["overlaps"], f["inside"], f["lines"]) == (
            f["text"],
            False,
            True,
            1,
        )
