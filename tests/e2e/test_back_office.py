"""A treasurer's day in the back-office, in a real browser."""

import pytest

from accounts.roles import COORDINATORS, role_group
from tests.e2e.conftest import PASSWORD, choose, log_in
from tests.factories import make_group, make_places, make_staff, make_user
from thrift import services
from thrift.models import Membership, ThriftGroup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def staff(username: str, **fields):
    user = make_staff(username=username, **fields)
    user.set_password(PASSWORD)
    user.save()
    return user


def coordinator(username: str):
    from django.core.management import call_command

    call_command("setup_roles", verbosity=0)
    user = staff(username)
    user.groups.add(role_group(COORDINATORS))
    return user


def test_log_in_and_open_the_dashboard(page):
    staff("owner", is_superuser=True, first_name="Platform", last_name="Owner")

    page.goto("/")
    page.steps.shot("login-page")
    log_in(page, "owner")

    assert page.url.endswith("/admin/")
    assert "Thrift MS" in page.title()
    page.steps.shot("dashboard")


def test_wrong_password_is_refused(page):
    staff("owner", is_superuser=True)
    log_in(page, "owner", "not-the-password")

    assert "/admin/login/" in page.url
    assert page.get_by_text("Please enter the correct username").is_visible()
    page.steps.shot("refused")


def test_create_a_group_and_add_members_inline(page):
    staff("owner", is_superuser=True, first_name="Platform", last_name="Owner")
    first = make_user(first_name="Adaeze", last_name="Okafor")
    second = make_user(first_name="Chinedu", last_name="Eze")

    log_in(page, "owner")
    page.goto("/admin/thrift/thriftgroup/add/")
    page.fill("input[name=name]", "Oshodi Market Ajo")
    choose(page, "id_coordinator", "owner", "Platform Owner")
    page.click(".nav-tabs >> text=Money")
    page.fill("input[name=contribution_amount]", "5000")
    page.select_option("select[name=frequency]", "weekly")
    page.fill("input[name=start_date]", "2026-12-07")
    page.click(".nav-tabs >> text=Places")
    for n, member in enumerate([first, second]):
        page.click(".add-row a, a:has-text('Add another')")
        choose(page, f"id_memberships-{n}-member", member.last_name, str(member))
        page.fill(f"input[name='memberships-{n}-position']", str(n + 1))
    page.steps.shot("filled")
    page.click("input[name=_save], button[name=_save]")
    page.wait_for_load_state()
    page.steps.shot("saved")

    group = ThriftGroup.objects.get(name="Oshodi Market Ajo")
    places = list(
        Membership.objects.filter(group=group).values_list("member", "position")
    )
    assert sorted(places) == sorted([(first.pk, 1), (second.pk, 2)])
    assert str(group.contribution_amount) == "5000.00"


def test_a_coordinator_cannot_reach_another_groups_records(page):
    mine = coordinator("amaka")
    theirs = coordinator("tunde")
    own_group = make_group(coordinator=mine, name="Amaka's Ajo")
    other_group = make_group(coordinator=theirs, name="Tunde's Esusu")
    make_places(other_group, 2)
    services.start_cycle(other_group, by=theirs, route="test")
    other_place = other_group.memberships.first()
    other_contribution = other_group.contributions.first()

    log_in(page, "amaka")
    page.goto("/admin/thrift/thriftgroup/")
    page.steps.shot("own-groups")
    assert page.get_by_text(own_group.name).count() >= 1
    assert page.get_by_text(other_group.name).count() == 0

    for path in (
        f"/admin/thrift/thriftgroup/{other_group.pk}/change/",
        f"/admin/thrift/membership/{other_place.pk}/change/",
        f"/admin/thrift/contribution/{other_contribution.pk}/change/",
    ):
        page.goto(path)
        page.steps.shot("blocked")
        # The admin answers with a redirect to its index and a message, or
        # a 404 or 403 page; never the record.
        assert other_group.name not in page.content()


def test_header_menu_and_action_bar_read_right(page):
    """The header's links and account menu are dark on the white header,
    and the action bar shows only the selection count until every row is
    selected (Django hides the rest with a class the theme lacks)."""
    staff("owner", is_superuser=True)
    group = make_group(name="Oja Ajo")
    make_places(group, 3)
    log_in(page, "owner")

    page.goto("/admin/thrift/membership/")
    account = page.locator("#jazzy-navbar a.nav-link.btn i.fa-user")
    colour = account.evaluate("e => getComputedStyle(e).color")
    page.steps.shot("header-and-action-bar")

    assert colour.startswith("rgba(0, 0, 0") or colour.startswith("rgb(33"), colour
    assert page.locator(".actions .action-counter").is_visible()
    assert not page.locator(".actions .all").is_visible()
    assert not page.locator(".actions .question").is_visible()
    page.locator("#action-toggle").check()
    assert page.locator(".actions .action-counter").inner_text() == "3 of 3 selected"
