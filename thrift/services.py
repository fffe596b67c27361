"""Every operation that moves money or writes several rows.

Admin actions, spreadsheet imports, management commands and tests all call
these functions; none of them repeats a rule. Each operation runs in one
transaction, re-reads the rows it changes with `select_for_update()`, checks
its rules after taking the lock, and stamps every row it saves with the
acting user and the route (admin action, import file, command) so that the
audit history says who and how.

Lock order. On MySQL/MariaDB `select_for_update()` with `select_related()`
locks every joined row too, so locks are taken on the row itself only and
related rows are read without a lock. Every service takes its locks in this
order, so that two of them never wait on each other:

1. the group row, when the service needs it (join, start and close);
2. the cycle row (close);
3. rounds, in pk order;
4. contributions, in pk order;
5. memberships, in pk order;
6. collection months (`CollectionMonth`), in (group, month) order, written
   by an upsert that adds to the row.

Inserting a row takes a shared lock on the rows its foreign keys name, so a
service that locks the group must not wait for a round lock afterwards.
"""

import datetime
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import User

from . import exceptions as err
from .models import (
    CollectionMonth,
    Contribution,
    Cycle,
    GroupStatus,
    Membership,
    PaymentMethod,
    Payout,
    PositionSwap,
    Round,
    ThriftGroup,
    lagos_today,
)
from .money import ZERO, to_money

logger = logging.getLogger(__name__)

# Keep in step with the history tables' change-reason column.
ROUTE_MAX_LENGTH = 100


def stamp(instance, by: User | None, route: str):
    """Mark `instance` so that its next history row names `by` and `route`."""
    instance._history_user = by
    instance._change_reason = route[:ROUTE_MAX_LENGTH]
    return instance


def can_manage_group(user: User, group: ThriftGroup) -> bool:
    """Superusers manage every group; a coordinator only their own."""
    return user.is_active and (user.is_superuser or group.coordinator_id == user.pk)


def _ensure_can_manage(user: User, group: ThriftGroup) -> None:
    if not can_manage_group(user, group):
        raise err.NotAllowed(f"{user} may not change the records of {group}.")


def _open_cycle(group: ThriftGroup) -> Cycle | None:
    return group.cycles.filter(status=Cycle.Status.OPEN).first()


# --- places -------------------------------------------------------------


def check_join(group: ThriftGroup, member: User, position: int | None = None) -> None:
    """Refuse a new place for `member` in `group` that the rules forbid.

    Places join between cycles, not while one is open; a member holds a
    second place only where the group allows two hands; a position counts
    from one and is not already taken. Forms call this to show the refusal
    on the field; `join_group` calls it again under the group's lock.
    """
    if position is not None and position < 1:
        raise err.JoinRefused(f"Position {position} is not a position; count from 1.")
    if group.pk is None:
        return
    if _open_cycle(group):
        raise err.JoinRefused(
            f"{group} has a cycle running; {member} can join when it closes."
        )
    has_place = group.memberships.filter(member=member, left_at__isnull=True)
    if has_place.exists() and not group.allow_multiple_places:
        raise err.JoinRefused(
            f"{member} already has a place in {group}, which does not allow two hands."
        )
    if position is not None and group.memberships.filter(position=position).exists():
        raise err.JoinRefused(f"Position {position} in {group} is already taken.")


def join_group(
    group: ThriftGroup,
    member: User,
    *,
    by: User,
    route: str,
    position: int | None = None,
) -> Membership:
    """Give `member` a place in `group`, optionally at a chosen position,
    within the rules of `check_join`."""
    with transaction.atomic():
        group = ThriftGroup.objects.select_for_update().get(pk=group.pk)
        _ensure_can_manage(by, group)
        check_join(group, member, position)
        if (member.is_staff or member.is_superuser) and not (
            by.is_superuser or member.pk == by.pk
        ):
            # A place would put the account in the coordinator's reach.
            raise err.JoinRefused(
                f"{member} is a staff account; only the platform owner can give "
                "staff a place."
            )
        place = stamp(
            Membership(group=group, member=member, position=position), by, route
        )
        place.save()

    logger.info(
        "join membership=%s group=%s member=%s by=%s",
        place.pk,
        group.pk,
        member.pk,
        by.pk,
    )
    return place


# --- cycles -------------------------------------------------------------


def _assign_positions(
    places: list[Membership], method: str, seed: int | None
) -> list[Membership]:
    """Fill empty positions 1..N; return the places whose position changed."""
    # Limitation: positions left from the last cycle count as set by hand;
    # after a place leaves, one beyond the new count must be cleared first.
    count = len(places)
    for place in places:
        if place.position is not None and place.position > count:
            raise err.InvalidPositions(
                f"{place.member} is set to position {place.position}, but the "
                f"group has only {count} places. Clear or lower that position."
            )
    taken = {p.position for p in places if p.position is not None}
    free = [n for n in range(1, count + 1) if n not in taken]
    unplaced = sorted(
        (p for p in places if p.position is None), key=lambda p: (p.joined_at, p.pk)
    )
    if method == Cycle.OrderMethod.RANDOM:
        random.Random(seed).shuffle(unplaced)
    for place, position in zip(unplaced, free, strict=True):
        place.position = position
    return unplaced


