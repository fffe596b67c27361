"""A member leaving a group: what is waived, what stays owed, and when
leaving has to wait."""

import datetime
from decimal import Decimal

import pytest

from tests.factories import make_group, make_places, make_staff, running_group
from tests.thrift.support import ROUTE, contribution, last_history, state_of
from thrift import exceptions as err
from thrift import services
from thrift.models import Contribution, Round

pytestmark = pytest.mark.django_db

D = datetime.date
PENDING, PAID, WAIVED = (
    Contribution.Status.PENDING,
    Contribution.Status.PAID,
    Contribution.Status.WAIVED,
)


@pytest.fixture
def mid_cycle():
    """Four places, monthly from 31 Jan 2026; round 1 paid in and out."""
    group, places, cycle = running_group(4)
    first = cycle.rounds.get(number=1)
    services.mark_paid(first.contributions.all(), by=group.coordinator, route=ROUTE)
    services.record_payout(first, by=group.coordinator, route=ROUTE)
    return group, places, cycle


def statuses(place):
    return list(
        Contribution.objects.filter(membership=place)
        .order_by("round__number")
        .values_list("round__number", "status", "amount_paid")
    )


def leave(place, today, **kwargs):
    kwargs.setdefault("by", place.group.coordinator)
    kwargs.setdefault("route", ROUTE)
    return services.leave_group(place, today=today, **kwargs)


def test_an_uncollected_member_gives_up_their_round(mid_cycle):
    group, places, cycle = mid_cycle
    leaver = places[2]

    # Round 2 falls due on the day they leave, so it is owed, not waived.
    result = leave(leaver, today=D(2026, 2, 28))

    assert (result.changed, result.waived) == (True, 5)
    third = cycle.rounds.get(number=3)
    assert result.cancelled_round == third
    third.refresh_from_db()
    assert third.status == Round.Status.CANCELLED
    assert statuses(leaver) == [
        (1, PAID, Decimal("10000.00")),
        (2, PENDING, Decimal("0.00")),
        (3, WAIVED, Decimal("0.00")),
        (4, WAIVED, Decimal("0.00")),
    ]
    assert set(third.contributions.values_list("status", flat=True)) == {WAIVED}
    assert statuses(places[1])[2:] == [
        (3, WAIVED, Decimal("0.00")),
        (4, PENDING, Decimal("0.00")),
    ]
    leaver.refresh_from_db()
    assert leaver.left_at is not None
    assert leaver.position is None


def test_the_pot_of_later_rounds_shrinks_by_the_leavers_share(mid_cycle):
    group, places, cycle = mid_cycle
    leave(places[2], today=D(2026, 2, 28))

    quote = services.quote_payout(cycle.rounds.get(number=4))

    assert quote.pot == Decimal("30000.00")


def test_a_member_who_collected_still_owes_the_rest_of_the_cycle(mid_cycle):
    group, places, cycle = mid_cycle
    collected = places[0]

    result = leave(collected, today=D(2026, 2, 1))

    assert (result.changed, result.waived, result.cancelled_round) == (
        True,
        0,
        None,
    )
    assert statuses(collected) == [
        (1, PAID, Decimal("10000.00")),
        (2, PENDING, Decimal("0.00")),
        (3, PENDING, Decimal("0.00")),
        (4, PENDING, Decimal("0.00")),
    ]
    first = cycle.rounds.get(number=1)
    assert first.status == Round.Status.PAID_OUT
    owed = Contribution.objects.filter(membership=collected)
    assert owed.arrears_total(D(2026, 5, 1)) == Decimal("30000.00")


def test_a_part_payment_towards_a_later_round_stays_on_record(mid_cycle):
    group, places, cycle = mid_cycle
    fourth = cycle.rounds.get(number=4)
    ahead = contribution(fourth, places[2])
    services.pay_contribution(
        ahead, by=group.coordinator, route=ROUTE, amount=Decimal("1500.00")
    )

    leave(places[2], today=D(2026, 2, 1))

    ahead.refresh_from_db()
    assert (ahead.status, ahead.amount_paid) == (PENDING, Decimal("1500.00"))


def test_leaving_is_refused_when_money_is_in_the_leavers_round(mid_cycle):
    group, places, cycle = mid_cycle
    leaver = places[2]
    leaver.member.first_name, leaver.member.last_name = "Kemi", "Ojo"
    leaver.member.save()
    third = cycle.rounds.get(number=3)
    services.pay_contribution(
        contribution(third, places[0]),
        by=group.coordinator,
        route=ROUTE,
        amount=Decimal("2000.00"),
    )
    before = state_of(group)

    with pytest.raises(err.LeaveRefused) as refusal:
        leave(leaver, today=D(2026, 2, 1))

    assert str(refusal.value) == (
        "Kemi Ojo cannot leave yet: round 3 already holds ₦2,000.00 paid in for "
        "their payout. Pay it out, or correct those payments first."
    )
    assert state_of(group) == before


def test_leaving_twice_changes_nothing_the_second_time(mid_cycle):
    group, places, _ = mid_cycle
    leave(places[3], today=D(2026, 2, 1))
    before = state_of(group)

    again = leave(places[3], today=D(2026, 2, 1))

    assert (again.changed, again.waived, again.cancelled_round) == (False, 0, None)
    assert state_of(group) == before


def test_leaving_between_cycles_only_ends_the_place():
    group = make_group()
    place, other = make_places(group, 2)

    result = leave(place, today=D(2026, 1, 1))

    assert (result.changed, result.waived) == (True, 0)
    place.refresh_from_db()
    assert place.left_at is not None
    cycle = services.start_cycle(group, by=group.coordinator, route=ROUTE)
    assert list(cycle.rounds.values_list("recipient", flat=True)) == [other.pk]


def test_leave_history_names_the_user_and_route(mid_cycle):
    group, places, cycle = mid_cycle
    leaver = places[2]

    leave(leaver, today=D(2026, 2, 28), route="admin: leave group")

    waived = Contribution.objects.filter(status=WAIVED)
    assert waived.count() == 5
    for obj in [leaver, cycle.rounds.get(number=3), *waived]:
        row = last_history(obj)
        assert row.history_type == "~"
        assert row.history_user == group.coordinator
        assert row.history_change_reason == "admin: leave group"
    assert last_history(leaver).left_at is not None


def test_another_coordinator_may_not_end_a_place(mid_cycle):
    group, places, _ = mid_cycle
    before = state_of(group)

    with pytest.raises(err.NotAllowed):
        leave(places[2], today=D(2026, 2, 1), by=make_staff())

    assert state_of(group) == before
