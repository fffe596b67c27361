"""PaymentBatch: the payment rules of pay_contribution, applied in bulk."""

from decimal import Decimal

import pytest
from django.db import transaction

from tests.factories import running_group
from thrift import exceptions as err
from thrift import services
from thrift.models import Contribution

pytestmark = pytest.mark.django_db


def test_a_batch_pays_with_the_same_rules_and_writes_history_once():
    group, places, _ = running_group(places=2)
    first, second = Contribution.objects.filter(round__number=1).order_by("pk")
    second.status = Contribution.Status.WAIVED
    second.save()

    with transaction.atomic():
        batch = services.PaymentBatch(by=group.coordinator, route="import: a.csv")
        locked = batch.lock([first.pk, second.pk])
        with pytest.raises(err.Overpayment):
            batch.pay(locked[first.pk], amount=Decimal("10000.01"))
        assert batch.pay(locked[first.pk], amount=Decimal("4000")) is True
        assert batch.pay(locked[first.pk], amount=Decimal("6000")) is True
        assert batch.pay(locked[first.pk], amount=Decimal("1")) is False
        with pytest.raises(err.ContributionWaived):
            batch.pay(locked[second.pk])
        assert batch.save() == 1

    first.refresh_from_db()
    assert (first.amount_paid, first.status, first.recorded_by) == (
        Decimal("10000.00"),
        "paid",
        group.coordinator,
    )
    record = first.history.first()
    assert (record.history_user, record.history_change_reason, record.status) == (
        group.coordinator,
        "import: a.csv",
        "paid",
    )
    assert first.history.count() == 2  # created by start_cycle, paid once


def test_a_batch_refuses_a_coordinator_of_another_group(other_coordinator):
    group, _, _ = running_group(places=1)
    c = Contribution.objects.get()
    with transaction.atomic():
        batch = services.PaymentBatch(by=other_coordinator, route="import: a.csv")
        locked = batch.lock([c.pk])
        with pytest.raises(err.NotAllowed):
            batch.pay(locked[c.pk])
    c.refresh_from_db()
    assert c.amount_paid == Decimal("0.00")


def test_only_locked_contributions_can_be_paid():
    group, _, _ = running_group(places=1)
    batch = services.PaymentBatch(by=group.coordinator, route="x")
    with pytest.raises(ValueError):
        batch.pay(Contribution.objects.get())
