"""Recording a round's payout: the pot less the fee, once per round and per
place, and only with a reason while contributions are outstanding."""

import datetime
from decimal import Decimal

import pytest

from tests.factories import make_staff, running_group
from tests.thrift.support import ROUTE, contribution, last_history, state_of
from thrift import exceptions as err
from thrift import services
from thrift.models import FeeType, Payout, Round

pytestmark = pytest.mark.django_db

PAID_ON = datetime.date(2026, 2, 2)


def pay_all(round):
    services.mark_paid(
        round.contributions.all(), by=round.group.coordinator, route=ROUTE
    )


def payout(round, **kwargs):
    return services.record_payout(
        round, by=round.group.coordinator, route=ROUTE, paid_on=PAID_ON, **kwargs
    )


@pytest.mark.parametrize(
    ("contribution_amount", "fee_type", "fee_value", "pot", "fee", "amount"),
    [
        ("10000.00", FeeType.NONE, "0", "30000.00", "0.00", "30000.00"),
        ("10000.00", FeeType.FIXED, "500.00", "30000.00", "500.00", "29500.00"),
        ("10000.00", FeeType.PERCENT, "2.50", "30000.00", "750.00", "29250.00"),
        # 5% of 151.35 is 7.5675: half-up to 7.57.
        ("50.45", FeeType.PERCENT, "5.00", "151.35", "7.57", "143.78"),
        # 1.5% of 9,999.99 is 149.99985: 150.00.
        ("3333.33", FeeType.PERCENT, "1.50", "9999.99", "150.00", "9849.99"),
    ],
)
def test_payout_is_the_pot_less_the_fee(
    contribution_amount, fee_type, fee_value, pot, fee, amount
):
    group, places, cycle = running_group(
        3,
        contribution_amount=Decimal(contribution_amount),
        fee_type=fee_type,
        fee_value=Decimal(fee_value),
    )
    first = cycle.rounds.get(number=1)
    pay_all(first)

    p = payout(first, reference="PAY-1")

    p.refresh_from_db()
    assert (p.pot, p.fee, p.amount) == (Decimal(pot), Decimal(fee), Decimal(amount))
    assert (p.membership, p.cycle, p.round) == (places[0], cycle, first)
    assert (p.paid_on, p.reference, p.override_reason) == (PAID_ON, "PAY-1", "")
    assert p.recorded_by == group.coordinator
    first.refresh_from_db()
    assert first.status == Round.Status.PAID_OUT


def test_half_a_kobo_of_fee_rounds_up():
    group, _, cycle = running_group(
        2,
        contribution_amount=Decimal("50.45"),
        fee_type=FeeType.PERCENT,
        fee_value=Decimal("5.00"),
    )
    quote = services.quote_payout(cycle.rounds.get(number=1))

    # 5% of 100.90 is 5.045 exactly.
    assert (quote.pot, quote.fee, quote.amount) == (
        Decimal("100.90"),
        Decimal("5.05"),
        Decimal("95.85"),
    )


def test_the_pot_leaves_out_waived_shares():
    group, places, cycle = running_group(3)
    services.leave_group(
        places[2], by=group.coordinator, route=ROUTE, today=datetime.date(2026, 1, 1)
    )
    first = cycle.rounds.get(number=1)
    pay_all(first)

    p = payout(first)

    assert (p.pot, p.amount) == (Decimal("20000.00"), Decimal("20000.00"))


def test_quote_shows_recipient_pot_fee_and_outstanding():
    group, places, cycle = running_group(
        3, fee_type=FeeType.FIXED, fee_value=Decimal("1000.00")
    )
    second = cycle.rounds.get(number=2)
    services.pay_contribution(
        contribution(second, places[0]), by=group.coordinator, route=ROUTE
    )
    services.pay_contribution(
        contribution(second, places[1]),
        by=group.coordinator,
        route=ROUTE,
        amount=Decimal("2500.00"),
    )

    quote = services.quote_payout(second)

    assert quote.recipient == places[1]
    assert (quote.pot, quote.fee, quote.amount) == (
        Decimal("30000.00"),
        Decimal("1000.00"),
        Decimal("29000.00"),
    )
    assert (quote.outstanding_count, quote.outstanding_amount) == (
        2,
        Decimal("17500.00"),
    )
    assert quote.needs_override is True


