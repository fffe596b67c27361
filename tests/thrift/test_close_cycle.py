"""Closing a cycle once every round is paid out, and starting the next."""

import datetime
from decimal import Decimal

import pytest

from tests.factories import (
    make_group,
    make_places,
    make_staff,
    make_user,
    running_group,
)
from tests.thrift.support import ROUTE, last_history, state_of
from thrift import exceptions as err
from thrift import services
from thrift.models import Contribution, Cycle, GroupStatus, Round

pytestmark = pytest.mark.django_db

D = datetime.date


def pay_out(r, **kwargs):
    services.mark_paid(r.contributions.all(), by=r.group.coordinator, route=ROUTE)
    return services.record_payout(r, by=r.group.coordinator, route=ROUTE, **kwargs)


def close(cycle, **kwargs):
    kwargs.setdefault("by", cycle.group.coordinator)
    kwargs.setdefault("route", ROUTE)
    return services.close_cycle(cycle, **kwargs)


def test_closing_with_open_rounds_is_refused_and_lists_them():
    group, _, cycle = running_group(3)
    pay_out(cycle.rounds.get(number=1))
    before = state_of(group)

    with pytest.raises(err.CycleNotFinished) as refusal:
        close(cycle)

    assert str(refusal.value) == (
        f"{group.name} cycle 1 cannot close: round(s) 2, 3 are not paid out yet."
    )
    assert state_of(group) == before


def test_a_closed_cycle_cannot_close_again():
    group, _, cycle = running_group(1)
    pay_out(cycle.rounds.get())
    close(cycle)
    before = state_of(group)

    with pytest.raises(err.CycleNotOpen) as refusal:
        close(cycle)

    assert str(refusal.value) == f"{group.name} cycle 1 is already closed."
    assert state_of(group) == before


def test_closing_after_every_round_is_paid_out_or_cancelled():
    group, places, cycle = running_group(3)
    services.leave_group(
        places[2], by=group.coordinator, route=ROUTE, today=D(2026, 1, 1)
    )
    pay_out(cycle.rounds.get(number=1))
    pay_out(cycle.rounds.get(number=2))

    closed = close(cycle, route="admin: close cycle")

    closed.refresh_from_db()
    group.refresh_from_db()
    assert closed.status == Cycle.Status.CLOSED
    assert closed.closed_at is not None
    assert group.status == GroupStatus.COMPLETED
    statuses = list(cycle.rounds.order_by("number").values_list("status", flat=True))
    assert statuses == [Round.Status.PAID_OUT, Round.Status.PAID_OUT, "cancelled"]
    for obj in (closed, group):
        row = last_history(obj)
        assert (row.history_user, row.history_change_reason) == (
            group.coordinator,
            "admin: close cycle",
        )


def test_arrears_of_a_closed_cycle_stay_owed():
    group, places, cycle = running_group(2)
    for r in cycle.rounds.all():
        services.record_payout(
            r, by=group.coordinator, route=ROUTE, override_reason="paid from float"
        )

    close(cycle)

    owed = Contribution.objects.filter(group=group)
    assert owed.arrears_total(D(2026, 3, 1)) == Decimal("40000.00")


def test_the_next_cycle_starts_one_period_after_the_last_due_date():
    group, places, cycle = running_group(3)
    for r in cycle.rounds.order_by("number"):
        pay_out(r)
    close(cycle)
    newcomer = services.join_group(
        group, make_user(), by=group.coordinator, route=ROUTE
    )

    second = services.start_cycle(group, by=group.coordinator, route=ROUTE)

    assert (second.number, second.start_date) == (2, D(2026, 4, 30))
    assert list(
        second.rounds.order_by("number").values_list("recipient", "due_date")
    ) == [
        (places[0].pk, D(2026, 4, 30)),
        (places[1].pk, D(2026, 5, 31)),
        (places[2].pk, D(2026, 6, 30)),
        (newcomer.pk, D(2026, 7, 31)),
    ]
    assert Contribution.objects.filter(round__cycle=second).count() == 16
    group.refresh_from_db()
    assert group.status == GroupStatus.ACTIVE


def test_a_weekly_groups_next_cycle_follows_on():
    group, _, cycle = running_group(2, frequency="weekly", start_date=D(2026, 12, 21))
    for r in cycle.rounds.order_by("number"):
        pay_out(r)
    close(cycle)

    second = services.start_cycle(group, by=group.coordinator, route=ROUTE)

    dates = list(second.rounds.order_by("number").values_list("due_date", flat=True))
    assert dates == [D(2027, 1, 4), D(2027, 1, 11)]


def test_another_coordinator_may_not_close_a_cycle():
    group, _, cycle = running_group(1)
    pay_out(cycle.rounds.get())
    before = state_of(group)

    with pytest.raises(err.NotAllowed):
        close(cycle, by=make_staff())

    assert state_of(group) == before


def test_a_cycle_started_off_schedule_is_followed_one_period_later():
    group = make_group(start_date=D(2026, 1, 31))
    make_places(group, 3)
    cycle = services.start_cycle(
        group, by=group.coordinator, route=ROUTE, start_date=D(2026, 3, 15)
    )
    assert cycle.start_date == D(2026, 3, 15)
    for r in cycle.rounds.order_by("number"):
        pay_out(r)
    close(cycle)

    second = services.start_cycle(group, by=group.coordinator, route=ROUTE)

    dates = list(second.rounds.order_by("number").values_list("due_date", flat=True))
    assert dates == [D(2026, 6, 15), D(2026, 7, 15), D(2026, 8, 15)]
    assert second.start_date == D(2026, 6, 15)


