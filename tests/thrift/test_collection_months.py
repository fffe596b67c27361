"""Collections by month, kept by the payment services as they record
payments, always equal to what the contributions hold as paid by the month
of their payment date."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from tests.factories import running_group
from tests.thrift.support import ROUTE, contribution
from thrift import ledger, services
from thrift.models import CollectionMonth

pytestmark = pytest.mark.django_db

NOV = datetime.date(2026, 11, 1)
DEC = datetime.date(2026, 12, 1)


def months(group) -> dict[datetime.date, Decimal]:
    return {
        row.month: row.amount
        for row in CollectionMonth.objects.filter(group=group).order_by("month")
    }


def test_a_payment_counts_in_the_month_it_was_paid(coordinator):
    group, places, cycle = running_group(3, coordinator=coordinator)
    first = contribution(cycle.rounds.get(number=1), places[0])
    second = contribution(cycle.rounds.get(number=1), places[1])

    services.pay_contribution(
        first, by=coordinator, route=ROUTE, paid_on=datetime.date(2026, 11, 3)
    )
    services.pay_contribution(
        second, by=coordinator, route=ROUTE, paid_on=datetime.date(2026, 11, 28)
    )

    assert months(group) == {NOV: first.amount_due + second.amount_due}
    assert ledger.find_violations() == []


def test_a_later_part_payment_moves_the_whole_amount_to_its_month(coordinator):
    """A contribution keeps one payment date, as the reports do: paying the
    rest in December moves what November held to December."""
    group, places, cycle = running_group(3, coordinator=coordinator)
    c = contribution(cycle.rounds.get(number=1), places[0])
    part = Decimal("4000.00")

    services.pay_contribution(
        c, by=coordinator, route=ROUTE, amount=part, paid_on=datetime.date(2026, 11, 30)
    )
    assert months(group) == {NOV: part}

    services.pay_contribution(
        c, by=coordinator, route=ROUTE, paid_on=datetime.date(2026, 12, 1)
    )
    assert months(group) == {NOV: Decimal("0.00"), DEC: c.amount_due}
    assert ledger.find_violations() == []


def test_a_repeated_payment_changes_nothing(coordinator):
    group, places, cycle = running_group(3, coordinator=coordinator)
    c = contribution(cycle.rounds.get(number=1), places[0])
    paid_on = datetime.date(2026, 11, 5)

    services.pay_contribution(c, by=coordinator, route=ROUTE, paid_on=paid_on)
    services.pay_contribution(c, by=coordinator, route=ROUTE, paid_on=paid_on)

    assert months(group) == {NOV: c.amount_due}


def test_a_batch_adds_up_by_group_and_month(coordinator):
    group, places, cycle = running_group(3, coordinator=coordinator)
    other, other_places, other_cycle = running_group(3, coordinator=coordinator)
    shares = list(cycle.rounds.get(number=1).contributions.order_by("pk"))
    theirs = list(other_cycle.rounds.get(number=1).contributions.order_by("pk"))
    batch = services.PaymentBatch(by=coordinator, route=ROUTE)
    with transaction.atomic():
        locked = batch.lock([c.pk for c in shares + theirs])
        batch.pay(locked[shares[0].pk], paid_on=datetime.date(2026, 11, 2))
        batch.pay(locked[shares[1].pk], paid_on=datetime.date(2026, 12, 2), amount=100)
        batch.pay(locked[theirs[0].pk], paid_on=datetime.date(2026, 12, 3))
        batch.save()

    assert months(group) == {
        NOV: shares[0].amount_due,
        DEC: Decimal("100.00"),
    }
    assert months(other) == {DEC: theirs[0].amount_due}
    assert ledger.find_violations() == []


def test_the_ledger_check_names_a_month_kept_wrong(coordinator):
    group, places, cycle = running_group(3, coordinator=coordinator)
    c = contribution(cycle.rounds.get(number=1), places[0])
    services.pay_contribution(
        c, by=coordinator, route=ROUTE, paid_on=datetime.date(2026, 11, 5)
    )
    CollectionMonth.objects.filter(group=group, month=NOV).update(amount=1)

    assert ledger.find_violations() == [
        f"group {group.pk}: collections for November 2026 are kept as 1.00 but "
        f"its contributions hold {c.amount_due} paid."
    ]


def test_rebuild_puts_back_what_the_contributions_hold(coordinator):
    group, places, cycle = running_group(3, coordinator=coordinator)
    other, *_ = running_group(3, coordinator=coordinator)
    c = contribution(cycle.rounds.get(number=1), places[0])
    services.pay_contribution(
        c, by=coordinator, route=ROUTE, paid_on=datetime.date(2026, 11, 5)
    )
    CollectionMonth.objects.filter(group=group).update(amount=1)
    CollectionMonth.objects.create(group=group, month=DEC, amount=7)
    assert len(ledger.find_violations()) == 2

    call_command("rebuild_collection_months", str(group.pk), stdout=io.StringIO())

    assert months(group) == {NOV: c.amount_due}
    assert ledger.find_violations() == []


def test_rebuild_refuses_an_unknown_group():
    with pytest.raises(CommandError, match="No group with id 999."):
        call_command("rebuild_collection_months", "999")
