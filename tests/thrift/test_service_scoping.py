"""Every money service refuses a coordinator acting on a group they do not
coordinate, whatever route the call came by, and writes nothing."""

from decimal import Decimal

import pytest

from tests.factories import make_group, make_places, make_user
from tests.thrift.support import ROUTE, state_of
from thrift import exceptions as err
from thrift import services
from thrift.models import Contribution

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign_group(coordinator):
    """A running group of `coordinator` with one round paid out."""
    group = make_group(coordinator=coordinator)
    make_places(group, 3)
    cycle = services.start_cycle(group, by=coordinator, route=ROUTE)
    first = cycle.rounds.get(number=1)
    services.mark_paid(first.contributions.all(), by=coordinator, route=ROUTE)
    services.record_payout(first, by=coordinator, route=ROUTE)
    return group, cycle


def calls(group, cycle, by):
    places = list(group.memberships.order_by("position"))
    second = cycle.rounds.get(number=2)
    share = Contribution.objects.filter(round=second).first()
    return {
        "join_group": lambda: services.join_group(
            group, make_user(), by=by, route=ROUTE
        ),
        "start_cycle": lambda: services.start_cycle(group, by=by, route=ROUTE),
        "pay_contribution": lambda: services.pay_contribution(
            share, by=by, route=ROUTE, amount=Decimal("1.00")
        ),
        "record_payout": lambda: services.record_payout(
            second, by=by, route=ROUTE, override_reason="mine"
        ),
        "swap_positions": lambda: services.swap_positions(
            places[1], places[2], reason="mine", by=by, route=ROUTE
        ),
        "leave_group": lambda: services.leave_group(places[2], by=by, route=ROUTE),
        "close_cycle": lambda: services.close_cycle(cycle, by=by, route=ROUTE),
    }


@pytest.mark.parametrize(
    "service",
    [
        "join_group",
        "start_cycle",
        "pay_contribution",
        "record_payout",
        "swap_positions",
        "leave_group",
        "close_cycle",
    ],
)
def test_another_coordinator_is_refused(foreign_group, other_coordinator, service):
    group, cycle = foreign_group
    call = calls(group, cycle, other_coordinator)[service]
    before = state_of(group)

    with pytest.raises(err.NotAllowed) as refusal:
        call()

    assert str(refusal.value) == (
        f"{other_coordinator} may not change the records of {group.name}."
    )
    assert state_of(group) == before


def test_mark_paid_counts_another_coordinators_rows_as_refused(
    foreign_group, other_coordinator
):
    group, cycle = foreign_group
    chosen = list(Contribution.objects.filter(round__cycle=cycle, round__number=2))
    before = state_of(group)

    result = services.mark_paid(chosen, by=other_coordinator, route=ROUTE)

    assert result.summary() == "0 marked paid; 3 refused"
    assert state_of(group) == before


def test_the_owner_may_act_on_any_group(foreign_group, owner):
    group, cycle = foreign_group
    second = cycle.rounds.get(number=2)

    result = services.mark_paid(second.contributions.all(), by=owner, route=ROUTE)
    payout = services.record_payout(second, by=owner, route=ROUTE)

    assert result.summary() == "3 marked paid"
    assert (payout.amount, payout.recorded_by) == (Decimal("30000.00"), owner)
