"""The database going away in the middle of a money operation leaves
nothing half-written, and the next attempt succeeds."""

import pytest
from django.db import OperationalError, connection
from django.db.models.signals import post_save

from tests.factories import make_group, make_places, running_group
from thrift import services
from thrift.models import Contribution, Cycle, Payout, Round


def kill_own_connection() -> None:
    """Cut this connection from the server side, as a crash or a network
    failure would; the open transaction dies with it."""
    if connection.vendor != "mysql":
        # SQLite has no server to lose; an error mid-transaction is the
        # nearest fault and must roll back the same way.
        raise OperationalError("database went away (simulated)")
    import MySQLdb

    victim = connection.connection.thread_id()
    params = connection.get_connection_params()
    killer = MySQLdb.connect(
        host=params.get("host", "127.0.0.1"),
        port=params.get("port", 3306),
        user=params.get("user"),
        password=params.get("password", ""),
    )
    try:
        killer.cursor().execute(f"KILL CONNECTION {int(victim)}")
    finally:
        killer.close()


class FaultAfter:
    """Kill the connection once `count` rows of `model` have been saved."""

    def __init__(self, model, count: int = 1):
        self.model, self.count, self.seen = model, count, 0

    def __enter__(self):
        post_save.connect(self.receive, sender=self.model, weak=False)
        return self

    def __exit__(self, *exc):
        post_save.disconnect(self.receive, sender=self.model)

    def receive(self, **kwargs):
        self.seen += 1
        if self.seen == self.count:
            kill_own_connection()


def reconnect() -> None:
    connection.close()
    connection.ensure_connection()


@pytest.mark.django_db(transaction=True)
def test_payout_interrupted_is_not_half_written_and_retry_succeeds():
    group, places, cycle = running_group(places=3)
    r = cycle.rounds.get(number=1)
    services.mark_paid(r.contributions.all(), by=group.coordinator, route="test")

    with pytest.raises(OperationalError), FaultAfter(Payout):
        services.record_payout(r, by=group.coordinator, route="test")
    reconnect()

    assert Payout.objects.count() == 0
    assert Round.objects.get(pk=r.pk).status == Round.Status.OPEN

    payout = services.record_payout(r, by=group.coordinator, route="test")
    assert payout.amount == r.group.contribution_amount * 3
    assert Round.objects.get(pk=r.pk).status == Round.Status.PAID_OUT


@pytest.mark.django_db(transaction=True)
def test_start_cycle_interrupted_leaves_no_cycle_and_retry_succeeds():
    group = make_group()
    make_places(group, 4)

    # Cut once the cycle row is saved: positions are set, rounds not yet made.
    with pytest.raises(OperationalError), FaultAfter(Cycle):
        services.start_cycle(group, by=group.coordinator, route="test")
    reconnect()

    assert Cycle.objects.count() == 0
    assert Round.objects.count() == 0
    assert Contribution.objects.count() == 0
    assert group.memberships.exclude(position=None).count() == 0

    cycle = services.start_cycle(group, by=group.coordinator, route="test")
    assert cycle.rounds.count() == 4
    assert Contribution.objects.filter(round__cycle=cycle).count() == 16


@pytest.mark.django_db(transaction=True)
def test_payment_interrupted_is_not_recorded_and_retry_succeeds():
    group, places, cycle = running_group(places=2)
    c = Contribution.objects.filter(group=group).order_by("pk").first()

    with pytest.raises(OperationalError), FaultAfter(Contribution):
        services.pay_contribution(c, by=group.coordinator, route="test")
    reconnect()

    c.refresh_from_db()
    assert c.status == Contribution.Status.PENDING
    assert c.amount_paid == 0
    assert c.history.count() == 1  # only its creation

    c, changed = services.pay_contribution(c, by=group.coordinator, route="test")
    assert changed
    assert c.status == Contribution.Status.PAID