@pytest.mark.parametrize(
    ("frequency", "date", "index"),
    [
        ("monthly", D(2026, 1, 31), 1),
        ("monthly", D(2026, 2, 28), 2),
        ("monthly", D(2026, 4, 30), 4),
        ("monthly", D(2026, 4, 29), None),
        ("monthly", D(2025, 12, 31), None),
        ("daily", D(2026, 2, 1), 2),
        ("weekly", D(2026, 2, 14), 3),
        ("weekly", D(2026, 2, 15), None),
        ("biweekly", D(2026, 2, 28), 3),
        ("biweekly", D(2026, 2, 7), None),
    ],
)
def test_schedule_index_finds_a_date_on_the_groups_schedule(frequency, date, index):
    group = make_group(frequency=frequency, start_date=D(2026, 1, 31))

    assert group.schedule_index(date) == index
    if index is not None:
        assert group.due_date(group.start_date, index) == date


def test_a_long_list_of_open_rounds_is_cut_short():
    group, _, cycle = running_group(13, frequency="daily")

    with pytest.raises(err.CycleNotFinished) as refusal:
        close(cycle)

    assert str(refusal.value) == (
        f"{group.name} cycle 1 cannot close: round(s) 1, 2, 3, 4, 5, 6, 7, 8, 9, "
        "10 and 3 more are not paid out yet."
    )


def test_a_position_left_beyond_the_places_after_a_leaver_must_be_cleared():
    group, places, cycle = running_group(3)
    for r in cycle.rounds.order_by("number"):
        pay_out(r)
    services.leave_group(places[0], by=group.coordinator, route=ROUTE)
    close(cycle)
    places[2].member.first_name, places[2].member.last_name = "Kemi", "Ojo"
    places[2].member.save()
    before = state_of(group)

    with pytest.raises(err.InvalidPositions) as refusal:
        services.start_cycle(group, by=group.coordinator, route=ROUTE)

    assert str(refusal.value) == (
        "Kemi Ojo is set to position 3, but the group has only 2 places. Clear or "
        "lower that position."
    )
    assert state_of(group) == before
    places[2].refresh_from_db()
    places[2].position = None
    services.stamp(places[2], group.coordinator, ROUTE).save()

    second = services.start_cycle(group, by=group.coordinator, route=ROUTE)

    assert list(
        second.rounds.order_by("number").values_list("recipient", flat=True)
    ) == [
        places[2].pk,
        places[1].pk,
    ]


def test_choosing_the_offered_next_date_keeps_month_end_dates():
    from thrift.services import next_cycle_start

    group, places, cycle = running_group(
        places=3, start_date=datetime.date(2026, 1, 31)
    )
    by = group.coordinator
    for r in cycle.rounds.order_by("number"):
        services.mark_paid(
            r.contributions.all(), by=by, route="test", paid_on=r.due_date
        )
        services.record_payout(r, by=by, route="test", paid_on=r.due_date)
    services.close_cycle(cycle, by=by, route="test")

    offered = next_cycle_start(group)
    second = services.start_cycle(group, by=by, route="test", start_date=offered)

    assert offered == datetime.date(2026, 4, 30)
    assert list(
        second.rounds.order_by("number").values_list("due_date", flat=True)
    ) == [
        datetime.date(2026, 4, 30),
        datetime.date(2026, 5, 31),
        datetime.date(2026, 6, 30),
    ]


def finish(cycle):
    for r in cycle.rounds.order_by("number"):
        pay_out(r)
    close(cycle)


def due_dates(cycle):
    return list(cycle.rounds.order_by("number").values_list("due_date", flat=True))


def test_a_cycle_chosen_on_a_month_end_is_followed_on_month_ends():
    group = make_group(start_date=D(2025, 12, 15))
    make_places(group, 3)
    first = services.start_cycle(
        group, by=group.coordinator, route=ROUTE, start_date=D(2025, 12, 31)
    )
    assert due_dates(first) == [D(2025, 12, 31), D(2026, 1, 31), D(2026, 2, 28)]
    finish(first)

    assert services.next_cycle_start(group) == D(2026, 3, 31)
    second = services.start_cycle(group, by=group.coordinator, route=ROUTE)

    assert due_dates(second) == [D(2026, 3, 31), D(2026, 4, 30), D(2026, 5, 31)]
    assert second.start_date == D(2026, 3, 31)
    finish(second)
    assert services.next_cycle_start(group) == D(2026, 6, 30)
    third = services.start_cycle(group, by=group.coordinator, route=ROUTE)
    assert due_dates(third) == [D(2026, 6, 30), D(2026, 7, 31), D(2026, 8, 31)]


def test_choosing_the_offered_date_after_a_chosen_month_end_gives_the_same_rounds():
    group = make_group(start_date=D(2025, 12, 15))
    make_places(group, 3)
    finish(
        services.start_cycle(
            group, by=group.coordinator, route=ROUTE, start_date=D(2025, 12, 31)
        )
    )

    offered = services.next_cycle_start(group)
    second = services.start_cycle(
        group, by=group.coordinator, route=ROUTE, start_date=offered
    )

    assert offered == D(2026, 3, 31)
    assert due_dates(second) == [D(2026, 3, 31), D(2026, 4, 30), D(2026, 5, 31)]


def test_one_place_cycles_from_a_chosen_month_end_do_not_drift():
    group = make_group(start_date=D(2025, 12, 15))
    make_places(group, 1)
    finish(
        services.start_cycle(
            group, by=group.coordinator, route=ROUTE, start_date=D(2026, 1, 31)
        )
    )
    second = services.start_cycle(group, by=group.coordinator, route=ROUTE)
    assert due_dates(second) == [D(2026, 2, 28)]
    finish(second)

    assert services.next_cycle_start(group) == D(2026, 3, 31)
    third = services.start_cycle(group, by=group.coordinator, route=ROUTE)
    assert due_dates(third) == [D(2026, 3, 31)]
