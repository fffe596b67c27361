"""Two different money operations on the same round at the same moment.

Every service locks rows one by one in the order written at the top of
thrift/services.py, so these races end in a success or one of our own
refusals, never in a database error such as a deadlock (MySQL 1213)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from tests.factories import running_group
from tests.thrift.support import ROUTE
from thrift import exceptions as err
from thrift import services
from thrift.ledger import find_violations
from thrift.models import Contribution, Membership, Payout, Round

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]

ROUNDS = 8
PART = Decimal("1000.00")


def each_at_once(*works):
    """Run each of `works` in its own thread, all released together; return
    what each returned or raised, in the order given."""
    barrier = threading.Barrier(len(works))
    outcomes = [None] * len(works)

    def run(i, work):
        try:
            barrier.wait(timeout=10)
            outcomes[i] = work()
        except Exception as e:  # collected for the assertions
            outcomes[i] = e
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(i, work)) for i, work in enumerate(works)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def assert_no_database_error(outcomes):
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            assert isinstance(outcome, err.ThriftError), repr(outcome)


def test_a_payment_and_a_payout_of_the_same_round_never_deadlock():
    group, places, cycle = running_group(ROUNDS)
    by = group.coordinator
    for r in cycle.rounds.order_by("number"):
        shares = list(r.contributions.order_by("pk"))
        services.mark_paid(shares[:-1], by=by, route=ROUTE)
        last = shares[-1]

        payment, payout = each_at_once(
            lambda last=last: services.pay_contribution(last, by=by, route=ROUTE),
            lambda r=r: services.record_payout(
                r, by=by, route=ROUTE, override_reason="Paying on the day"
            ),
        )

        assert_no_database_error([payment, payout])
        assert isinstance(payment, tuple), payment
        assert isinstance(payout, Payout), payout
        last.refresh_from_db()
        assert (last.status, last.amount_paid) == ("paid", Decimal("10000.00"))
        # The pot is what was committed when the payout took its locks:
        # with the last share if the payment went first, without it if not.
        assert payout.pot in {Decimal("70000.00"), Decimal("80000.00")}
        assert Round.objects.get(pk=r.pk).status == "paid_out"
        assert find_violations() == []

    assert Payout.objects.filter(cycle=cycle).count() == ROUNDS
    assert not Contribution.objects.exclude(status="paid").exists()


def test_a_leave_and_a_payout_of_the_leavers_round_never_deadlock():
    group, places, cycle = running_group(ROUNDS)
    by = group.coordinator
    outcomes_seen = set()
    for r in cycle.rounds.order_by("number"):
        services.mark_paid(r.contributions.all(), by=by, route=ROUTE)
        leaver = r.recipient

        left, payout = each_at_once(
            lambda leaver=leaver: services.leave_group(leaver, by=by, route=ROUTE),
            lambda r=r: services.record_payout(r, by=by, route=ROUTE),
        )

        assert_no_database_error([left, payout])
        # The payout always goes through: the leave either waited for it
        # (the place collected, nothing is waived) or was refused because
        # the round holds money paid in.
        assert isinstance(payout, Payout), payout
        assert Round.objects.get(pk=r.pk).status == "paid_out"
        place = Membership.objects.get(pk=leaver.pk)
        if isinstance(left, err.LeaveRefused):
            outcomes_seen.add("refused")
            assert place.left_at is None
        else:
            outcomes_seen.add("left")
            assert (left.changed, left.waived, left.cancelled_round) == (
                True,
                0,
                None,
            )
            assert place.left_at is not None
        assert not Contribution.objects.filter(status="waived").exists()
        assert find_violations() == []

    assert Payout.objects.filter(cycle=cycle).count() == ROUNDS
    assert outcomes_seen <= {"refused", "left"}


def test_a_leave_and_a_payout_of_an_unpaid_round_never_deadlock():
    group, places, cycle = running_group(ROUNDS)
    by = group.coordinator
    for r in cycle.rounds.order_by("number"):
        leaver = r.recipient

        left, payout = each_at_once(
            lambda leaver=leaver: services.leave_group(leaver, by=by, route=ROUTE),
            lambda r=r: services.record_payout(
                r, by=by, route=ROUTE, override_reason="Nobody has paid"
            ),
        )

        assert_no_database_error([left, payout])
        # Nothing was paid in. Either the payout went first (on the pot
        # owed, by the override) and the place left having collected, or the
        # leave went first, cancelled the round and the payout was refused.
        assert isinstance(left, services.LeaveResult), left
        assert Membership.objects.get(pk=leaver.pk).left_at is not None
        if isinstance(payout, Payout):
            assert (left.waived, left.cancelled_round) == (0, None)
            assert Round.objects.get(pk=r.pk).status == "paid_out"
        else:
            assert isinstance(payout, err.RoundCancelled), payout
            assert left.cancelled_round.pk == r.pk
            assert Round.objects.get(pk=r.pk).status == "cancelled"
            assert not Payout.objects.filter(round=r).exists()
            assert not r.contributions.exclude(status="waived").exists()
        assert find_violations() == []


def test_first_payments_of_a_new_month_never_deadlock():
    """Each month starts with no collections row: payments of one group and
    of its neighbours, in threads, each create or add to theirs at once."""
    import datetime

    from thrift.models import CollectionMonth

    groups = [running_group(4) for _ in range(3)]
    for month in range(1, 7):
        paid_on = datetime.date(2026, month, 28)
        shares = [
            c
            for group, places, cycle in groups
            for c in cycle.rounds.get(number=1).contributions.order_by("pk")
        ]
        outcomes = each_at_once(
            *(
                lambda c=c, day=paid_on: services.pay_contribution(
                    c, by=c.group.coordinator, route=ROUTE, paid_on=day, amount=PART
                )
                for c in shares
            )
        )

        assert_no_database_error(outcomes)
        assert all(isinstance(o, tuple) and o[1] for o in outcomes), outcomes
        # A later part payment moves the whole paid amount to its month.
        kept = CollectionMonth.objects.filter(month=paid_on.replace(day=1))
        each = Decimal("4000.00") * month
        assert sorted(kept.values_list("amount", flat=True)) == [each] * 3
        assert find_violations() == []
