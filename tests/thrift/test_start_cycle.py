"""Starting a cycle: the payout order, the rounds' due dates, one pending
contribution per place per round, and who may join when."""

import datetime
import random
from decimal import Decimal

import pytest

from tests.factories import make_group, make_places, make_staff, make_user
from tests.thrift.support import ROUTE, last_history, state_of
from thrift import exceptions as err
from thrift import services
from thrift.models import (
    Contribution,
    Cycle,
    Frequency,
    GroupStatus,
    Membership,
    Round,
)

pytestmark = pytest.mark.django_db

D = datetime.date


def start(group, **kwargs):
    return services.start_cycle(group, by=group.coordinator, route=ROUTE, **kwargs)


def order_of(cycle) -> list[int]:
    """Membership pks in the order they collect."""
    return list(cycle.rounds.order_by("number").values_list("recipient", flat=True))


def test_places_are_ordered_by_join_order():
    group = make_group()
    places = make_places(group, 3)

    cycle = start(group)

    assert order_of(cycle) == [p.pk for p in places]
    positions = Membership.objects.order_by("pk").values_list("position", flat=True)
    assert list(positions) == [1, 2, 3]
    assert cycle.number == 1
    assert cycle.order_method == Cycle.OrderMethod.JOIN_ORDER
    assert cycle.draw_seed is None
    assert cycle.started_by == group.coordinator


def test_hand_set_positions_are_kept_and_the_rest_fill_by_join_order():
    group = make_group()
    first, second = make_places(group, 2)
    third = services.join_group(
        group, make_user(), by=group.coordinator, route=ROUTE, position=1
    )
    fourth = services.join_group(
        group, make_user(), by=group.coordinator, route=ROUTE, position=3
    )

    cycle = start(group)

    assert order_of(cycle) == [third.pk, first.pk, fourth.pk, second.pk]


def test_random_draw_stores_its_seed_and_replays_the_same_order():
    group = make_group()
    places = make_places(group, 6)
    keep = services.join_group(
        group, make_user(), by=group.coordinator, route=ROUTE, position=4
    )

    cycle = start(group, order_method=Cycle.OrderMethod.RANDOM, seed=20260131)

    assert cycle.draw_seed == 20260131
    assert cycle.order_method == Cycle.OrderMethod.RANDOM
    drawn = [p.pk for p in places]
    random.Random(20260131).shuffle(drawn)
    assert order_of(cycle) == drawn[:3] + [keep.pk] + drawn[3:]


def test_random_draw_without_a_seed_picks_one_that_replays():
    group = make_group()
    make_places(group, 5)
    twin = make_group()
    make_places(twin, 5)

    cycle = start(group, order_method=Cycle.OrderMethod.RANDOM)
    replay = start(twin, order_method=Cycle.OrderMethod.RANDOM, seed=cycle.draw_seed)

    assert cycle.draw_seed is not None
    joined = list(group.memberships.order_by("pk").values_list("pk", flat=True))
    twin_joined = list(twin.memberships.order_by("pk").values_list("pk", flat=True))
    assert [joined.index(pk) for pk in order_of(cycle)] == [
        twin_joined.index(pk) for pk in order_of(replay)
    ]


@pytest.mark.parametrize(
    ("frequency", "start_date", "expected"),
    [
        (
            Frequency.MONTHLY,
            D(2026, 1, 31),
            [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30)],
        ),
        (
            Frequency.MONTHLY,
            D(2028, 1, 31),
            [D(2028, 1, 31), D(2028, 2, 29), D(2028, 3, 31), D(2028, 4, 30)],
        ),
        (
            Frequency.MONTHLY,
            D(2026, 11, 30),
            [D(2026, 11, 30), D(2026, 12, 30), D(2027, 1, 30), D(2027, 2, 28)],
        ),
        (
            Frequency.DAILY,
            D(2026, 2, 27),
            [D(2026, 2, 27), D(2026, 2, 28), D(2026, 3, 1), D(2026, 3, 2)],
        ),
        (
            Frequency.WEEKLY,
            D(2026, 12, 28),
            [D(2026, 12, 28), D(2027, 1, 4), D(2027, 1, 11), D(2027, 1, 18)],
        ),
        (
            Frequency.BIWEEKLY,
            D(2026, 2, 20),
            [D(2026, 2, 20), D(2026, 3, 6), D(2026, 3, 20), D(2026, 4, 3)],
        ),
    ],
)
def test_due_dates_follow_the_frequency(frequency, start_date, expected):
    group = make_group(frequency=frequency, start_date=start_date)
    make_places(group, 4)

    cycle = start(group)

    dates = list(cycle.rounds.order_by("number").values_list("due_date", flat=True))
    assert dates == expected
    assert cycle.start_date == start_date


