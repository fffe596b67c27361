"""Two staff doing the same money operation at the same moment, each on
their own database connection: the row locks let exactly one through."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from tests.factories import make_group, make_places, running_group
from tests.thrift.support import ROUTE
from thrift import exceptions as err
from thrift import services
from thrift.ledger import find_violations
from thrift.models import Contribution, Cycle, Payout, Round

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def ledger_still_holds():
    """After each race, every invariant of the ledger holds."""
    yield
    assert find_violations() == []


def at_once(work, count=2):
    """Run `work()` in `count` threads released together; return what each
    returned or raised."""
    barrier = threading.Barrier(count)
    outcomes = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait(timeout=10)
            outcome = work()
        except Exception as e:  # collected for the assertions
            outcome = e
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def test_two_payouts_of_the_same_round_make_one():
    group, places, cycle = running_group(3)
    for r in cycle.rounds.order_by("number"):
        services.mark_paid(r.contributions.all(), by=group.coordinator, route=ROUTE)

        outcomes = at_once(
            lambda r=r: services.record_payout(r, by=group.coordinator, route=ROUTE)
        )

        payouts = [o for o in outcomes if isinstance(o, Payout)]
        refusals = [o for o in outcomes if isinstance(o, err.PayoutExists)]
        assert (len(payouts), len(refusals)) == (1, 1), outcomes
        assert str(refusals[0]) == f"{r} has already been paid out."
        assert Payout.objects.filter(round=r).count() == 1
        assert payouts[0].amount == Decimal("30000.00")

    assert Payout.objects.count() == 3
    assert set(Round.objects.values_list("status", flat=True)) == {"paid_out"}
    assert Payout.history.filter(history_type="+").count() == 3


def test_two_mark_paids_of_the_same_contribution_pay_once():
    group, places, cycle = running_group(3)
    c = Contribution.objects.get(round__number=1, membership=places[0])

    outcomes = at_once(
        lambda: services.pay_contribution(c, by=group.coordinator, route=ROUTE)
    )

    changed = sorted(o[1] for o in outcomes)
    assert changed == [False, True], outcomes
    c.refresh_from_db()
    assert (c.status, c.amount_paid) == ("paid", Decimal("10000.00"))
    changes = c.history.filter(history_type="~")
    assert list(changes.values_list("status", "amount_paid")) == [
        ("paid", Decimal("10000.00"))
    ]


def test_two_batches_over_the_same_contributions_pay_each_once():
    group, _, cycle = running_group(3)
    chosen = list(Contribution.objects.filter(round__number=2))

    outcomes = at_once(
        lambda: services.mark_paid(chosen, by=group.coordinator, route=ROUTE)
    )

    assert sum(len(o.paid) for o in outcomes) == 3, outcomes
    assert sum(len(o.already_paid) for o in outcomes) == 3
    assert sum(o.amount for o in outcomes) == Decimal("30000.00")
    assert Contribution.history.filter(history_type="~", status="paid").count() == 3


def test_two_part_payments_at_once_both_count():
    group, places, cycle = running_group(2)
    c = Contribution.objects.get(round__number=1, membership=places[0])

    outcomes = at_once(
        lambda: services.pay_contribution(
            c, by=group.coordinator, route=ROUTE, amount=Decimal("5000.00")
        )
    )

    assert sorted(o[1] for o in outcomes) == [True, True], outcomes
    c.refresh_from_db()
    assert (c.status, c.amount_paid) == ("paid", Decimal("10000.00"))


def test_two_starts_of_the_same_group_make_one_cycle():
    group = make_group()
    make_places(group, 3)

    outcomes = at_once(
        lambda: services.start_cycle(group, by=group.coordinator, route=ROUTE)
    )

    cycles = [o for o in outcomes if isinstance(o, Cycle)]
    refusals = [o for o in outcomes if isinstance(o, err.CycleStillOpen)]
    assert (len(cycles), len(refusals)) == (1, 1), outcomes
    assert Cycle.objects.filter(group=group).count() == 1
    assert Contribution.objects.filter(group=group).count() == 9


def test_two_leaves_of_the_same_place_end_it_once():
    group, places, cycle = running_group(3)

    outcomes = at_once(
        lambda: services.leave_group(places[2], by=group.coordinator, route=ROUTE)
    )

    assert sorted(o.changed for o in outcomes) == [False, True], outcomes
    assert places[2].history.filter(left_at__isnull=False).count() == 1
