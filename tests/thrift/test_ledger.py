"""The invariants checker: silent on records the services wrote, and
naming each break made on purpose around them."""

import pytest

from tests.factories import running_group
from tests.thrift.support import ROUTE, contribution
from thrift import services
from thrift.ledger import find_violations
from thrift.models import Contribution, Cycle, Membership, Payout, Round

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_round():
    group, places, cycle = running_group(3)
    first = cycle.rounds.get(number=1)
    services.mark_paid(first.contributions.all(), by=group.coordinator, route=ROUTE)
    services.record_payout(first, by=group.coordinator, route=ROUTE)
    return group, places, cycle, first


def test_records_written_by_the_services_keep_every_invariant(paid_round):
    group, places, cycle, _ = paid_round
    services.swap_positions(
        places[1], places[2], reason="travel", by=group.coordinator, route=ROUTE
    )
    services.leave_group(places[0], by=group.coordinator, route=ROUTE)

    assert find_violations() == []


def test_a_full_payment_left_pending_is_reported(paid_round):
    _, places, _, first = paid_round
    c = contribution(first, places[0])
    Contribution.objects.filter(pk=c.pk).update(status=Contribution.Status.PENDING)

    assert find_violations() == [
        f"contribution {c.pk}: paid in full but still pending."
    ]


def test_a_missing_share_is_reported(paid_round):
    _, places, cycle, _ = paid_round
    second = cycle.rounds.get(number=2)
    c = contribution(second, places[2])
    Contribution.objects.filter(pk=c.pk).delete()

    assert find_violations() == [
        f"round {second.pk}: 2 contributions for 3 places in its cycle."
    ]


def test_a_round_marked_paid_out_without_a_payout_is_reported(paid_round):
    _, _, cycle, _ = paid_round
    third = cycle.rounds.get(number=3)
    Round.objects.filter(pk=third.pk).update(status=Round.Status.PAID_OUT)

    assert find_violations() == [
        f"round {third.pk}: marked paid out but has no payout."
    ]


def test_a_position_out_of_step_with_its_round_is_reported(paid_round):
    _, places, cycle, _ = paid_round
    Membership.objects.filter(pk=places[2].pk).update(position=7)

    third = cycle.rounds.get(number=3)
    assert find_violations() == [
        f"place {places[2].pk}: position differs from round {third.pk}'s number."
    ]


def test_a_payout_to_the_wrong_place_is_reported(paid_round):
    _, places, _, first = paid_round
    payout = Payout.objects.get(round=first)
    Payout.objects.filter(pk=payout.pk).update(membership=places[1])

    assert find_violations() == [
        f"payout {payout.pk}: not to its round's recipient in its cycle."
    ]


def test_a_second_open_cycle_is_reported(paid_round):
    group, _, cycle, _ = paid_round
    extra = Cycle.objects.create(
        group=group, number=2, start_date=cycle.start_date, started_by=group.coordinator
    )

    assert find_violations() == [
        f"cycle {extra.pk}: rounds are not numbered 1 to 0.",
        f"group {group.pk}: 2 open cycles.",
    ]
