"""Each admin action, driven through the admin's URLs as a coordinator:
the page it shows, what it changes, what it says, and that running it
again changes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import make_group, make_places, running_group
from thrift import services
from thrift.models import (
    Contribution,
    Cycle,
    FeeType,
    Membership,
    Payout,
    PositionSwap,
    Round,
    lagos_today,
)

pytestmark = pytest.mark.django_db

MARK_PAID = "admin action: Mark paid"


@pytest.fixture
def coord_client(client, coordinator):
    client.force_login(coordinator)
    return client


def changelist(model_name):
    return reverse(f"admin:thrift_{model_name}_changelist")


def group_url(group, view):
    return reverse(f"admin:thrift_thriftgroup_{view}", args=[group.pk])


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def post(client, url, data):
    """Post with no messages left over from the requests before."""
    client.cookies.pop("messages", None)
    return client.post(url, data)


def run_action(client, model_name, action, objects, **data):
    """Post an action from the changelist; with data, confirm its page."""
    payload = {"action": action, "_selected_action": [o.pk for o in objects]}
    if data:
        payload["confirm"] = "yes"
        payload.update(data)
    return post(client, changelist(model_name), payload)


def round_one(cycle):
    return cycle.rounds.get(number=1)


def snapshot(queryset):
    return list(queryset.order_by("pk").values())


# --- mark paid -----------------------------------------------------------


def test_mark_paid_page_lists_the_selection_with_balances(coord_client, coordinator):
    group, members, cycle = running_group(coordinator=coordinator)
    c = round_one(cycle).contributions.order_by("pk").first()
    services.pay_contribution(
        c, by=coordinator, route="test", amount=Decimal("2500.00")
    )

    response = run_action(coord_client, "contribution", "mark_paid", [c])

    assert response.status_code == 200
    assert response.templates[0].name == "admin/thrift/contribution/mark_paid.html"
    content = response.content.decode()
    assert str(c.membership.member) in content
    assert "₦7,500.00" in content  # the balance, not the amount due
    assert response.context["form"].initial == {
        "action": "mark_paid",
        "select_across": False,
    }
    assert response.context["form"]["paid_on"].initial == lagos_today()
    assert Contribution.objects.get(pk=c.pk).amount_paid == Decimal("2500.00")


def test_mark_paid_pays_the_selection_and_says_how_many(coord_client, coordinator):
    group, members, cycle = running_group(coordinator=coordinator)
    selected = list(round_one(cycle).contributions.order_by("pk"))

    response = run_action(
        coord_client,
        "contribution",
        "mark_paid",
        selected,
        paid_on="2026-02-01",
        method="transfer",
        reference="GTB-0042",
    )

    assert response.status_code == 302
    assert messages_of(response) == ["3 marked paid."]
    rows = Contribution.objects.filter(pk__in=[c.pk for c in selected])
    assert list(
        rows.order_by()
        .values_list(
            "amount_paid", "status", "paid_on", "method", "reference", "recorded_by"
        )
        .distinct()
    ) == [
        (
            Decimal("10000.00"),
            "paid",
            datetime.date(2026, 2, 1),
            "transfer",
            "GTB-0042",
            coordinator.pk,
        )
    ]
    last = Contribution.history.filter(id=selected[0].pk).latest("history_date")
    assert (last.history_user, last.history_change_reason) == (coordinator, MARK_PAID)
    assert LogEntry.objects.filter(user=coordinator).count() == 3


def test_mark_paid_twice_changes_nothing_the_second_time(coord_client, coordinator):
    group, members, cycle = running_group(coordinator=coordinator)
    selected = list(round_one(cycle).contributions.order_by("pk"))
    form = {"paid_on": "2026-02-01", "method": "cash", "reference": ""}
    run_action(coord_client, "contribution", "mark_paid", selected, **form)
    before = snapshot(Contribution.objects.all())
    history = Contribution.history.count()

    response = run_action(coord_client, "contribution", "mark_paid", selected, **form)

    assert messages_of(response) == ["0 marked paid; 3 were already paid."]
    assert snapshot(Contribution.objects.all()) == before
    assert Contribution.history.count() == history


def test_mark_paid_records_a_part_payment(coord_client, coordinator):
    group, members, cycle = running_group(coordinator=coordinator)
    c = round_one(cycle).contributions.order_by("pk").first()

    response = run_action(
        coord_client,
        "contribution",
        "mark_paid",
        [c],
        paid_on="2026-02-01",
        method="cash",
        reference="R-1",
        amount="4000.00",
    )

    assert messages_of(response) == ["0 marked paid; 1 part-paid."]
    c.refresh_from_db()
    assert (c.amount_paid, c.status, c.balance) == (
        Decimal("4000.00"),
        "pending",
        Decimal("6000.00"),
    )


def test_mark_paid_shows_each_refusal_and_pays_the_rest(coord_client, coordinator):
    group, members, cycle = running_group(coordinator=coordinator)
    first, second, _ = round_one(cycle).contributions.order_by("pk")
    services.pay_contribution(
        second, by=coordinator, route="test", amount=Decimal("8000.00")
    )
    # Leaving before collecting cancels round 3 and waives its shares.
    services.leave_group(members[2], by=coordinator, route="test")
    waived = cycle.rounds.get(number=3).contributions.order_by("pk").first()
    before = snapshot(Contribution.objects.filter(pk__in=[second.pk, waived.pk]))

    response = run_action(
        coord_client,
        "contribution",
        "mark_paid",
        [first, second, waived],
        paid_on="2026-02-01",
        method="cash",
        reference="",
        amount="5000.00",
    )

    assert messages_of(response) == [
        "0 marked paid; 1 part-paid; 2 refused.",
        f"{second}: ₦5,000.00 is more than the ₦2,000.00 still due.",
        f"{waived} was waived; there is nothing to pay.",
    ]
    first.refresh_from_db()
    assert (first.amount_paid, first.status) == (Decimal("5000.00"), "pending")
    assert snapshot(Contribution.objects.filter(pk__in=[second.pk, waived.pk])) == (
        before
    )


def test_mark_paid_refuses_a_waived_contribution(coord_client, coordinator):
    group, members, cycle = running_group(
        coordinator=coordinator, start_date=lagos_today() + datetime.timedelta(days=5)
    )
    place = members[2]
    services.leave_group(place, by=coordinator, route="test")
    waived = Contribution.objects.get(membership=place, round__number=1)
    assert waived.status == "waived"

    response = run_action(
        coord_client,
        "contribution",
        "mark_paid",
        [waived],
        paid_on="2026-02-01",
        method="cash",
    )

    assert messages_of(response) == [
        "0 marked paid; 1 refused.",
        f"{waived} was waived; there is nothing to pay.",
    ]
    waived.refresh_from_db()
    assert (waived.status, waived.amount_paid) == ("waived", Decimal("0.00"))


def test_mark_paid_with_a_bad_form_shows_it_again_and_pays_nothing(
    coord_client, coordinator
):
    group, members, cycle = running_group(coordinator=coordinator)
    c = round_one(cycle).contributions.order_by("pk").first()

    response = run_action(
        coord_client,
        "contribution",
        "mark_paid",
        [c],
        paid_on="31/31/2026",
        method="cheque",
        amount="-5",
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"paid_on", "method", "amount"}
    c.refresh_from_db()
    assert (c.amount_paid, c.status) == (Decimal("0.00"), "pending")


# --- start a cycle -------------------------------------------------------


def test_start_cycle_page_defaults_to_the_next_due_date(coord_client, coordinator):
    group = make_group(coordinator=coordinator, start_date=datetime.date(2027, 3, 31))
    make_places(group, 2)

    response = run_action(coord_client, "thriftgroup", "start_cycle", [group])

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["start_date"] == datetime.date(2027, 3, 31)
    assert form.initial["action"] == "start_cycle"
    assert not Cycle.objects.exists()


def test_start_cycle_fixes_the_order_and_shows_it(coord_client, coordinator):
    group = make_group(coordinator=coordinator)
    first, second, third = make_places(group, 3)

    response = run_action(
        coord_client,
        "thriftgroup",
        "start_cycle",
        [group],
        start_date="2027-01-31",
        order_method="join_order",
    )

    assert response.status_code == 200
    assert messages_of(response) == ["1 cycle started."]
    cycle = Cycle.objects.get(group=group)
    assert (cycle.number, cycle.start_date, cycle.order_method) == (
        1,
        datetime.date(2027, 1, 31),
        "join_order",
    )
    assert list(
        cycle.rounds.order_by("number").values_list("number", "due_date", "recipient")
    ) == [
        (1, datetime.date(2027, 1, 31), first.pk),
        (2, datetime.date(2027, 2, 28), second.pk),
        (3, datetime.date(2027, 3, 31), third.pk),
    ]
    assert Contribution.objects.filter(round__cycle=cycle).count() == 9
    content = response.content.decode()
    assert f"{group} cycle 1: payout order" in content
    assert content.index(str(first.member)) < content.index(str(third.member))
    assert LogEntry.objects.get(user=coordinator).change_message == ("Started cycle 1.")


def test_start_cycle_twice_is_refused_the_second_time(coord_client, coordinator):
    group, members, cycle = running_group(coordinator=coordinator)
    before = (
        Cycle.objects.count(),
        Round.objects.count(),
        Contribution.objects.count(),
    )

    response = run_action(
        coord_client,
        "thriftgroup",
        "start_cycle",
        [group],
        start_date="",
        order_method="join_order",
    )

    assert response.status_code == 302
    assert messages_of(response) == [
        "0 cycles started; 1 refused.",
        f"{group} already has an open cycle; close it before starting the next.",
    ]
    after = (Cycle.objects.count(), Round.objects.count(), Contribution.objects.count())
    assert after == before


def test_start_cycle_by_random_draw_keeps_its_seed(coord_client, coordinator):
    group = make_group(coordinator=coordinator)
    make_places(group, 4)

    coord_client.post(
        group_url(group, "start_cycle"),
        {
            "action": "start_cycle",
            "confirm": "yes",
            "start_date": "",
            "order_method": "random",
        },
    )

    cycle = Cycle.objects.get(group=group)
    assert cycle.order_method == "random"
    assert cycle.draw_seed is not None
    assert cycle.start_date == group.start_date
    assert sorted(group.memberships.values_list("position", flat=True)) == [1, 2, 3, 4]


def test_start_cycle_button_opens_the_page_for_that_group(coord_client, coordinator):
    group = make_group(coordinator=coordinator)
    make_places(group, 2)

    page = coord_client.get(reverse("admin:thrift_thriftgroup_change", args=[group.pk]))
    response = coord_client.get(group_url(group, "start_cycle"))

    assert group_url(group, "start_cycle") in page.content.decode()
    assert response.status_code == 200
    assert response.context["original"] == group
    assert response.context["form"].initial["start_date"] == group.start_date


# --- record a payout -----------------------------------------------------


def pay_round(cycle, number, by):
    services.mark_paid(
        cycle.rounds.get(number=number).contributions.all(), by=by, route="test"
    )


def test_payout_page_shows_recipient_bank_pot_fee_and_net(coord_client, coordinator):
    group, members, cycle = running_group(
        coordinator=coordinator, fee_type=FeeType.FIXED, fee_value=Decimal("1500.00")
    )
    pay_round(cycle, 1, coordinator)
    recipient = members[0].member

    response = coord_client.get(group_url(group, "record_payout"))

    assert response.status_code == 200
    content = response.content.decode()
    for shown in (
        str(recipient),
        recipient.bank_name,
        recipient.account_number,
        recipient.account_name,
        "₦30,000.00",
        "₦1,500.00",
        "₦28,500.00",
        "Every contribution of this round is in.",
    ):
        assert shown in content
    assert "override_reason" not in response.context["form"].fields
    assert response.context["round"] == round_one(cycle)


def test_payout_is_recorded_once(coord_client, coordinator):
    group, members, cycle = running_group(
        coordinator=coordinator, fee_type=FeeType.FIXED, fee_value=Decimal("1500.00")
    )
    pay_round(cycle, 1, coordinator)
    r = round_one(cycle)
    data = {"round": r.pk, "paid_on": "2026-02-02", "reference": "TRF-77"}

    response = post(coord_client, group_url(group, "record_payout"), data)

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:thrift_thriftgroup_change", args=[group.pk]
    )
    assert messages_of(response) == [
        f"Paid out ₦28,500.00 to {members[0].member} for {r} (pot ₦30,000.00, "
        "fee ₦1,500.00)."
    ]
    payout = Payout.objects.get()
    assert (
        payout.round,
        payout.membership,
        payout.pot,
        payout.fee,
        payout.amount,
        payout.paid_on,
        payout.reference,
        payout.override_reason,
        payout.recorded_by,
    ) == (
        r,
        members[0],
        Decimal("30000.00"),
        Decimal("1500.00"),
        Decimal("28500.00"),
        datetime.date(2026, 2, 2),
        "TRF-77",
        "",
        coordinator,
    )

    again = post(coord_client, group_url(group, "record_payout"), data)

    assert messages_of(again) == [f"{r} has already been paid out."]
    assert Payout.objects.count() == 1
    assert Round.objects.get(cycle=cycle, number=2).status == "open"


def test_payout_with_outstanding_contributions_needs_a_reason(
    coord_client, coordinator
):
    group, members, cycle = running_group(coordinator=coordinator)
    r = round_one(cycle)
    first = r.contributions.order_by("pk").first()
    services.pay_contribution(first, by=coordinator, route="test")

    page = coord_client.get(group_url(group, "record_payout"))
    refused = post(
        coord_client,
        group_url(group, "record_payout"),
        {"round": r.pk, "paid_on": "2026-02-02", "override_reason": "  "},
    )

    content = page.content.decode()
    assert "2 contributions outstanding: ₦20,000.00" in content
    assert str(members[1].member) in content and str(members[2].member) in content
    assert "override_reason" in page.context["form"].fields
    assert refused.status_code == 200
    assert refused.context["form"].errors == {
        "override_reason": ["This field is required."]
    }
    assert not Payout.objects.exists()

    response = post(
        coord_client,
        group_url(group, "record_payout"),
        {
            "round": r.pk,
            "paid_on": "2026-02-02",
            "override_reason": "Two members paid the coordinator in cash late.",
        },
    )

    assert messages_of(response) == [
        f"Paid out ₦30,000.00 to {members[0].member} for {r} (pot ₦30,000.00, "
        "fee ₦0.00).",
        "Paid out with 2 contributions outstanding; the override reason is kept "
        "with the payout.",
    ]
    payout = Payout.objects.get()
    assert payout.override_reason == "Two members paid the coordinator in cash late."
    assert payout.amount == Decimal("30000.00")


def test_record_payout_action_opens_the_page_of_one_group(coord_client, coordinator):
    group, members, cycle = running_group(coordinator=coordinator)
    other, *_ = running_group(coordinator=coordinator)

    one = run_action(coord_client, "thriftgroup", "record_payout", [group])
    two = run_action(coord_client, "thriftgroup", "record_payout", [group, other])

    assert one.status_code == 302
    assert one["Location"] == group_url(group, "record_payout")
    assert messages_of(two) == [
        "Select exactly one group: each payout is confirmed on its own page."
    ]
    assert not Payout.objects.exists()


def test_payout_page_without_a_round_to_pay_says_so(coord_client, coordinator):
    group = make_group(coordinator=coordinator)

    response = coord_client.get(group_url(group, "record_payout"))

    assert response.status_code == 302
    assert messages_of(response) == [f"{group} has no round waiting for a payout."]


# --- close a cycle -------------------------------------------------------


def test_close_cycle_is_refused_until_every_round_is_paid_out(
    coord_client, coordinator
):
    group, members, cycle = running_group(places=2, coordinator=coordinator)

    refused = run_action(coord_client, "thriftgroup", "close_cycle", [group])

    assert messages_of(refused) == [
        "0 cycles closed; 1 refused.",
        f"{cycle} cannot close: round(s) 1, 2 are not paid out yet.",
    ]
    assert Cycle.objects.get().status == "open"

    for number in (1, 2):
        pay_round(cycle, number, coordinator)
        services.record_payout(
            cycle.rounds.get(number=number), by=coordinator, route="test"
        )
    closed = run_action(coord_client, "thriftgroup", "close_cycle", [group])
    again = run_action(coord_client, "thriftgroup", "close_cycle", [group])

    assert messages_of(closed) == ["1 cycle closed."]
    assert messages_of(again) == ["0 cycles closed; 1 group had no open cycle."]
    cycle.refresh_from_db()
    group.refresh_from_db()
    assert (cycle.status, group.status) == ("closed", "completed")


# --- swap positions ------------------------------------------------------


def test_swap_positions_asks_why_then_swaps(coord_client, coordinator):
    group, members, cycle = running_group(coordinator=coordinator)
    first, second = members[0], members[2]

    page = run_action(coord_client, "membership", "swap_positions", [first, second])
    assert page.status_code == 200
    positions = page.context["form"].initial["positions"]
    assert positions == f"{first.pk}:1,{second.pk}:3"

    no_reason = run_action(
        coord_client,
        "membership",
        "swap_positions",
        [first, second],
        positions=positions,
        reason="",
    )
    assert no_reason.context["form"].errors == {"reason": ["This field is required."]}
    assert not PositionSwap.objects.exists()

    response = run_action(
        coord_client,
        "membership",
        "swap_positions",
        [first, second],
        positions=positions,
        reason="Travelling in January",
    )

    assert messages_of(response) == [
        f"Swapped {first.member} (now #3) and {second.member} (now #1) in {cycle}."
    ]
    assert dict(
        Membership.objects.filter(group=group).values_list("pk", "position")
    ) == {first.pk: 3, members[1].pk: 2, second.pk: 1}
    assert cycle.rounds.get(number=1).recipient == second
    swap = PositionSwap.objects.get()
    assert (swap.reason, swap.swapped_by) == ("Travelling in January", coordinator)

    again = run_action(
        coord_client,
        "membership",
        "swap_positions",
        [first, second],
        positions=positions,
        reason="Travelling in January",
    )

    assert messages_of(again) == [
        "The payout order changed since the page was shown; nothing was swapped. "
        "Check the places and try again."
    ]
    assert PositionSwap.objects.count() == 1
    assert Membership.objects.get(pk=first.pk).position == 3


def test_swap_needs_exactly_two_places(coord_client, coordinator):
    group, members, cycle = running_group(coordinator=coordinator)

    response = run_action(coord_client, "membership", "swap_positions", members)

    assert messages_of(response) == ["Select exactly two places to swap; 3 selected."]
    assert not PositionSwap.objects.exists()


def test_swap_of_a_place_that_collected_is_refused(coord_client, coordinator):
    group, members, cycle = running_group(coordinator=coordinator)
    pay_round(cycle, 1, coordinator)
    services.record_payout(round_one(cycle), by=coordinator, route="test")
    positions = f"{members[0].pk}:1,{members[1].pk}:2"

    response = run_action(
        coord_client,
        "membership",
        "swap_positions",
        members[:2],
        positions=positions,
        reason="asked to",
    )

    assert messages_of(response) == [
        f"{members[0].member} has already collected in {cycle} (round 1); "
        "positions of collected places are fixed."
    ]
    assert list(
        Membership.objects.filter(group=group)
        .order_by("pk")
        .values_list("position", flat=True)
    ) == [1, 2, 3]


# --- leave the group -----------------------------------------------------


def test_leave_group_confirms_then_waives_and_counts(coord_client, coordinator):
    group, members, cycle = running_group(
        coordinator=coordinator, start_date=lagos_today() + datetime.timedelta(days=3)
    )
    leaving = members[2]

    page = run_action(coord_client, "membership", "leave_group", [leaving])
    assert page.status_code == 200
    assert Membership.objects.get(pk=leaving.pk).left_at is None

    response = run_action(coord_client, "membership", "leave_group", [leaving], go=1)

    # Its own three shares, and the two others' shares of its cancelled round.
    assert messages_of(response) == [
        "1 left the group; 5 contributions waived; 1 round cancelled."
    ]
    leaving.refresh_from_db()
    assert (leaving.left_at is not None, leaving.position) == (True, None)
    assert cycle.rounds.get(number=3).status == "cancelled"
    assert Contribution.objects.filter(status="waived").count() == 5

    again = run_action(coord_client, "membership", "leave_group", [leaving], go=1)

    assert messages_of(again) == [
        "0 left the group; 0 contributions waived; 0 rounds cancelled; 1 had "
        "already left."
    ]
    assert Contribution.objects.filter(status="waived").count() == 5


def test_leave_group_is_refused_when_the_round_holds_money(coord_client, coordinator):
    group, members, cycle = running_group(coordinator=coordinator)
    services.mark_paid(
        cycle.rounds.get(number=3).contributions.all()[:1], by=coordinator, route="t"
    )

    response = run_action(coord_client, "membership", "leave_group", [members[2]], go=1)

    assert messages_of(response) == [
        "0 left the group; 0 contributions waived; 0 rounds cancelled; 1 refused.",
        f"{members[2].member} cannot leave yet: round 3 already holds ₦10,000.00 "
        "paid in for their payout. Pay it out, or correct those payments first.",
    ]
    assert Membership.objects.get(pk=members[2].pk).left_at is None


# --- the contributions list ----------------------------------------------


def totals_of(response):
    return [
        (t["count"], t["due"], t["paid"], t["outstanding"])
        for t in response.context["totals"]
    ]


def test_totals_above_the_list_follow_its_filters(coord_client, coordinator):
    group, members, cycle = running_group(coordinator=coordinator)
    other, *_ = running_group(coordinator=coordinator)
    pay_round(cycle, 1, coordinator)
    services.pay_contribution(
        cycle.rounds.get(number=2).contributions.order_by("pk").first(),
        by=coordinator,
        route="test",
        amount=Decimal("4000.00"),
    )
    everything = coord_client.get(changelist("contribution"))
    one_group = coord_client.get(
        changelist("contribution"), {"group__id__exact": group.pk}
    )
    paid = coord_client.get(
        changelist("contribution"),
        {"group__id__exact": group.pk, "status__exact": "paid"},
    )
    pending = coord_client.get(
        changelist("contribution"),
        {"group__id__exact": group.pk, "status__exact": "pending"},
    )

    assert totals_of(everything) == [(18, "₦180,000.00", "₦34,000.00", "₦146,000.00")]
    assert totals_of(one_group) == [(9, "₦90,000.00", "₦34,000.00", "₦56,000.00")]
    assert totals_of(paid) == [(3, "₦30,000.00", "₦30,000.00", "₦0.00")]
    assert totals_of(pending) == [(6, "₦60,000.00", "₦4,000.00", "₦56,000.00")]
    content = one_group.content.decode()
    assert 'class="total-outstanding text-danger">₦56,000.00' in content
    assert content.index("contribution-totals") < content.index("result_list")


def test_totals_leave_out_waived_contributions(coord_client, coordinator):
    group, members, cycle = running_group(coordinator=coordinator)
    services.leave_group(members[2], by=coordinator, route="test")

    response = coord_client.get(changelist("contribution"), {"status__exact": "waived"})
    everything = coord_client.get(changelist("contribution"))

    assert totals_of(response) == [(3, "₦0.00", "₦0.00", "₦0.00")]
    assert totals_of(everything) == [(9, "₦60,000.00", "₦0.00", "₦60,000.00")]


def test_totals_come_one_row_per_currency(coord_client, coordinator):
    naira, *_ = running_group(coordinator=coordinator)
    cedi, _, cedi_cycle = running_group(
        coordinator=coordinator, currency="GHS", contribution_amount=Decimal("250.00")
    )
    pay_round(cedi_cycle, 1, coordinator)

    response = coord_client.get(changelist("contribution"))

    assert totals_of(response) == [
        (9, "GH₵2,250.00", "GH₵750.00", "GH₵1,500.00"),
        (9, "₦90,000.00", "₦0.00", "₦90,000.00"),
    ]
    assert [t["currency"] for t in response.context["totals"]] == ["GHS", "NGN"]
    assert "in this list (GHS)" in response.content.decode()


def test_overdue_method_and_due_date_filters(coord_client, coordinator):
    group, members, cycle = running_group(coordinator=coordinator)
    future, *_ = running_group(
        coordinator=coordinator, start_date=lagos_today() + datetime.timedelta(days=7)
    )
    first = round_one(cycle).contributions.order_by("pk").first()
    services.pay_contribution(first, by=coordinator, route="t", method="transfer")

    def count(**params):
        return (
            coord_client.get(changelist("contribution"), params)
            .context["cl"]
            .result_count
        )

    assert count(overdue="yes") == 8
    assert count(overdue="no") == 10
    assert count(method__exact="transfer") == 1
    assert count(due_date__gte=str(lagos_today())) == 9


@pytest.mark.parametrize(
    "term", ["08031234567", "+2348031234567", "234 803 123 4567", "0803-123-4567"]
)
def test_search_finds_a_phone_however_it_is_written(coord_client, coordinator, term):
    group, members, cycle = running_group(coordinator=coordinator)
    member = members[1].member
    member.phone = "+2348031234567"
    member.save()

    response = coord_client.get(changelist("contribution"), {"q": term})

    assert {c.membership.member for c in response.context["cl"].result_list} == {member}
    assert response.context["cl"].result_count == 3


def test_search_by_name_and_reference(coord_client, coordinator):
    group, members, cycle = running_group(coordinator=coordinator)
    member = members[0].member
    member.first_name, member.last_name = "Chiamaka", "Okafor"
    member.save()
    c = round_one(cycle).contributions.order_by("pk").last()
    services.pay_contribution(c, by=coordinator, route="t", reference="TRF-9917")

    by_name = coord_client.get(changelist("contribution"), {"q": "chiamaka okafor"})
    by_reference = coord_client.get(changelist("contribution"), {"q": "trf-9917"})

    assert by_name.context["cl"].result_count == 3
    assert list(by_reference.context["cl"].result_list) == [c]


@pytest.mark.parametrize("places", [3, 8])
def test_contributions_list_queries_do_not_grow_with_rows(
    coord_client, coordinator, django_assert_max_num_queries, places
):
    for _ in range(2):
        group, members, cycle = running_group(places=places, coordinator=coordinator)
        pay_round(cycle, 1, coordinator)

    with django_assert_max_num_queries(12):
        response = coord_client.get(
            changelist("contribution"), {"overdue": "yes", "q": "Member"}
        )

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == min(
        50, 2 * places * places - 2 * places
    )


def test_leaving_after_collecting_keeps_the_rest_as_arrears(coord_client, coordinator):
    group, members, cycle = running_group(coordinator=coordinator)
    pay_round(cycle, 1, coordinator)
    services.record_payout(round_one(cycle), by=coordinator, route="test")
    collected = members[0]

    response = run_action(coord_client, "membership", "leave_group", [collected], go=1)

    assert messages_of(response) == [
        "1 left the group; 0 contributions waived; 0 rounds cancelled.",
        f"{collected.member} still owes ₦20,000.00 on 2 contributions; it stays "
        "as arrears.",
    ]
    assert list(
        Contribution.objects.filter(membership=collected)
        .order_by("round__number")
        .values_list("status", flat=True)
    ) == ["paid", "pending", "pending"]


def test_a_running_cycle_fixes_the_places_on_the_group_page(coord_client, coordinator):
    group, members, cycle = running_group(coordinator=coordinator)
    waiting = make_group(coordinator=coordinator)

    running_page = coord_client.get(
        reverse("admin:thrift_thriftgroup_change", args=[group.pk])
    )
    waiting_page = coord_client.get(
        reverse("admin:thrift_thriftgroup_change", args=[waiting.pk])
    )

    running_places = running_page.context["inline_admin_formsets"][0]
    waiting_places = waiting_page.context["inline_admin_formsets"][0]
    assert running_places.has_add_permission is False
    assert set(running_places.readonly_fields) >= {"member", "position"}
    assert waiting_places.has_add_permission is True
    assert "position" not in waiting_places.readonly_fields


@pytest.mark.mysql_only
def test_totals_are_withheld_when_the_list_size_is_an_estimate(
    coord_client, coordinator, monkeypatch
):
    """Past the exact-count cap the list is sized by MariaDB's estimate;
    summing it would read every row, so the list says how to narrow it."""
    from thrift import paginator

    monkeypatch.setattr(paginator, "COUNT_CAP", 5)
    group, members, cycle = running_group(coordinator=coordinator)
    first_due = cycle.rounds.get(number=1).due_date

    large = coord_client.get(changelist("contribution"), {"status__exact": "pending"})
    small = coord_client.get(
        changelist("contribution"),
        {
            "status__exact": "pending",
            "due_date__year": first_due.year,
            "due_date__month": first_due.month,
        },
    )

    assert large.context["cl"].paginator.is_estimate
    assert "totals" not in large.context
    assert large.context["totals_withheld"] == 5
    assert "Totals are shown for lists of up to 5 contributions" in (
        large.content.decode()
    )
    assert not small.context["cl"].paginator.is_estimate
    assert totals_of(small) == [(3, "₦30,000.00", "₦0.00", "₦30,000.00")]


def test_totals_are_withheld_on_any_database_when_the_size_is_estimated(
    coord_client, coordinator, monkeypatch
):
    """The same rule with the optimizer's estimate stood in for, so that it
    runs on SQLite too (where lists are always counted exactly)."""
    from thrift import paginator

    monkeypatch.setattr(paginator, "COUNT_CAP", 5)
    monkeypatch.setattr(paginator, "filtered_row_estimate", lambda qs: 40)
    running_group(coordinator=coordinator)

    response = coord_client.get(
        changelist("contribution"), {"status__exact": "pending"}
    )

    assert response.context["cl"].paginator.is_estimate
    assert "totals" not in response.context
    assert "Totals are shown for lists of up to 5 contributions" in (
        response.content.decode()
    )