def start_cycle(
    group: ThriftGroup,
    *,
    by: User,
    route: str,
    start_date: datetime.date | None = None,
    order_method: str = Cycle.OrderMethod.JOIN_ORDER,
    seed: int | None = None,
) -> Cycle:
    """Start the next cycle of `group`: fix the payout order, create its
    rounds and one pending contribution per place per round.

    Positions set by hand are kept; the rest are filled by join order or by
    a random draw whose seed is stored with the cycle. Refused while a cycle
    is open and for a group without active places.
    """
    with transaction.atomic():
        group = ThriftGroup.objects.select_for_update().get(pk=group.pk)
        _ensure_can_manage(by, group)
        if _open_cycle(group):
            raise err.CycleStillOpen(
                f"{group} already has an open cycle; close it before starting the next."
            )
        places = list(
            group.memberships.select_for_update()
            .filter(left_at__isnull=True)
            .order_by("pk")
        )
        if not places:
            raise err.NoPlaces(f"{group} has no active places to start a cycle with.")

        if order_method == Cycle.OrderMethod.RANDOM and seed is None:
            seed = random.SystemRandom().randrange(1, 2**62)
        for place in _assign_positions(places, order_method, seed):
            stamp(place, by, route).save(update_fields=["position"])

        last = group.cycles.aggregate(n=Max("number"))
        anchor, offset = _schedule(group, start_date)
        cycle = stamp(
            Cycle(
                group=group,
                number=(last["n"] or 0) + 1,
                start_date=group.due_date(anchor, offset + 1),
                order_method=order_method,
                draw_seed=seed if order_method == Cycle.OrderMethod.RANDOM else None,
                started_by=by,
            ),
            by,
            route,
        )
        cycle.save()
        _create_rounds(
            cycle, group, places, anchor=anchor, offset=offset, by=by, route=route
        )

        if group.status != GroupStatus.ACTIVE:
            group.status = GroupStatus.ACTIVE
            stamp(group, by, route).save(update_fields=["status"])

    logger.info(
        "start_cycle cycle=%s group=%s places=%s method=%s seed=%s by=%s",
        cycle.pk,
        group.pk,
        len(places),
        order_method,
        seed,
        by.pk,
    )
    return cycle


def _schedule(
    group: ThriftGroup, start_date: datetime.date | None
) -> tuple[datetime.date, int]:
    """Where the new cycle's due dates are counted from: a date and how many
    periods after it the first round falls, less one.

    A chosen date that is the schedule's own next date (the admin offers it
    as the default) keeps the schedule's month-end anchoring; any other
    chosen date starts a schedule of its own.
    """
    anchor, offset = _following(group)
    if start_date is None or start_date == group.due_date(anchor, offset + 1):
        return anchor, offset
    return start_date, 0


def _following(group: ThriftGroup) -> tuple[datetime.date, int]:
    """The anchor and offset of the next cycle when no date is chosen.

    A following cycle carries on one period after the last, counted from
    the date its schedule was anchored on, so a group that began on 31
    January keeps falling due on the last day of the month in every cycle,
    not on the 30th once April has passed, and so does a cycle started on a
    chosen 31 December. The anchors are not stored: replay the cycles, each
    of which either began on its natural date or on a chosen one.
    """
    anchor, offset = group.start_date, 0
    cycles = (
        group.cycles.order_by("number")
        .annotate(n=Count("rounds"), last_due=Max("rounds__due_date"))
        .values_list("start_date", "n", "last_due")
    )
    for start, rounds, last_due in cycles:
        if start != group.due_date(anchor, offset + 1):
            anchor, offset = start, 0
        offset += rounds
        index = group.schedule_index(last_due) if last_due else None
        if index is not None:
            anchor, offset = group.start_date, index
    return anchor, offset


def next_cycle_start(group: ThriftGroup) -> datetime.date:
    """The first due date of the next cycle of `group` when no date is
    chosen: the group's start date, or the next date on its schedule."""
    anchor, offset = _following(group)
    return group.due_date(anchor, offset + 1)


