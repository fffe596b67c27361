"""Random runs of the money operations over a small group: whatever the
order, and whichever of them are refused, the invariants of the domain hold
after every step."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.factories import make_group, make_staff, make_user
from thrift import exceptions as err
from thrift import services
from thrift.ledger import find_violations
from thrift.models import Contribution, Cycle, FeeType, Membership, Payout, Round

pytestmark = pytest.mark.django_db

ROUTE = "property test"
START = datetime.date(2026, 1, 31)

AMOUNTS = [None, "0.01", "2500.00", "3333.33", "9999.99", "10000.00", "10000.01"]

pay = st.tuples(st.just("pay"), st.integers(0, 99), st.sampled_from(AMOUNTS))
operations = st.one_of(
    st.tuples(st.just("join"), st.integers(0, 4), st.none() | st.integers(0, 6)),
    st.tuples(st.just("start"), st.sampled_from(list(Cycle.OrderMethod))),
    pay,
    pay,
    pay,
    st.tuples(st.just("payout"), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("swap"), st.integers(0, 9), st.integers(0, 9)),
    st.tuples(st.just("leave"), st.integers(0, 9), st.integers(0, 200)),
    st.tuples(st.just("close")),
    st.tuples(st.just("finish")),
    st.tuples(st.just("intrude"), st.integers(0, 99)),
)

groups = st.fixed_dictionaries(
    {
        "frequency": st.sampled_from(["daily", "weekly", "biweekly", "monthly"]),
        "allow_multiple_places": st.booleans(),
        # Places joined and a cycle started before the random steps begin.
        "started_with": st.sampled_from([0, 0, 2, 3, 4]),
        "fee": st.sampled_from(
            [
                (FeeType.NONE, "0"),
                (FeeType.FIXED, "750.00"),
                (FeeType.FIXED, "30000.00"),
                (FeeType.PERCENT, "2.50"),
                (FeeType.PERCENT, "3.33"),
            ]
        ),
    }
)


def pick(items, index):
    return items[index % len(items)] if items else None


class Run:
    """One group, its would-be members and an outsider, driven step by step."""

    def __init__(self, config):
        fee_type, fee_value = config["fee"]
        self.group = make_group(
            frequency=config["frequency"],
            start_date=START,
            allow_multiple_places=config["allow_multiple_places"],
            fee_type=fee_type,
            fee_value=Decimal(fee_value),
        )
        self.by = self.group.coordinator
        self.members = [make_user() for _ in range(5)]
        self.outsider = make_staff()
        if config.get("started_with"):
            for member in range(config["started_with"]):
                self.join(member, None)
            self.start(Cycle.OrderMethod.RANDOM)

    def places(self):
        return list(Membership.objects.filter(group=self.group).order_by("pk"))

    def open_cycle(self):
        return Cycle.objects.filter(group=self.group, status="open").first()

    def do(self, op):
        name, *args = op
        getattr(self, name)(*args)

    def join(self, member, position):
        services.join_group(
            self.group,
            self.members[member],
            by=self.by,
            route=ROUTE,
            position=position or None,
        )

    def start(self, method):
        services.start_cycle(
            self.group, by=self.by, route=ROUTE, order_method=method, seed=7
        )

    def pay(self, index, amount):
        c = pick(
            list(Contribution.objects.filter(group=self.group).order_by("pk")), index
        )
        if c is not None:
            services.pay_contribution(
                c,
                by=self.by,
                route=ROUTE,
                amount=None if amount is None else Decimal(amount),
            )

    def payout(self, index, override):
        r = pick(list(Round.objects.filter(group=self.group).order_by("pk")), index)
        if r is not None:
            reason = "members agreed" if override else ""
            services.record_payout(r, by=self.by, route=ROUTE, override_reason=reason)

    def swap(self, first, second):
        a, b = pick(self.places(), first), pick(self.places(), second)
        if a is not None:
            services.swap_positions(a, b, reason="asked to", by=self.by, route=ROUTE)

    def leave(self, index, days):
        place = pick(self.places(), index)
        if place is not None:
            today = START + datetime.timedelta(days=days)
            services.leave_group(place, by=self.by, route=ROUTE, today=today)

    def close(self):
        cycle = self.open_cycle()
        if cycle is not None:
            services.close_cycle(cycle, by=self.by, route=ROUTE)

    def finish(self):
        """Pay out every open round, with a reason, and close the cycle."""
        cycle = self.open_cycle()
        if cycle is None:
            return
        for r in cycle.rounds.filter(status="open").order_by("number"):
            services.record_payout(
                r, by=self.by, route=ROUTE, override_reason="members agreed"
            )
        services.close_cycle(cycle, by=self.by, route=ROUTE)

    def intrude(self, index):
        c = pick(
            list(Contribution.objects.filter(group=self.group).order_by("pk")), index
        )
        if c is None:
            return
        before = Contribution.objects.values_list("status", "amount_paid").get(pk=c.pk)
        with pytest.raises(err.NotAllowed):
            services.pay_contribution(c, by=self.outsider, route=ROUTE)
        after = Contribution.objects.values_list("status", "amount_paid").get(pk=c.pk)
        assert after == before


def check_payouts(group):
    for payout in Payout.objects.filter(group=group):
        assert payout.fee == group.service_fee(payout.pot)
        assert payout.amount == payout.pot - payout.fee > 0


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(config=groups, ops=st.lists(operations, min_size=1, max_size=30))
def test_invariants_hold_after_every_step(config, ops):
    with transaction.atomic():
        run = Run(config)
        for op in ops:
            try:
                run.do(op)
            except err.ThriftError as refusal:
                event(f"{op[0]} refused: {type(refusal).__name__}")
            else:
                event(f"{op[0]} done")
            assert find_violations() == [], op
            check_payouts(run.group)
        transaction.set_rollback(True)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    config=groups,
    size=st.integers(1, 5),
    paid=st.lists(st.booleans(), min_size=25, max_size=25),
)
def test_a_whole_rotation_always_closes(config, size, paid):
    """Pay what the draw says, pay every round out (with a reason where
    money is missing), and the cycle closes and the next one starts."""
    with transaction.atomic():
        run = Run({**config, "fee": (FeeType.PERCENT, "2.50"), "started_with": 0})
        for member in range(size):
            run.join(member % 5 if config["allow_multiple_places"] else member, None)
        run.start(Cycle.OrderMethod.RANDOM)
        cycle = run.open_cycle()
        flags = iter(paid)
        for c in Contribution.objects.filter(group=run.group).order_by("pk"):
            if next(flags):
                services.pay_contribution(c, by=run.by, route=ROUTE)
        for r in cycle.rounds.order_by("number"):
            services.record_payout(
                r, by=run.by, route=ROUTE, override_reason="meeting agreed"
            )
        services.close_cycle(cycle, by=run.by, route=ROUTE)
        second = services.start_cycle(run.group, by=run.by, route=ROUTE)

        assert second.number == 2
        assert Payout.objects.filter(cycle=cycle).count() == size
        assert find_violations() == []
        transaction.set_rollback(True)