def test_a_second_payout_of_the_round_is_refused():
    group, _, cycle = running_group(3)
    first = cycle.rounds.get(number=1)
    pay_all(first)
    payout(first)
    before = state_of(group)

    with pytest.raises(err.PayoutExists) as refusal:
        payout(first)

    assert str(refusal.value) == f"{group.name} C1 R1 has already been paid out."
    assert state_of(group) == before


def test_a_place_that_already_collected_is_refused():
    group, places, cycle = running_group(3)
    first, second, _ = cycle.rounds.order_by("number")
    pay_all(first)
    pay_all(second)
    payout(first)
    # Corrupt the order around the services: round 2 now names the place
    # that collected in round 1.
    Round.objects.filter(pk=first.pk).update(recipient=None)
    Round.objects.filter(pk=second.pk).update(recipient=places[0])
    places[0].member.first_name, places[0].member.last_name = "Kemi", "Ojo"
    places[0].member.save()
    before = state_of(group)

    with pytest.raises(err.AlreadyCollected) as refusal:
        payout(second)

    assert str(refusal.value) == f"Kemi Ojo has already collected in {cycle}."
    assert state_of(group) == before


def test_outstanding_contributions_need_an_override_reason():
    group, places, cycle = running_group(3)
    first = cycle.rounds.get(number=1)
    services.pay_contribution(
        contribution(first, places[0]),
        by=group.coordinator,
        route=ROUTE,
        amount=Decimal("5000.00"),
    )
    services.pay_contribution(
        contribution(first, places[1]), by=group.coordinator, route=ROUTE
    )
    before = state_of(group)

    with pytest.raises(err.OutstandingContributions) as refusal:
        payout(first)
    with pytest.raises(err.OutstandingContributions):
        payout(first, override_reason="   ")

    assert str(refusal.value) == (
        f"{group.name} C1 R1: 2 contribution(s) totalling ₦15,000.00 are "
        "outstanding. Give an override reason to pay out anyway."
    )
    assert state_of(group) == before


def test_an_override_reason_is_stored_with_the_payout():
    group, _, cycle = running_group(3)
    first = cycle.rounds.get(number=1)

    p = payout(first, override_reason="  Hospital bill; members agreed at meeting  ")

    p.refresh_from_db()
    assert p.override_reason == "Hospital bill; members agreed at meeting"
    assert p.amount == Decimal("30000.00")


def test_a_fee_that_leaves_nothing_is_refused():
    group, _, cycle = running_group(
        3, fee_type=FeeType.FIXED, fee_value=Decimal("30000.00")
    )
    first = cycle.rounds.get(number=1)
    pay_all(first)
    before = state_of(group)

    with pytest.raises(err.InvalidPayment) as refusal:
        payout(first)

    assert str(refusal.value) == (
        f"{group.name} C1 R1: the service fee ₦30,000.00 leaves nothing to pay out."
    )
    assert state_of(group) == before


def test_a_cancelled_round_is_refused():
    group, places, cycle = running_group(3)
    services.leave_group(
        places[2], by=group.coordinator, route=ROUTE, today=datetime.date(2026, 1, 1)
    )
    third = cycle.rounds.get(number=3)
    before = state_of(group)

    with pytest.raises(err.RoundCancelled) as refusal:
        payout(third, override_reason="try anyway")

    assert str(refusal.value) == (
        f"{group.name} C1 R3 was cancelled when its recipient left."
    )
    assert state_of(group) == before


def test_payout_history_names_the_user_and_route():
    group, _, cycle = running_group(3)
    first = cycle.rounds.get(number=1)
    pay_all(first)

    p = services.record_payout(first, by=group.coordinator, route="admin: payout")

    row = last_history(p)
    assert (row.history_type, row.history_user, row.history_change_reason) == (
        "+",
        group.coordinator,
        "admin: payout",
    )
    round_row = last_history(first)
    assert (round_row.status, round_row.history_user) == (
        Round.Status.PAID_OUT,
        group.coordinator,
    )
    assert round_row.history_change_reason == "admin: payout"


def test_another_coordinator_may_not_record_a_payout():
    group, _, cycle = running_group(3)
    first = cycle.rounds.get(number=1)
    pay_all(first)
    before = state_of(group)

    with pytest.raises(err.NotAllowed):
        services.record_payout(
            first, by=make_staff(), route=ROUTE, override_reason="mine now"
        )

    assert state_of(group) == before
    assert not Payout.objects.exists()
