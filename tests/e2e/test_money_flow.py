"""A whole rotation's money in a real browser: start a cycle, mark
contributions paid through the action page, pay out with and without an
override, import a payments file through preview and confirm, then read
the record's history and the audit log."""

import datetime

import pytest

from tests.e2e.conftest import PASSWORD, log_in
from tests.factories import make_group, make_places, make_staff
from thrift.models import Contribution, Cycle, Payout, lagos_today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def group():
    owner = make_staff(
        username="owner", is_superuser=True, first_name="Platform", last_name="Owner"
    )
    owner.set_password(PASSWORD)
    owner.save()
    group = make_group(
        coordinator=owner,
        name="Mushin Traders Esusu",
        frequency="weekly",
        start_date=lagos_today() - datetime.timedelta(weeks=2),
    )
    make_places(group, 3, by=owner)
    return group


def mark_paid(page, group, round_number: int, count: int, reference: str) -> None:
    due = group.due_date(group.start_date, round_number)
    page.goto(
        f"/admin/thrift/contribution/?group__id__exact={group.pk}"
        f"&status__exact=pending&due_date__gte={due}"
        f"&due_date__lt={due + datetime.timedelta(days=1)}"
    )
    boxes = page.locator("input.action-select")
    for n in range(count):
        boxes.nth(n).check()
    page.select_option("select[name=action]", "mark_paid")
    page.click("button[name=index]")
    page.wait_for_load_state()
    page.steps.shot("mark-paid-form")
    page.fill("input[name=reference]", reference)
    page.click("form#action-form button[type=submit], button:has-text('Mark paid')")
    page.wait_for_load_state()
    page.steps.shot("marked-paid")


def test_a_rotation_in_the_browser(page, group):
    log_in(page, "owner")

    # Start the cycle from the group's page.
    page.goto(f"/admin/thrift/thriftgroup/{group.pk}/change/")
    page.click("#start-cycle-button")
    page.wait_for_load_state()
    page.steps.shot("start-cycle-form")
    page.click("button[type=submit]:has-text('Start cycle')")
    page.wait_for_load_state()
    page.steps.shot("cycle-started")
    cycle = Cycle.objects.get(group=group)
    assert cycle.rounds.count() == 3

    # Two of round 1's three contributions through the action page.
    mark_paid(page, group, 1, 2, "TRF-E2E-1")
    assert "2 marked paid" in page.content()
    assert (
        Contribution.objects.filter(
            round__cycle=cycle, round__number=1, status="paid", reference="TRF-E2E-1"
        ).count()
        == 2
    )

    # Round 1's payout needs an override: one contribution is outstanding.
    page.goto(f"/admin/thrift/thriftgroup/{group.pk}/change/")
    page.click("#record-payout-button")
    page.wait_for_load_state()
    page.steps.shot("payout-needs-override")
    assert page.locator("textarea[name=override_reason]").count() == 1
    page.click("button[type=submit]:has-text('Record payout')")
    page.wait_for_load_state()
    page.steps.shot("override-required")
    assert Payout.objects.count() == 0
    page.fill("textarea[name=override_reason]", "Paid on market day; Bisi pays Friday.")
    page.click("button[type=submit]:has-text('Record payout')")
    page.wait_for_load_state()
    page.steps.shot("paid-out-with-override")
    first = Payout.objects.get(round__number=1)
    assert first.override_reason == "Paid on market day; Bisi pays Friday."
    assert first.amount == group.contribution_amount * 3

    # Round 2 fully paid: the payout needs no override.
    mark_paid(page, group, 2, 3, "TRF-E2E-2")
    page.goto(f"/admin/thrift/thriftgroup/{group.pk}/change/")
    page.click("#record-payout-button")
    page.wait_for_load_state()
    assert page.locator("textarea[name=override_reason]").count() == 0
    page.click("button[type=submit]:has-text('Record payout')")
    page.wait_for_load_state()
    page.steps.shot("paid-out")
    second = Payout.objects.get(round__number=2)
    assert second.override_reason == ""

    # Round 3 comes in from a spreadsheet: preview, then confirm.
    rows = ["group,member,round,amount_paid,paid_on,method,reference,status"]
    for c in Contribution.objects.filter(round__cycle=cycle, round__number=3):
        rows.append(
            f"{group.name},{c.membership.member.phone},3,"
            f'"{c.amount_due:,.2f}",{lagos_today():%d/%m/%Y},transfer,'
            f"TRF-FILE-{c.pk},paid"
        )
    page.goto("/admin/thrift/contribution/import/")
    page.set_input_files(
        "input[type=file]",
        files=[
            {
                "name": "round3.csv",
                "mimeType": "text/csv",
                "buffer": ("\n".join(rows) + "\n").encode(),
            }
        ],
    )
    page.steps.shot("import-form")
    page.click("input[type=submit][value='Preview import']")
    page.wait_for_load_state()
    page.steps.shot("import-preview")
    assert Contribution.objects.filter(round__number=3, status="paid").count() == 0
    page.click("input[name=confirm]")
    page.wait_for_load_state()
    page.steps.shot("import-confirmed")
    assert Contribution.objects.filter(round__number=3, status="paid").count() == 3

    # The history of one contribution, and the audit log.
    paid = Contribution.objects.filter(reference="TRF-E2E-1").first()
    page.goto(f"/admin/thrift/contribution/{paid.pk}/history/")
    page.steps.shot("history")
    history = page.content()
    assert "admin action: Mark paid" in history
    assert "₦0.00" in history and "₦10,000.00" in history
    page.goto("/admin/audit/?route_contains=import")
    page.steps.shot("audit-log-imports")
    assert "import: round3.csv" in page.content()