def _create_rounds(
    cycle: Cycle,
    group: ThriftGroup,
    places: list[Membership],
    *,
    anchor: datetime.date,
    offset: int,
    by: User,
    route: str,
) -> None:
    by_position = sorted(places, key=lambda p: p.position)
    rounds = [
        Round(
            group=group,
            cycle=cycle,
            number=place.position,
            due_date=group.due_date(anchor, offset + place.position),
            recipient=place,
        )
        for place in by_position
    ]
    rounds = bulk_create_with_history(
        rounds, Round, default_user=by, default_change_reason=route[:ROUTE_MAX_LENGTH]
    )
    # bulk_create fills primary keys on both databases we run on only for
    # some backends; read them back to be sure.
    rounds = list(cycle.rounds.order_by("number"))
    amount = to_money(group.contribution_amount)
    contributions = [
        Contribution(
            group=group,
            round=r,
            membership=place,
            due_date=r.due_date,
            amount_due=amount,
        )
        for r in rounds
        for place in by_position
    ]
    bulk_create_with_history(
        contributions,
        Contribution,
        batch_size=1000,
        default_user=by,
        default_change_reason=route[:ROUTE_MAX_LENGTH],
    )


def close_cycle(cycle: Cycle, *, by: User, route: str) -> Cycle:
    """Close `cycle` once every round is paid out (or cancelled), and mark
    the group completed until its next cycle starts.

    Refused while rounds are open (the message lists them) and for a cycle
    already closed. Contributions still owed stay owed as arrears.
    """
    with transaction.atomic():
        group_id = Cycle.objects.values_list("group_id", flat=True).get(pk=cycle.pk)
        group = ThriftGroup.objects.select_for_update().get(pk=group_id)
        cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
        cycle.group = group
        _ensure_can_manage(by, group)
        if cycle.status == Cycle.Status.CLOSED:
            raise err.CycleNotOpen(f"{cycle} is already closed.")
        waiting = list(
            cycle.rounds.filter(status=Round.Status.OPEN).values_list(
                "number", flat=True
            )
        )
        if waiting:
            shown = ", ".join(str(n) for n in waiting[:10])
            if len(waiting) > 10:
                shown += f" and {len(waiting) - 10} more"
            raise err.CycleNotFinished(
                f"{cycle} cannot close: round(s) {shown} are not paid out yet."
            )
        cycle.status = Cycle.Status.CLOSED
        cycle.closed_at = timezone.now()
        stamp(cycle, by, route).save(update_fields=["status", "closed_at"])
        group = cycle.group
        group.status = GroupStatus.COMPLETED
        stamp(group, by, route).save(update_fields=["status"])

    logger.info("close_cycle cycle=%s group=%s by=%s", cycle.pk, group.pk, by.pk)
    return cycle


# --- contributions ------------------------------------------------------


@dataclass
class PaymentResult:
    """What `mark_paid` did, counted for the message shown to staff."""

    paid: list[Contribution] = field(default_factory=list)
    part_paid: list[Contribution] = field(default_factory=list)
    already_paid: list[Contribution] = field(default_factory=list)
    # Part payments whose reference was already recorded (a re-imported row).
    repeated: list[Contribution] = field(default_factory=list)
    refused: list[tuple[Contribution, str]] = field(default_factory=list)
    received: Decimal = ZERO

    @property
    def amount(self) -> Decimal:
        """What this call took in, not what the contributions hold in all."""
        return self.received

    def summary(self) -> str:
        parts = [f"{len(self.paid)} marked paid"]
        if self.part_paid:
            parts.append(f"{len(self.part_paid)} part-paid")
        if self.already_paid:
            parts.append(f"{len(self.already_paid)} were already paid")
        if self.repeated:
            parts.append(f"{len(self.repeated)} repeated a recorded payment")
        if self.refused:
            parts.append(f"{len(self.refused)} refused")
        return "; ".join(parts)


def pay_contribution(
    contribution: Contribution,
    *,
    by: User,
    route: str,
    paid_on: datetime.date | None = None,
    method: str = PaymentMethod.CASH,
    reference: str = "",
    amount: Decimal | None = None,
) -> tuple[Contribution, bool]:
    """Record a payment on `contribution`: its balance, or `amount` of it.

    Returns the contribution and whether anything changed. A contribution
    already paid is left alone (idempotent), as is a repeat of the part
    payment with the same reference. Refuses a waived contribution, an
    amount that is not positive, more than the balance, and a payment date
    after today in Africa/Lagos.
    """
    c, received = _pay(
        contribution,
        by=by,
        route=route,
        paid_on=paid_on,
        method=method,
        reference=reference,
        amount=amount,
    )
    return c, received > 0


def _pay(
    contribution: Contribution,
    *,
    by: User,
    route: str,
    paid_on: datetime.date | None,
    method: str,
    reference: str,
    amount: Decimal | None,
) -> tuple[Contribution, Decimal]:
    """`pay_contribution`, returning the amount this call took in."""
    with transaction.atomic():
        c = _lock_contribution(contribution.pk)
        before = Collected.of(c)
        applied = _apply_payment(
            c, by=by, paid_on=paid_on, method=method, reference=reference, amount=amount
        )
        if applied is None:
            return c, ZERO
        stamp(c, by, route).save()
        _add_to_collection_months(before.moved_to(c))

    logger.info(
        "pay_contribution contribution=%s group=%s amount=%s by=%s balance_after=%s",
        c.pk,
        c.group_id,
        applied,
        by.pk,
        c.balance,
    )
    return c, applied