def test_one_pending_contribution_per_place_per_round():
    group = make_group(contribution_amount=Decimal("2500.00"))
    places = make_places(group, 3)

    cycle = start(group)

    rows = list(
        Contribution.objects.order_by("round__number", "membership").values_list(
            "round__number", "membership", "amount_due", "amount_paid", "status"
        )
    )
    assert rows == [
        (n, p.pk, Decimal("2500.00"), Decimal("0.00"), Contribution.Status.PENDING)
        for n in (1, 2, 3)
        for p in places
    ]
    for r in cycle.rounds.all():
        due = set(r.contributions.values_list("due_date", flat=True))
        assert due == {r.due_date}
    group.refresh_from_db()
    assert group.status == GroupStatus.ACTIVE


def test_start_writes_rounds_and_contributions_in_bulk(django_assert_max_num_queries):
    group = make_group()
    make_places(group, 12)

    # Two writes per place for its position; rounds and the 144
    # contributions go in a handful of bulk inserts, not one per row.
    with django_assert_max_num_queries(50):
        start(group)

    assert Contribution.objects.filter(group=group).count() == 144


def test_start_is_refused_while_a_cycle_is_open():
    group = make_group()
    make_places(group, 2)
    start(group)
    before = state_of(group)

    with pytest.raises(err.CycleStillOpen) as refusal:
        start(group)

    assert str(refusal.value) == (
        f"{group.name} already has an open cycle; close it before starting the next."
    )
    assert state_of(group) == before


def test_start_is_refused_without_places():
    group = make_group()
    before = state_of(group)

    with pytest.raises(err.NoPlaces) as refusal:
        start(group)

    assert str(refusal.value) == (
        f"{group.name} has no active places to start a cycle with."
    )
    assert state_of(group) == before


def test_start_is_refused_when_only_departed_places_remain():
    group = make_group()
    (place,) = make_places(group, 1)
    services.leave_group(place, by=group.coordinator, route=ROUTE)

    with pytest.raises(err.NoPlaces):
        start(group)

    assert not Cycle.objects.filter(group=group).exists()


def test_a_position_beyond_the_number_of_places_is_refused():
    group = make_group()
    make_places(group, 2)
    member = make_user(first_name="Bola", last_name="Ade")
    services.join_group(group, member, by=group.coordinator, route=ROUTE, position=5)
    before = state_of(group)

    with pytest.raises(err.InvalidPositions) as refusal:
        start(group)

    assert str(refusal.value) == (
        "Bola Ade is set to position 5, but the group has only 3 places. Clear or "
        "lower that position."
    )
    assert state_of(group) == before


def test_joining_is_refused_while_a_cycle_runs():
    group = make_group()
    make_places(group, 2)
    start(group)
    member = make_user(first_name="Kemi", last_name="Ojo")
    before = state_of(group)

    with pytest.raises(err.JoinRefused) as refusal:
        services.join_group(group, member, by=group.coordinator, route=ROUTE)

    assert str(refusal.value) == (
        f"{group.name} has a cycle running; Kemi Ojo can join when it closes."
    )
    assert state_of(group) == before


