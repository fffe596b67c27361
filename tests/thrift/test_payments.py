"""Marking contributions paid: in full, in parts, never more than due, and
idempotently."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import make_staff, make_user, running_group
from tests.thrift.support import ROUTE, contribution, last_history, state_of
from thrift import exceptions as err
from thrift import services
from thrift.models import Contribution, PaymentMethod

pytestmark = pytest.mark.django_db

PAID_ON = datetime.date(2026, 2, 1)


@pytest.fixture
def group_and_places():
    group, places, cycle = running_group(3)
    places[0].member.first_name, places[0].member.last_name = "Kemi", "Ojo"
    places[0].member.save()
    return group, places, cycle


def share(cycle, place, number=1):
    return contribution(cycle.rounds.get(number=number), place)


def pay(c, **kwargs):
    return services.pay_contribution(
        c, by=c.group.coordinator, route=ROUTE, paid_on=PAID_ON, **kwargs
    )


def test_full_payment_marks_the_contribution_paid(group_and_places):
    group, places, cycle = group_and_places
    c = share(cycle, places[0])

    paid, changed = pay(c, method=PaymentMethod.TRANSFER, reference="TRF-001")

    assert changed is True
    c.refresh_from_db()
    assert c.status == Contribution.Status.PAID
    assert c.amount_paid == Decimal("10000.00")
    assert c.balance == Decimal("0.00")
    assert (c.paid_on, c.method, c.reference) == (PAID_ON, "transfer", "TRF-001")
    assert c.recorded_by == group.coordinator
    assert paid.pk == c.pk


def test_part_payments_add_up_to_paid(group_and_places):
    _, places, cycle = group_and_places
    c = share(cycle, places[0])

    _, first = pay(c, amount=Decimal("4000.00"), reference="R1")
    c.refresh_from_db()
    assert (c.status, c.amount_paid, c.balance) == (
        Contribution.Status.PENDING,
        Decimal("4000.00"),
        Decimal("6000.00"),
    )
    assert c.is_part_paid

    _, second = pay(c, amount="6000", reference="R2")

    c.refresh_from_db()
    assert (first, second) == (True, True)
    assert (c.status, c.amount_paid, c.reference) == (
        Contribution.Status.PAID,
        Decimal("10000.00"),
        "R2",
    )


def test_paying_the_balance_after_a_part_payment(group_and_places):
    _, places, cycle = group_and_places
    c = share(cycle, places[0])
    pay(c, amount=Decimal("2500.50"))

    pay(c)

    c.refresh_from_db()
    assert (c.status, c.amount_paid) == (Contribution.Status.PAID, Decimal("10000.00"))


def test_paying_more_than_is_due_is_refused(group_and_places):
    group, places, cycle = group_and_places
    c = share(cycle, places[0])
    pay(c, amount=Decimal("4000.00"))
    before = state_of(group)

    with pytest.raises(err.Overpayment) as refusal:
        pay(c, amount=Decimal("6000.01"))

    assert str(refusal.value) == (
        f"Kemi Ojo - {group.name} C1 R1: ₦6,000.01 is more than the ₦6,000.00 "
        "still due."
    )
    assert state_of(group) == before


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-100.00"), "0.004"])
def test_a_payment_that_is_not_positive_is_refused(group_and_places, amount):
    group, places, cycle = group_and_places
    c = share(cycle, places[0])
    before = state_of(group)

    with pytest.raises(err.InvalidPayment) as refusal:
        pay(c, amount=amount)

    assert str(refusal.value) == (
        f"Kemi Ojo - {group.name} C1 R1: the amount paid must be more than zero."
    )
    assert state_of(group) == before


def test_an_unknown_method_is_refused(group_and_places):
    group, places, cycle = group_and_places
    before = state_of(group)

    with pytest.raises(err.InvalidPayment) as refusal:
        pay(share(cycle, places[0]), method="cheque")

    assert str(refusal.value) == "'cheque' is not a payment method."
    assert state_of(group) == before


def test_a_waived_contribution_is_refused(group_and_places):
    group, places, cycle = group_and_places
    services.leave_group(
        places[2], by=group.coordinator, route=ROUTE, today=datetime.date(2026, 1, 1)
    )
    c = share(cycle, places[0], number=3)
    assert c.status == Contribution.Status.WAIVED
    before = state_of(group)

    with pytest.raises(err.ContributionWaived) as refusal:
        pay(c)

    assert str(refusal.value) == (
        f"Kemi Ojo - {group.name} C1 R3 was waived; there is nothing to pay."
    )
    assert state_of(group) == before


def test_paying_an_already_paid_contribution_changes_nothing(group_and_places):
    group, places, cycle = group_and_places
    c = share(cycle, places[0])
    pay(c, reference="FIRST")
    before = state_of(group)

    again, changed = services.pay_contribution(
        c,
        by=group.coordinator,
        route=ROUTE,
        paid_on=datetime.date(2026, 3, 1),
        reference="SECOND",
        amount=Decimal("1.00"),
    )

    assert changed is False
    assert (again.paid_on, again.reference) == (PAID_ON, "FIRST")
    assert state_of(group) == before


def test_a_repeated_part_payment_with_the_same_reference_is_left_alone(
    group_and_places,
):
    group, places, cycle = group_and_places
    c = share(cycle, places[0])
    pay(c, amount=Decimal("3000.00"), reference="IMPORT-7")
    before = state_of(group)

    _, changed = pay(c, amount=Decimal("3000.00"), reference="IMPORT-7")

    assert changed is False
    c.refresh_from_db()
    assert c.amount_paid == Decimal("3000.00")
    assert state_of(group) == before


def test_payment_date_defaults_to_today_in_lagos(group_and_places):
    group, places, cycle = group_and_places
    c = share(cycle, places[0])

    services.pay_contribution(c, by=group.coordinator, route=ROUTE)

    c.refresh_from_db()
    assert c.paid_on == timezone.localdate()
    assert c.method == PaymentMethod.CASH


def test_mark_paid_counts_each_outcome(group_and_places):
    group, places, cycle = group_and_places
    services.leave_group(
        places[2], by=group.coordinator, route=ROUTE, today=datetime.date(2026, 1, 1)
    )
    first_round = list(cycle.rounds.get(number=1).contributions.order_by("pk"))
    already = first_round[0]
    pay(already)
    waived = share(cycle, places[0], number=3)
    chosen = first_round + [waived]

    result = services.mark_paid(
        chosen, by=group.coordinator, route=ROUTE, paid_on=PAID_ON, reference="BATCH"
    )

    # The leaver's share of round 1 was not yet due on the day they left.
    leaver_share = first_round[2]
    assert leaver_share.membership == places[2]
    assert [c.pk for c in result.paid] == [first_round[1].pk]
    assert [c.pk for c in result.already_paid] == [already.pk]
    assert [c.pk for c, _ in result.refused] == [leaver_share.pk, waived.pk]
    assert result.refused[1][1] == (
        f"Kemi Ojo - {group.name} C1 R3 was waived; there is nothing to pay."
    )
    assert result.amount == Decimal("10000.00")
    assert result.summary() == "1 marked paid; 1 were already paid; 2 refused"
    paid = Contribution.objects.filter(reference="BATCH", status="paid")
    assert list(paid.values_list("pk", flat=True)) == [first_round[1].pk]


def test_mark_paid_with_an_amount_part_pays_each(group_and_places):
    group, places, cycle = group_and_places
    chosen = list(cycle.rounds.get(number=2).contributions.all())

    result = services.mark_paid(
        chosen, by=group.coordinator, route=ROUTE, amount=Decimal("2500.00")
    )

    assert result.summary() == "0 marked paid; 3 part-paid"
    assert result.amount == Decimal("7500.00")
    amounts = set(
        Contribution.objects.filter(round__number=2).values_list(
            "amount_paid", flat=True
        )
    )
    assert amounts == {Decimal("2500.00")}


def test_mark_paid_amount_counts_only_what_this_call_took_in(group_and_places):
    group, places, cycle = group_and_places
    c = share(cycle, places[0])
    pay(c, amount=Decimal("9000.00"), reference="R1")

    result = services.mark_paid([c], by=group.coordinator, route=ROUTE, reference="R2")

    assert result.summary() == "1 marked paid"
    assert result.amount == Decimal("1000.00")


def test_mark_paid_counts_a_repeated_part_payment_apart(group_and_places):
    group, places, cycle = group_and_places
    c = share(cycle, places[0])
    pay(c, amount=Decimal("4000.00"), reference="IMPORT-9")

    result = services.mark_paid(
        [c], by=group.coordinator, route=ROUTE, reference="IMPORT-9"
    )

    assert result.summary() == "0 marked paid; 1 repeated a recorded payment"
    assert result.amount == Decimal("0.00")
    c.refresh_from_db()
    assert c.amount_paid == Decimal("4000.00")


def test_mark_paid_twice_is_idempotent(group_and_places):
    group, _, cycle = group_and_places
    chosen = list(cycle.rounds.get(number=1).contributions.all())
    services.mark_paid(chosen, by=group.coordinator, route=ROUTE)
    before = state_of(group)

    again = services.mark_paid(chosen, by=group.coordinator, route=ROUTE)

    assert again.summary() == "0 marked paid; 3 were already paid"
    assert again.amount == Decimal("0.00")
    assert state_of(group) == before


def test_payment_history_names_the_user_and_route(group_and_places):
    group, places, cycle = group_and_places
    c = share(cycle, places[0])
    clerk = group.coordinator

    services.pay_contribution(c, by=clerk, route="admin: mark paid")

    row = last_history(c)
    assert (row.history_type, row.status, row.amount_paid) == (
        "~",
        Contribution.Status.PAID,
        Decimal("10000.00"),
    )
    assert (row.history_user, row.history_change_reason) == (clerk, "admin: mark paid")
    assert c.history.filter(history_type="~").count() == 1


def test_another_coordinator_may_not_mark_paid(group_and_places):
    group, places, cycle = group_and_places
    outsider = make_staff(first_name="Tunde", last_name="Bello")
    c = share(cycle, places[0])
    before = state_of(group)

    with pytest.raises(err.NotAllowed):
        services.pay_contribution(c, by=outsider, route=ROUTE)
    result = services.mark_paid([c], by=outsider, route=ROUTE)

    assert result.summary() == "0 marked paid; 1 refused"
    assert result.refused[0][1] == (
        f"Tunde Bello may not change the records of {group.name}."
    )
    assert state_of(group) == before


def test_a_member_is_not_a_coordinator(group_and_places):
    group, places, cycle = group_and_places
    before = state_of(group)

    with pytest.raises(err.NotAllowed):
        services.pay_contribution(share(cycle, places[0]), by=make_user(), route=ROUTE)

    assert state_of(group) == before