def _lock_contribution(pk: int) -> Contribution:
    """Lock the contribution `pk` alone; its group, round and place are read
    without a lock (see the lock order at the top)."""
    c = Contribution.objects.select_for_update().get(pk=pk)
    related = Contribution.objects.select_related(
        "group", "round", "membership__member"
    ).get(pk=pk)
    c.group, c.round, c.membership = related.group, related.round, related.membership
    return c


@dataclass(frozen=True)
class Collected:
    """What a contribution counts in its group's collection month."""

    group_id: int
    paid_on: datetime.date | None
    amount: Decimal

    @classmethod
    def of(cls, c: Contribution) -> "Collected":
        return cls(c.group_id, c.paid_on, c.amount_paid)

    def moved_to(self, c: Contribution) -> dict[tuple[int, datetime.date], Decimal]:
        """The changes to collection months when this becomes `c`: a later
        payment moves the whole paid amount to the month it was paid in, as
        the contribution keeps one payment date."""
        changes: dict[tuple[int, datetime.date], Decimal] = {}
        after = Collected.of(c)
        for side, sign in ((self, -1), (after, 1)):
            if side.paid_on is not None and side.amount:
                key = (side.group_id, side.paid_on.replace(day=1))
                changes[key] = changes.get(key, ZERO) + sign * side.amount
        return changes


