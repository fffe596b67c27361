"""Each invariant a database constraint can hold, refused by the database
itself (the rows are written around the services on purpose)."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from tests.factories import make_group, make_user, running_group
from thrift.models import Contribution, Cycle, Membership, Payout, Round, ThriftGroup

pytestmark = pytest.mark.django_db


def refused(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_position_is_unique_per_group():
    group = make_group()
    Membership.objects.create(group=group, member=make_user(), position=1)
    refused(
        lambda: Membership.objects.create(group=group, member=make_user(), position=1)
    )


def test_position_starts_at_one():
    group = make_group()
    refused(
        lambda: Membership.objects.create(group=group, member=make_user(), position=0)
    )


def test_group_name_is_unique():
    group = make_group()
    refused(lambda: make_group(name=group.name))


def test_contribution_amount_must_be_positive():
    refused(lambda: make_group(contribution_amount=Decimal("0.00")))


def test_percent_fee_at_most_100():
    refused(lambda: make_group(fee_type="percent", fee_value=Decimal("100.01")))


def test_cycle_number_is_unique_per_group():
    group, _, cycle = running_group()
    refused(
        lambda: Cycle.objects.create(
            group=group,
            number=cycle.number,
            start_date=cycle.start_date,
            started_by=group.coordinator,
        )
    )


def test_round_number_is_unique_per_cycle():
    group, places, cycle = running_group()
    refused(
        lambda: Round.objects.create(
            group=group,
            cycle=cycle,
            number=1,
            due_date=cycle.start_date,
            recipient=None,
        )
    )


def test_a_place_collects_in_one_round_per_cycle():
    group, places, cycle = running_group()
    refused(
        lambda: Round.objects.create(
            group=group,
            cycle=cycle,
            number=9,
            due_date=cycle.start_date,
            recipient=places[0],
        )
    )


def test_one_contribution_per_place_per_round():
    group, places, cycle = running_group()
    r = cycle.rounds.get(number=1)
    refused(
        lambda: Contribution.objects.create(
            group=group,
            round=r,
            membership=places[0],
            due_date=r.due_date,
            amount_due=Decimal("10000.00"),
        )
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_due": Decimal("0.00")},
        {"amount_paid": Decimal("-1.00")},
        {"amount_paid": Decimal("10000.01")},
        {"status": "paid", "amount_paid": Decimal("5000.00")},
    ],
)
def test_contribution_amounts_are_checked(changes):
    group, places, cycle = running_group()
    c = Contribution.objects.filter(group=group).first()
    refused(lambda: Contribution.objects.filter(pk=c.pk).update(**changes))


def payout_for(round, membership, **fields):
    values = {
        "group": round.group,
        "cycle": round.cycle,
        "round": round,
        "membership": membership,
        "pot": Decimal("30000.00"),
        "fee": Decimal("0.00"),
        "amount": Decimal("30000.00"),
        "paid_on": datetime.date(2026, 1, 31),
        "recorded_by": round.group.coordinator,
    }
    values.update(fields)
    return Payout.objects.create(**values)


def test_one_payout_per_round():
    group, places, cycle = running_group()
    r = cycle.rounds.get(number=1)
    payout_for(r, places[0])
    refused(lambda: payout_for(r, places[1]))


def test_a_place_collects_once_per_cycle():
    group, places, cycle = running_group()
    payout_for(cycle.rounds.get(number=1), places[0])
    refused(lambda: payout_for(cycle.rounds.get(number=2), places[0]))


@pytest.mark.parametrize(
    "fields",
    [
        {"amount": Decimal("0.00"), "pot": Decimal("0.00")},
        {"fee": Decimal("-1.00"), "amount": Decimal("30001.00")},
        {"amount": Decimal("29000.00")},
    ],
)
def test_payout_amount_is_pot_less_fee_and_positive(fields):
    group, places, cycle = running_group()
    refused(lambda: payout_for(cycle.rounds.get(number=1), places[0], **fields))


def test_groups_table_is_untouched_after_refusals():
    make_group(name="Kept")
    refused(lambda: make_group(name="Kept"))
    assert ThriftGroup.objects.filter(name="Kept").count() == 1
