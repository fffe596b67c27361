"""Swapping two places' payout positions inside a running cycle."""

import datetime
from decimal import Decimal

import pytest

from tests.factories import make_group, make_places, make_staff, running_group
from tests.thrift.support import ROUTE, last_history, state_of
from thrift import exceptions as err
from thrift import services
from thrift.models import Membership, PositionSwap, Round

pytestmark = pytest.mark.django_db


def named(place, first, last):
    place.member.first_name, place.member.last_name = first, last
    place.member.save()
    return place


def swap(a, b, reason="Ada travels in March", **kwargs):
    kwargs.setdefault("by", a.group.coordinator)
    kwargs.setdefault("route", ROUTE)
    return services.swap_positions(a, b, reason=reason, **kwargs)


def recipients(cycle):
    return list(cycle.rounds.order_by("number").values_list("recipient", flat=True))


def test_swap_exchanges_positions_and_rounds_and_records_who_and_why():
    group, places, cycle = running_group(4)
    a, b = places[0], places[2]

    s = swap(a, b)

    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.position, b.position) == (3, 1)
    assert recipients(cycle) == [b.pk, places[1].pk, a.pk, places[3].pk]
    s.refresh_from_db()
    assert (s.cycle, s.first, s.second) == (cycle, a, b)
    assert (s.first_position, s.second_position) == (1, 3)
    assert (s.reason, s.swapped_by) == ("Ada travels in March", group.coordinator)
    due = list(cycle.rounds.order_by("number").values_list("due_date", flat=True))
    assert due[0] == datetime.date(2026, 1, 31)


def test_the_swapped_place_collects_in_its_new_round():
    group, places, cycle = running_group(3)
    swap(places[0], places[1])
    first = cycle.rounds.get(number=1)
    services.mark_paid(first.contributions.all(), by=group.coordinator, route=ROUTE)

    p = services.record_payout(first, by=group.coordinator, route=ROUTE)

    assert p.membership == places[1]
    assert p.amount == Decimal("30000.00")


def test_swap_history_names_the_user_and_route():
    group, places, cycle = running_group(3)
    a, b = places[1], places[2]

    s = swap(a, b, route="admin: swap positions")

    for obj in (s, a, b, cycle.rounds.get(number=2), cycle.rounds.get(number=3)):
        row = last_history(obj)
        assert row.history_user == group.coordinator
        assert row.history_change_reason == "admin: swap positions"
    assert last_history(a).position == 3
    assert last_history(cycle.rounds.get(number=2)).recipient_id == b.pk


def test_swap_is_refused_once_either_place_has_collected():
    group, places, cycle = running_group(3)
    first = cycle.rounds.get(number=1)
    services.mark_paid(first.contributions.all(), by=group.coordinator, route=ROUTE)
    services.record_payout(first, by=group.coordinator, route=ROUTE)
    named(places[0], "Kemi", "Ojo")
    before = state_of(group)

    with pytest.raises(err.SwapRefused) as refusal:
        swap(places[0], places[1])
    with pytest.raises(err.SwapRefused):
        swap(places[2], places[0])

    assert str(refusal.value) == (
        f"Kemi Ojo has already collected in {cycle} (round 1); positions of "
        "collected places are fixed."
    )
    assert state_of(group) == before


def test_swap_across_groups_is_refused():
    group, places, _ = running_group(2)
    other, other_places, _ = running_group(2, coordinator=group.coordinator)
    named(places[0], "Kemi", "Ojo")
    named(other_places[0], "Bola", "Ade")
    before = (state_of(group), state_of(other))

    with pytest.raises(err.SwapRefused) as refusal:
        swap(places[0], other_places[0])

    assert str(refusal.value) == "Kemi Ojo and Bola Ade are in different groups."
    assert (state_of(group), state_of(other)) == before


def test_swap_with_itself_is_refused():
    group, places, _ = running_group(2)
    before = state_of(group)

    with pytest.raises(err.SwapRefused) as refusal:
        swap(places[0], places[0])

    assert str(refusal.value) == "Choose two different places to swap."
    assert state_of(group) == before


def test_swap_with_a_place_that_left_is_refused():
    group, places, _ = running_group(3)
    services.leave_group(
        places[2], by=group.coordinator, route=ROUTE, today=datetime.date(2026, 1, 1)
    )
    named(places[2], "Kemi", "Ojo")
    before = state_of(group)

    with pytest.raises(err.SwapRefused) as refusal:
        swap(places[0], places[2])

    assert str(refusal.value) == f"Kemi Ojo has left {group.name}."
    assert state_of(group) == before


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_swap_without_a_reason_is_refused(reason):
    group, places, _ = running_group(2)
    before = state_of(group)

    with pytest.raises(err.SwapRefused) as refusal:
        swap(places[0], places[1], reason=reason)

    assert str(refusal.value) == "Say why the payout order changes."
    assert state_of(group) == before


def test_swap_without_an_open_cycle_is_refused():
    group = make_group()
    a, b = make_places(group, 2)
    before = state_of(group)

    with pytest.raises(err.SwapRefused) as refusal:
        swap(a, b)

    assert str(refusal.value) == (
        f"{group.name} has no open cycle; set positions directly on the places."
    )
    assert state_of(group) == before


def test_another_coordinator_may_not_swap():
    group, places, _ = running_group(2)
    before = state_of(group)

    with pytest.raises(err.NotAllowed):
        swap(places[0], places[1], by=make_staff())

    assert state_of(group) == before
    assert not PositionSwap.objects.exists()
    assert list(
        Membership.objects.order_by("pk").values_list("position", flat=True)
    ) == [1, 2]
    assert Round.objects.filter(recipient__isnull=True).count() == 0