def _add_to_collection_months(changes: dict[tuple[int, datetime.date], Decimal]):
    """Add each change to its (group, month) row, creating it when new, in
    key order (lock order, step 6), in one statement."""
    rows = [(g, m, amount) for (g, m), amount in sorted(changes.items()) if amount]
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(CollectionMonth._meta.db_table)
    amount = quote("amount")
    if connection.vendor == "mysql":
        upsert = f"ON DUPLICATE KEY UPDATE {amount} = {amount} + VALUES({amount})"
    else:
        upsert = (
            f'ON CONFLICT ("group_id", "month") DO UPDATE SET '
            f"{amount} = {table}.{amount} + excluded.{amount}"
        )
    sql = (
        f"INSERT INTO {table} ({quote('group_id')}, {quote('month')}, {amount}) "
        f"VALUES (%s, %s, %s) {upsert}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def rebuild_collection_months(group: ThriftGroup) -> int:
    """Recompute `group`'s collection months from its contributions and
    replace what is kept; return the number of months written.

    For repairs the ledger check asks for (a payment recorded by code that
    did not keep the months). The group's contributions are locked first,
    in pk order, so that no payment can land between the sum and the write
    (lock order steps 4 and 6).
    """
    with transaction.atomic():
        list(
            Contribution.objects.select_for_update()
            .filter(group=group)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        months = Contribution.objects.filter(group=group).paid_by_month()
        CollectionMonth.objects.filter(group=group).delete()
        CollectionMonth.objects.bulk_create(
            CollectionMonth(group=group, month=month, amount=amount)
            for (_, month), amount in sorted(months.items())
        )
    logger.info("rebuild_collection_months group=%s months=%s", group.pk, len(months))
    return len(months)


def _apply_payment(
    c: Contribution,
    *,
    by: User,
    paid_on: datetime.date | None,
    method: str,
    reference: str,
    amount: Decimal | None,
) -> Decimal | None:
    """Apply a payment to the locked contribution `c` in memory; return the
    amount applied, or None when there is nothing to do. The rules of
    `pay_contribution`, shared with `PaymentBatch`."""
    if method not in PaymentMethod.values:
        raise err.InvalidPayment(f"{method!r} is not a payment method.")
    _ensure_can_manage(by, c.group)
    if c.status == Contribution.Status.PAID:
        return None
    if c.status == Contribution.Status.WAIVED:
        raise err.ContributionWaived(f"{c} was waived; there is nothing to pay.")
    if reference and c.reference == reference and c.amount_paid > 0:
        return None

    _refuse_future_date(c, paid_on)
    balance = c.amount_due - c.amount_paid
    amount = balance if amount is None else to_money(amount)
    if amount <= 0:
        raise err.InvalidPayment(f"{c}: the amount paid must be more than zero.")
    if amount > balance:
        raise err.Overpayment(
            f"{c}: {c.group.money(amount)} is more than the "
            f"{c.group.money(balance)} still due."
        )

    c.amount_paid += amount
    if c.amount_paid == c.amount_due:
        c.status = Contribution.Status.PAID
    c.paid_on = paid_on or lagos_today()
    c.method = method
    c.reference = reference
    c.recorded_by = by
    return amount


class PaymentBatch:
    """Many payments in one transaction, for spreadsheet imports.

    `lock` takes row locks on the contributions in pk order, in chunks;
    `pay` applies the same rules as `pay_contribution` to one of them in
    memory (raising the same refusals); `save` writes every changed row and
    its history in bulk. Use all three inside one `transaction.atomic()`.
    """

    LOCK_CHUNK = 1000
    SAVE_FIELDS = [
        "amount_paid",
        "status",
        "paid_on",
        "method",
        "reference",
        "recorded_by",
        "updated_at",
    ]

    def __init__(self, *, by: User, route: str):
        self.by = by
        self.route = route[:ROUTE_MAX_LENGTH]
        self.locked: dict[int, Contribution] = {}
        self.changed: dict[int, Contribution] = {}
        # Each changed contribution as it was before the batch touched it.
        self.before: dict[int, Collected] = {}
        self.amount = ZERO

    def lock(self, pks: Iterable[int]) -> dict[int, Contribution]:
        """Lock and load the contributions `pks`; return them by pk."""
        wanted = sorted(set(pks) - self.locked.keys())
        groups: dict[int, ThriftGroup] = {}
        for start in range(0, len(wanted), self.LOCK_CHUNK):
            chunk = wanted[start : start + self.LOCK_CHUNK]
            for c in (
                Contribution.objects.select_for_update()
                .filter(pk__in=chunk)
                .order_by("pk")
            ):
                self.locked[c.pk] = c
                groups.setdefault(c.group_id, None)
        # One instance per group, shared: the rules read the group's
        # coordinator and currency for every payment.
        for group in ThriftGroup.objects.filter(pk__in=groups):
            groups[group.pk] = group
        for c in self.locked.values():
            if c.group_id in groups:
                c.group = groups[c.group_id]
        return self.locked

    def pay(
        self,
        c: Contribution,
        *,
        paid_on: datetime.date | None = None,
        method: str = PaymentMethod.CASH,
        reference: str = "",
        amount: Decimal | None = None,
    ) -> bool:
        """Pay the locked `c` as `pay_contribution` would; True if it changed."""
        if self.locked.get(c.pk) is not c:
            raise ValueError("PaymentBatch.pay needs a contribution from lock().")
        before = self.before.get(c.pk) or Collected.of(c)
        applied = _apply_payment(
            c,
            by=self.by,
            paid_on=paid_on,
            method=method,
            reference=reference,
            amount=amount,
        )
        if applied is None:
            return False
        self.before.setdefault(c.pk, before)
        self.changed[c.pk] = c
        self.amount += applied
        return True

    def save(self) -> int:
        """Write the changed contributions with one history row each."""
        changed = [self.changed[pk] for pk in sorted(self.changed)]
        now = timezone.now()
        for c in changed:
            c.updated_at = now
        for start in range(0, len(changed), self.LOCK_CHUNK):
            _write_locked(changed[start : start + self.LOCK_CHUNK], self.SAVE_FIELDS)
        Contribution.history.bulk_history_create(
            changed,
            batch_size=self.LOCK_CHUNK,
            update=True,
            default_user=self.by,
            default_change_reason=self.route,
        )
        months: dict[tuple[int, datetime.date], Decimal] = {}
        for c in changed:
            for key, amount in self.before[c.pk].moved_to(c).items():
                months[key] = months.get(key, ZERO) + amount
        _add_to_collection_months(months)
        logger.info(
            "pay_contributions count=%s amount=%s by=%s route=%s",
            len(changed),
            self.amount,
            self.by.pk,
            self.route,
        )
        self.changed.clear()
        self.before.clear()
        self.amount = ZERO
        return len(changed)


def _write_locked(rows: list[Contribution], changed: list[str]) -> None:
    """Write `changed` fields of contributions we hold row locks on, in one
    statement: an insert that meets each existing row and updates it.

    Django's bulk_update builds a CASE per field per row, and even its
    bulk_create upsert spends most of a large import preparing values one
    by one; this passes them to the driver as they are. Every column is
    listed because the insert half must be complete even though it never
    inserts: the rows exist and are locked.
    """
    meta = Contribution._meta
    columns = [f for f in meta.concrete_fields]
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in columns)
    marks = ", ".join(["%s"] * len(columns))
    updates = [quote(meta.get_field(name).column) for name in changed]
    if connection.vendor == "mysql":
        upsert = "ON DUPLICATE KEY UPDATE " + ", ".join(
            f"{c} = VALUES({c})" for c in updates
        )
    else:
        upsert = f"ON CONFLICT ({quote(meta.pk.column)}) DO UPDATE SET " + ", ".join(
            f"{c} = excluded.{c}" for c in updates
        )
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({marks}) {upsert}"
    params = [
        [f.get_db_prep_save(getattr(c, f.attname), connection) for f in columns]
        for c in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def mark_paid(
    contributions: Iterable[Contribution],
    *,
    by: User,
    route: str,
    paid_on: datetime.date | None = None,
    method: str = PaymentMethod.CASH,
    reference: str = "",
    amount: Decimal | None = None,
) -> PaymentResult:
    """Pay each of `contributions` (see `pay_contribution`), counting each
    outcome. A refusal of one leaves the others to go through."""
    result = PaymentResult()
    for c in sorted(contributions, key=lambda c: c.pk):
        try:
            c, received = _pay(
                c,
                by=by,
                route=route,
                paid_on=paid_on,
                method=method,
                reference=reference,
                amount=amount,
            )
        except err.ThriftError as refusal:
            logger.warning("mark_paid refused contribution=%s reason=%s", c.pk, refusal)
            result.refused.append((c, str(refusal)))
            continue
        result.received += received
        if not received and c.status == Contribution.Status.PAID:
            result.already_paid.append(c)
        elif not received:
            result.repeated.append(c)
        elif c.status == Contribution.Status.PAID:
            result.paid.append(c)
        else:
            result.part_paid.append(c)
    return result


def _refuse_future_date(record, paid_on: datetime.date | None) -> None:
    if paid_on is not None and paid_on > lagos_today():
        raise err.InvalidPayment(
            f"{record}: the date paid, {paid_on:%d %b %Y}, is after today."
        )


# --- payouts ------------------------------------------------------------


@dataclass
class PayoutQuote:
    """What a payout of `round` would be, for the confirmation page."""

    round: Round
    recipient: Membership
    pot: Decimal
    fee: Decimal
    amount: Decimal
    outstanding_count: int
    outstanding_amount: Decimal

    @property
    def needs_override(self) -> bool:
        return self.outstanding_count > 0


def quote_payout(round: Round) -> PayoutQuote:
    """Work out recipient, pot, fee and net amount of `round`'s payout.

    The pot is what the round's active places owe (waived shares are not
    in it), whether or not it has all been paid in.
    """
    group = round.group
    totals = round.contributions.exclude(status=Contribution.Status.WAIVED).aggregate(
        pot=Coalesce(Sum("amount_due"), ZERO),
        owed=Coalesce(
            Sum("amount_due", filter=Q(status=Contribution.Status.PENDING)), ZERO
        ),
        owed_paid=Coalesce(
            Sum("amount_paid", filter=Q(status=Contribution.Status.PENDING)), ZERO
        ),
    )
    outstanding = round.contributions.filter(status=Contribution.Status.PENDING).count()
    pot = to_money(totals["pot"])
    fee = group.service_fee(pot)
    return PayoutQuote(
        round=round,
        recipient=round.recipient,
        pot=pot,
        fee=fee,
        amount=pot - fee,
        outstanding_count=outstanding,
        outstanding_amount=to_money(totals["owed"] - totals["owed_paid"]),
    )


def record_payout(
    round: Round,
    *,
    by: User,
    route: str,
    paid_on: datetime.date | None = None,
    reference: str = "",
    override_reason: str = "",
) -> Payout:
    """Pay the pot of `round`, less the service fee, to its recipient.

    Refused when the round already has a payout or was cancelled, when the
    recipient has already collected in this cycle, and when contributions
    are still outstanding unless `override_reason` says why (it is kept with
    the payout), and when `paid_on` is after today in Africa/Lagos. Two staff recording the same payout at once get one payout;
    the second is refused with PayoutExists.
    """
    override_reason = (override_reason or "").strip()
    try:
        with transaction.atomic():
            payout = _record_payout(
                round,
                by=by,
                route=route,
                paid_on=paid_on,
                reference=reference,
                override_reason=override_reason,
            )
    except IntegrityError:
        # The unique round or (cycle, place) index caught a payout that a
        # concurrent request committed first.
        raise err.PayoutExists(f"{round} has already been paid out.") from None

    logger.info(
        "record_payout payout=%s round=%s membership=%s amount=%s fee=%s by=%s "
        "override=%s",
        payout.pk,
        payout.round_id,
        payout.membership_id,
        payout.amount,
        payout.fee,
        by.pk,
        bool(override_reason),
    )
    return payout


def _record_payout(
    round: Round,
    *,
    by: User,
    route: str,
    paid_on: datetime.date | None,
    reference: str,
    override_reason: str,
) -> Payout:
    r = _lock_round(round.pk)
    _ensure_can_manage(by, r.group)
    if Payout.objects.filter(round=r).exists() or r.status == Round.Status.PAID_OUT:
        raise err.PayoutExists(f"{r} has already been paid out.")
    if r.status == Round.Status.CANCELLED:
        raise err.RoundCancelled(f"{r} was cancelled when its recipient left.")
    if r.cycle.status != Cycle.Status.OPEN:
        raise err.CycleNotOpen(f"{r.cycle} is closed.")
    if Payout.objects.filter(cycle=r.cycle, membership=r.recipient).exists():
        raise err.AlreadyCollected(
            f"{r.recipient.member} has already collected in {r.cycle}."
        )

    # A place leaving at the same moment waives shares of this round; lock
    # them (after the round, as `leave_group` does) so the pot is quoted on
    # what is committed.
    list(r.contributions.select_for_update().order_by("pk").values_list("pk"))
    _refuse_future_date(r, paid_on)
    quote = quote_payout(r)
    if quote.needs_override and not override_reason:
        raise err.OutstandingContributions(
            f"{r}: {quote.outstanding_count} contribution(s) totalling "
            f"{r.group.money(quote.outstanding_amount)} are outstanding. Give an "
            "override reason to pay out anyway."
        )
    if quote.amount <= 0:
        raise err.InvalidPayment(
            f"{r}: the service fee {r.group.money(quote.fee)} leaves nothing to pay out."
        )

    payout = stamp(
        Payout(
            group=r.group,
            cycle=r.cycle,
            round=r,
            membership=r.recipient,
            pot=quote.pot,
            fee=quote.fee,
            amount=quote.amount,
            paid_on=paid_on or lagos_today(),
            reference=reference,
            override_reason=override_reason,
            recorded_by=by,
        ),
        by,
        route,
    )
    payout.save()
    r.status = Round.Status.PAID_OUT
    stamp(r, by, route).save(update_fields=["status"])
    return payout


def _lock_round(pk: int) -> Round:
    """Lock the round `pk` alone; its group, cycle and recipient are read
    without a lock (see the lock order at the top)."""
    r = Round.objects.select_for_update().get(pk=pk)
    related = Round.objects.select_related("group", "cycle", "recipient__member").get(
        pk=pk
    )
    r.group, r.cycle, r.recipient = related.group, related.cycle, related.recipient
    return r


# --- the order of payouts -----------------------------------------------


def swap_positions(
    first: Membership, second: Membership, *, reason: str, by: User, route: str
) -> PositionSwap:
    """Swap the payout positions of two places of the same open cycle.

    Refused when either has collected, when the places are in different
    groups or the same place, when either has left, and without a reason.
    """
    reason = (reason or "").strip()
    if not reason:
        raise err.SwapRefused("Say why the payout order changes.")
    if first.pk == second.pk:
        raise err.SwapRefused("Choose two different places to swap.")
    with transaction.atomic():
        a, b = (
            Membership.objects.select_related("group", "member")
            .filter(pk__in=[first.pk, second.pk])
            .order_by("pk")
        )
        if a.group_id != b.group_id:
            raise err.SwapRefused(f"{a.member} and {b.member} are in different groups.")
        _ensure_can_manage(by, a.group)
        for place in (a, b):
            if not place.is_active:
                raise err.SwapRefused(f"{place.member} has left {place.group}.")
        cycle = _open_cycle(a.group)
        if cycle is None:
            raise err.SwapRefused(
                f"{a.group} has no open cycle; set positions directly on the places."
            )
        # Rounds before places (the lock order at the top); a swap that
        # moved either place meanwhile is seen once the rounds are locked.
        round_pks = Round.objects.filter(cycle=cycle, recipient__in=[a, b]).values_list(
            "pk", flat=True
        )
        rounds = {
            r.recipient_id: r
            for r in Round.objects.select_for_update()
            .filter(pk__in=list(round_pks))
            .order_by("pk")
        }
        if set(rounds) - {a.pk, b.pk}:
            raise err.SwapRefused(
                f"The payout order of {cycle} changed meanwhile; try again."
            )
        a, b = _lock_places([a, b])
        for place in (a, b):
            if not place.is_active:
                raise err.SwapRefused(f"{place.member} has left {place.group}.")
        for place in (a, b):
            r = rounds.get(place.pk)
            if r is None or r.status != Round.Status.OPEN:
                raise err.SwapRefused(
                    f"{place.member} has already collected in {cycle} (round "
                    f"{r.number if r else '?'}); positions of collected places "
                    "are fixed."
                )

        swap = stamp(
            PositionSwap(
                cycle=cycle,
                first=a,
                second=b,
                first_position=a.position,
                second_position=b.position,
                reason=reason,
                swapped_by=by,
            ),
            by,
            route,
        )
        swap.save()
        _exchange(a, b, rounds[a.pk], rounds[b.pk], by=by, route=route)

    logger.info(
        "swap_positions swap=%s cycle=%s first=%s second=%s by=%s",
        swap.pk,
        cycle.pk,
        a.pk,
        b.pk,
        by.pk,
    )
    return swap


def _exchange(
    a: Membership,
    b: Membership,
    round_a: Round,
    round_b: Round,
    *,
    by: User,
    route: str,
) -> None:
    # Unique indexes on (group, position) and (cycle, recipient) cannot be
    # deferred on MySQL, so each swap passes through an empty value.
    a_position, b_position = a.position, b.position
    a.position = None
    stamp(a, by, route).save(update_fields=["position"])
    b.position = a_position
    stamp(b, by, route).save(update_fields=["position"])
    a.position = b_position
    stamp(a, by, route).save(update_fields=["position"])

    round_a.recipient = None
    stamp(round_a, by, route).save(update_fields=["recipient"])
    round_b.recipient = a
    stamp(round_b, by, route).save(update_fields=["recipient"])
    round_a.recipient = b
    stamp(round_a, by, route).save(update_fields=["recipient"])


def _lock_places(places: list[Membership]) -> list[Membership]:
    """Lock `places` alone, in pk order, and return them fresh in that order
    with the group and member of the given instances."""
    by_pk = {p.pk: p for p in places}
    locked = list(
        Membership.objects.select_for_update().filter(pk__in=list(by_pk)).order_by("pk")
    )
    for place in locked:
        place.group, place.member = by_pk[place.pk].group, by_pk[place.pk].member
    return locked


# --- leaving ------------------------------------------------------------


@dataclass
class LeaveResult:
    membership: Membership
    changed: bool
    waived: int = 0
    cancelled_round: Round | None = None


def leave_group(
    membership: Membership,
    *,
    by: User,
    route: str,
    today: datetime.date | None = None,
) -> LeaveResult:
    """End `membership`; its money records stay.

    Contributions not yet due are waived, unless the member has already
    collected in the open cycle: then every remaining round is still owed
    and becomes arrears as it falls due. A member who leaves before
    collecting gives up their round, which is cancelled with its unpaid
    shares; refused if money has already been paid into that round.
    """
    today = today or lagos_today()
    with transaction.atomic():
        place = Membership.objects.select_related("group", "member").get(
            pk=membership.pk
        )
        _ensure_can_manage(by, place.group)
        cycle = _open_cycle(place.group)
        result = LeaveResult(place, changed=True)
        if cycle is None:
            (place,) = _lock_places([place])
        else:
            # The place's round, then contributions, then the place: the
            # order `record_payout` locks in, so a payout of this round and
            # the leave take turns and `collected` and the money paid in are
            # read after the payout has committed, never before.
            r = _lock_round_of(place, cycle)
            # Found without a lock and locked by pk: a join or subquery in
            # a locking read would lock the rounds it reads too.
            shares = Q(membership=place, round__cycle=cycle)
            if r is not None:
                shares |= Q(round=r)
            pks = list(Contribution.objects.filter(shares).values_list("pk", flat=True))
            locked = list(
                Contribution.objects.select_for_update()
                .filter(pk__in=pks)
                .order_by("pk")
            )
            (place,) = _lock_places([place])
            if place.is_active:
                _leave_cycle(place, cycle, r, locked, today, result, by, route)

        if not place.is_active:
            return LeaveResult(place, changed=False)
        place.left_at = timezone.now()
        place.position = None
        stamp(place, by, route).save(update_fields=["left_at", "position"])

    logger.info(
        "leave_group membership=%s group=%s waived=%s cancelled_round=%s by=%s",
        place.pk,
        place.group_id,
        result.waived,
        result.cancelled_round.pk if result.cancelled_round else None,
        by.pk,
    )
    return result


def _lock_round_of(place: Membership, cycle: Cycle) -> Round | None:
    """Lock the round of `cycle` that pays `place`, or None if it has none.

    A swap may move the place between the look-up and the lock; look again
    until the locked round still pays it (a swap is refused for a place that
    has collected, so this settles at once in practice)."""
    while True:
        pk = (
            Round.objects.filter(cycle=cycle, recipient=place)
            .values_list("pk", flat=True)
            .first()
        )
        if pk is None:
            return None
        r = Round.objects.select_for_update().get(pk=pk)
        if r.recipient_id == place.pk:
            return r


def _leave_cycle(
    place: Membership,
    cycle: Cycle,
    r: Round | None,
    locked: list[Contribution],
    today: datetime.date,
    result: LeaveResult,
    by: User,
    route: str,
) -> None:
    """Waive and cancel what `place` leaves behind in `cycle`; `r` (its
    round) and the contributions `locked` are held under lock."""
    collected = r is not None and r.status == Round.Status.PAID_OUT
    collected = collected or (
        Payout.objects.filter(cycle=cycle, membership=place).exists()
    )
    if collected:
        return
    if r is not None and r.status == Round.Status.OPEN:
        paid_in = sum((c.amount_paid for c in locked if c.round_id == r.pk), ZERO)
        if paid_in > 0:
            raise err.LeaveRefused(
                f"{place.member} cannot leave yet: round {r.number} already holds "
                f"{place.group.money(paid_in)} paid in for their payout. Pay it "
                "out, or correct those payments first."
            )
        r.status = Round.Status.CANCELLED
        stamp(r, by, route).save(update_fields=["status"])
        result.cancelled_round = r
    for c in locked:
        if c.status != Contribution.Status.PENDING:
            continue
        own_future = (
            c.membership_id == place.pk and c.amount_paid == 0 and c.due_date > today
        )
        in_cancelled = result.cancelled_round is not None and c.round_id == r.pk
        if own_future or in_cancelled:
            c.status = Contribution.Status.WAIVED
            stamp(c, by, route).save(update_fields=["status", "updated_at"])
            result.waived += 1
