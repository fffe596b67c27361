"""A small book of two groups, built through the services, whose every
report figure is worked out by hand in the tests.

T is today in Africa/Lagos. Alpha Ajo (weekly, ₦10,000 a place, fixed fee
₦1,000, run by `coordinator`) has four places, rounds due T-22, T-15, T-8
and T-1:

    place      R1 (T-22)        R2 (T-15)   R3 (T-8)   R4 (T-1)
    1 Ada      paid (last mo.)  paid (T)    owes 10k   waived
    2 Bola     paid (last mo.)  paid (T)    owes 10k   waived
    3 Chidi    paid (last mo.)  owes 10k    owes 10k   waived
    4 Dapo     4k of 10k (T)    owes 10k    owes 10k   waived

R1 paid out to Ada and R2 to Bola (₦39,000 each, with an override). Ada
then left having collected (she still owes R3); Dapo left before
collecting, which cancelled R4 and waived its shares. Arrears ₦66,000 over
7 overdue contributions; paid in ₦54,000, ₦24,000 of it this month and
₦30,000 last month.

Beta Esusu (monthly, ₦20,000, 10% fee, run by `other_coordinator`) has
three places and R1 due at T+3: Efe paid it two months ago, Funmi paid it
today, Gozie part-paid ₦5,000 today. Nothing overdue; its R1 payout is
due within the week: pot ₦60,000 less ₦6,000 fee = ₦54,000 to Efe.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest

from accounts.models import User
from tests.factories import make_group, make_user
from thrift import services
from thrift.models import (
    Cycle,
    FeeType,
    Frequency,
    Membership,
    ThriftGroup,
    add_months,
    lagos_today,
)

ROUTE = "test"


@dataclass
class Book:
    today: datetime.date
    this_month: datetime.date
    last_month: datetime.date
    alpha: ThriftGroup
    alpha_cycle: Cycle
    beta: ThriftGroup
    beta_cycle: Cycle
    places: dict[str, Membership]

    def member(self, name: str) -> User:
        return self.places[name].member


def _pay(contribution, by, paid_on, amount=None):
    services.pay_contribution(
        contribution, by=by, route=ROUTE, paid_on=paid_on, amount=amount
    )


def _share(cycle: Cycle, round_number: int, place: Membership):
    return cycle.rounds.get(number=round_number).contributions.get(membership=place)


@pytest.fixture
def book(coordinator, other_coordinator) -> Book:
    today = lagos_today()
    this_month = today.replace(day=1)
    last_month = add_months(this_month, -1)
    two_months_ago = add_months(this_month, -2)

    alpha = make_group(
        coordinator,
        name="Alpha Ajo",
        frequency=Frequency.WEEKLY,
        contribution_amount=Decimal("10000.00"),
        fee_type=FeeType.FIXED,
        fee_value=Decimal("1000.00"),
        start_date=today - datetime.timedelta(days=22),
    )
    places = {}
    for name in ("Ada", "Bola", "Chidi", "Dapo"):
        member = make_user(first_name=name, last_name="Alpha")
        places[name] = services.join_group(alpha, member, by=coordinator, route=ROUTE)
    alpha_cycle = services.start_cycle(alpha, by=coordinator, route=ROUTE)

    for name in ("Ada", "Bola", "Chidi"):
        _pay(_share(alpha_cycle, 1, places[name]), coordinator, last_month)
    _pay(_share(alpha_cycle, 1, places["Dapo"]), coordinator, today, Decimal("4000"))
    for name in ("Ada", "Bola"):
        _pay(_share(alpha_cycle, 2, places[name]), coordinator, today)
    for number in (1, 2):
        services.record_payout(
            alpha_cycle.rounds.get(number=number),
            by=coordinator,
            route=ROUTE,
            paid_on=today - datetime.timedelta(days=29 - 7 * number),
            override_reason="Paid on the day; shortfall to be chased.",
        )
    services.leave_group(places["Ada"], by=coordinator, route=ROUTE)
    services.leave_group(places["Dapo"], by=coordinator, route=ROUTE)

    beta = make_group(
        other_coordinator,
        name="Beta Esusu",
        frequency=Frequency.MONTHLY,
        contribution_amount=Decimal("20000.00"),
        fee_type=FeeType.PERCENT,
        fee_value=Decimal("10.00"),
        start_date=today + datetime.timedelta(days=3),
    )
    for name in ("Efe", "Funmi", "Gozie"):
        member = make_user(first_name=name, last_name="Beta")
        places[name] = services.join_group(
            beta, member, by=other_coordinator, route=ROUTE
        )
    beta_cycle = services.start_cycle(beta, by=other_coordinator, route=ROUTE)
    _pay(_share(beta_cycle, 1, places["Efe"]), other_coordinator, two_months_ago)
    _pay(_share(beta_cycle, 1, places["Funmi"]), other_coordinator, today)
    _pay(
        _share(beta_cycle, 1, places["Gozie"]),
        other_coordinator,
        today,
        Decimal("5000"),
    )

    for place in places.values():
        place.refresh_from_db()
    return Book(
        today=today,
        this_month=this_month,
        last_month=last_month,
        alpha=alpha,
        alpha_cycle=alpha_cycle,
        beta=beta,
        beta_cycle=beta_cycle,
        places=places,
    )


def login(client, user):
    client.force_login(user)
    return client


def big_group(coordinator, places: int, *, name: str) -> ThriftGroup:
    """A weekly group of `places` started five weeks ago, each place
    having paid round 1 and owing rounds 2 to 5."""
    today = lagos_today()
    group = make_group(
        coordinator,
        name=name,
        frequency=Frequency.WEEKLY,
        fee_type=FeeType.FIXED,
        fee_value=Decimal("500.00"),
        start_date=today - datetime.timedelta(weeks=5),
    )
    for _ in range(places):
        services.join_group(group, make_user(), by=coordinator, route=ROUTE)
    cycle = services.start_cycle(group, by=coordinator, route=ROUTE)
    services.mark_paid(
        list(cycle.rounds.get(number=1).contributions.all()),
        by=coordinator,
        route=ROUTE,
        paid_on=today,
    )
    services.record_payout(
        cycle.rounds.get(number=1), by=coordinator, route=ROUTE, paid_on=today
    )
    return group
