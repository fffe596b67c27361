import datetime
from decimal import Decimal

import pytest

from tests.factories import running_group
from tests.thrift.spreadsheet_files import run_import
from thrift import services
from thrift.models import Contribution, Payout, Round
from thrift.resources import PayoutResource

pytestmark = pytest.mark.django_db

HEADER = [
    "group",
    "round",
    "member",
    "amount",
    "paid_on",
    "reference",
    "override_reason",
]


@pytest.fixture
def group():
    group, places, cycle = running_group(places=3)
    group.places = places
    for c in Contribution.objects.filter(round__number__in=[1, 2]):
        services.pay_contribution(c, by=group.coordinator, route="test")
    return group


def payouts():
    return list(
        Payout.objects.order_by("pk").values_list(
            "round__number", "amount", "paid_on", "reference"
        )
    )


def test_payouts_are_recorded_through_the_service_once(group):
    first_member = group.places[0].member
    rows = [
        HEADER,
        [group.name, "1", first_member.phone, "₦30,000", "31/01/2026", "PAY1", ""],
        [group.name, "2", "", "", "2026-02-28", "PAY2", ""],
    ]
    first = run_import(
        PayoutResource, rows, user=group.coordinator, file_name="out.csv"
    )
    again = run_import(
        PayoutResource, rows, user=group.coordinator, file_name="out.csv"
    )

    assert first.error_messages() == []
    assert first.counts()["new"] == 2
    assert first.rows[0].note == (
        f"pays out ₦30,000.00 to {first_member} (pot ₦30,000.00 less ₦0.00 fee)"
    )
    assert again.counts() == {"new": 0, "updated": 0, "unchanged": 2, "errors": 0}
    assert payouts() == [
        (1, Decimal("30000.00"), datetime.date(2026, 1, 31), "PAY1"),
        (2, Decimal("30000.00"), datetime.date(2026, 2, 28), "PAY2"),
    ]
    payout = Payout.objects.get(round__number=1)
    record = payout.history.get()
    assert (record.history_user, record.history_change_reason) == (
        group.coordinator,
        "import: out.csv",
    )
    assert Round.objects.get(pk=payout.round_id).status == Round.Status.PAID_OUT


def test_a_second_payout_for_a_round_is_a_row_error(group):
    rows = [HEADER, [group.name, "1", "", "", "2026-01-31", "PAY1", ""]]
    run_import(PayoutResource, rows, user=group.coordinator)
    before = payouts()
    rows = [HEADER, [group.name, "1", "", "", "2026-02-01", "PAY1-AGAIN", ""]]
    result = run_import(PayoutResource, rows, user=group.coordinator)

    assert result.error_messages() == [
        f"Row 2, column round: {group.name} C1 R1 has already been paid out."
    ]
    assert payouts() == before


def test_two_rows_paying_one_round_in_one_file_write_nothing(group):
    rows = [
        HEADER,
        [group.name, "1", "", "", "2026-01-31", "PAY1", ""],
        [group.name, "1", "", "", "2026-01-31", "PAY1B", ""],
    ]
    result = run_import(PayoutResource, rows, user=group.coordinator)

    assert result.error_messages() == [
        f"Row 3, column round: {group.name} C1 R1 has already been paid out."
    ]
    assert payouts() == []


def test_a_payout_to_someone_else_than_the_recipient_is_refused(group):
    second = group.places[1].member
    rows = [HEADER, [group.name, "1", second.phone, "", "2026-01-31", "", ""]]
    result = run_import(PayoutResource, rows, user=group.coordinator)

    assert result.error_messages() == [
        f"Row 2, column member: Round 1 of {group.name} is collected by "
        f"{group.places[0].member}, not {second}."
    ]


def test_a_payout_to_someone_who_already_collected_is_refused(group):
    first = group.places[0].member
    rows = [HEADER, [group.name, "1", first.phone, "", "2026-01-31", "", ""]]
    run_import(PayoutResource, rows, user=group.coordinator)
    before = payouts()
    rows = [HEADER, [group.name, "2", first.phone, "", "2026-02-28", "", ""]]
    result = run_import(PayoutResource, rows, user=group.coordinator)

    assert result.error_messages() == [
        f"Row 2, column member: {first} has already collected in {group.name} "
        "cycle 1 (round 1)."
    ]
    assert payouts() == before


def test_outstanding_contributions_need_an_override_reason(group):
    rows = [HEADER, [group.name, "3", "", "", "2026-03-31", "", ""]]
    result = run_import(PayoutResource, rows, user=group.coordinator)

    assert result.error_messages() == [
        f"Row 2, column override_reason: {group.name} C1 R3: 3 contribution(s) "
        "totalling ₦30,000.00 are outstanding. Give an override reason to pay out "
        "anyway."
    ]
    rows[1][6] = "Members pay at month end"
    result = run_import(PayoutResource, rows, user=group.coordinator)
    assert result.error_messages() == []
    assert Payout.objects.get().override_reason == "Members pay at month end"


def test_an_amount_that_differs_from_the_pot_less_fee_is_refused(group):
    rows = [HEADER, [group.name, "1", "", "29,000", "2026-01-31", "", ""]]
    result = run_import(PayoutResource, rows, user=group.coordinator)

    assert result.error_messages() == [
        "Row 2, column amount: The pot less the service fee is ₦30,000.00, but the "
        "file says ₦29,000.00."
    ]
    assert payouts() == []


def test_payouts_of_another_coordinators_group_are_refused(group, other_coordinator):
    rows = [HEADER, [group.name, "1", "", "", "2026-01-31", "", ""]]
    result = run_import(PayoutResource, rows, user=other_coordinator)

    assert result.error_messages() == [
        f"Row 2, column group: {group.name} is run by another coordinator; you can "
        "import only into your own groups."
    ]