def test_a_second_place_is_refused_without_two_hands():
    group = make_group(allow_multiple_places=False)
    member = make_user(first_name="Kemi", last_name="Ojo")
    services.join_group(group, member, by=group.coordinator, route=ROUTE)
    before = state_of(group)

    with pytest.raises(err.JoinRefused) as refusal:
        services.join_group(group, member, by=group.coordinator, route=ROUTE)

    assert str(refusal.value) == (
        f"Kemi Ojo already has a place in {group.name}, which does not allow two hands."
    )
    assert state_of(group) == before


def test_a_taken_or_zero_position_is_refused_on_joining():
    group = make_group()
    services.join_group(
        group, make_user(), by=group.coordinator, route=ROUTE, position=1
    )
    before = state_of(group)

    with pytest.raises(err.JoinRefused) as taken:
        services.join_group(
            group, make_user(), by=group.coordinator, route=ROUTE, position=1
        )
    with pytest.raises(err.JoinRefused) as zero:
        services.join_group(
            group, make_user(), by=group.coordinator, route=ROUTE, position=0
        )

    assert str(taken.value) == f"Position 1 in {group.name} is already taken."
    assert str(zero.value) == "Position 0 is not a position; count from 1."
    assert state_of(group) == before


def test_two_hands_pay_and_collect_on_their_own():
    group = make_group(allow_multiple_places=True)
    member = make_user()
    hand_one = services.join_group(group, member, by=group.coordinator, route=ROUTE)
    other = services.join_group(group, make_user(), by=group.coordinator, route=ROUTE)
    hand_two = services.join_group(group, member, by=group.coordinator, route=ROUTE)
    cycle = start(group)
    first, _, third = cycle.rounds.order_by("number")

    assert order_of(cycle) == [hand_one.pk, other.pk, hand_two.pk]
    assert Contribution.objects.filter(membership__member=member).count() == 6

    hand_one_share = Contribution.objects.get(round=first, membership=hand_one)
    services.pay_contribution(hand_one_share, by=group.coordinator, route=ROUTE)
    hand_two_share = Contribution.objects.get(round=first, membership=hand_two)
    hand_two_share.refresh_from_db()
    assert hand_two_share.status == Contribution.Status.PENDING

    for c in Contribution.objects.filter(round__in=[first, third]):
        services.pay_contribution(c, by=group.coordinator, route=ROUTE)
    one = services.record_payout(first, by=group.coordinator, route=ROUTE)
    two = services.record_payout(third, by=group.coordinator, route=ROUTE)
    assert (one.membership, two.membership) == (hand_one, hand_two)
    assert one.amount == two.amount == Decimal("30000.00")


def test_start_and_join_write_history_with_user_and_route():
    group = make_group()
    member = make_user()
    place = services.join_group(group, member, by=group.coordinator, route="join")

    cycle = services.start_cycle(group, by=group.coordinator, route="admin: start")

    joined = place.history.order_by("history_id").first()
    assert (joined.history_type, joined.history_user, joined.history_change_reason) == (
        "+",
        group.coordinator,
        "join",
    )
    placed = last_history(place)
    assert (placed.position, placed.history_change_reason) == (1, "admin: start")
    for obj in (
        cycle,
        Round.objects.get(cycle=cycle),
        Contribution.objects.get(group=group),
    ):
        row = last_history(obj)
        assert row.history_type == "+"
        assert row.history_user == group.coordinator
        assert row.history_change_reason == "admin: start"
    status = last_history(group)
    assert (status.status, status.history_user) == (
        GroupStatus.ACTIVE,
        group.coordinator,
    )


def test_another_coordinators_group_is_not_allowed():
    group = make_group()
    make_places(group, 2)
    outsider = make_staff(first_name="Tunde", last_name="Bello")
    before = state_of(group)

    with pytest.raises(err.NotAllowed) as refusal:
        services.start_cycle(group, by=outsider, route=ROUTE)
    with pytest.raises(err.NotAllowed):
        services.join_group(group, make_user(), by=outsider, route=ROUTE)

    assert (
        str(refusal.value) == f"Tunde Bello may not change the records of {group.name}."
    )
    assert state_of(group) == before
