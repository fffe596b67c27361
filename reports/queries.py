"""Read-only aggregate queries behind the dashboard and the reports.

One function per report. Each takes the staff user whose groups it may
count (`thrift.scoping.scope_to_user`), sums in the database and writes
nothing. Date ranges are `start` included, `end` excluded; a money record's
day (`paid_on`, `due_date`) is a date in Africa/Lagos, so ranges are dates.
Every function runs a fixed number of queries whatever the number of rows.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Min,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDay, TruncMonth, TruncWeek

from accounts.models import User
from accounts.roles import sees_everything
from accounts.validators import normalize_phone
from thrift.models import (
    CollectionMonth,
    Contribution,
    Cycle,
    GroupStatus,
    Membership,
    Payout,
    PositionSwap,
    Round,
    ThriftGroup,
    add_months,
)
from thrift.models import overdue_condition as overdue
from thrift.money import to_money
from thrift.scoping import scope_to_user

ZERO = Decimal("0")
MONEY_FIELD = DecimalField(max_digits=12, decimal_places=2)

# What is still owed on a contribution; only meaningful for pending ones.
OWED = ExpressionWrapper(F("amount_due") - F("amount_paid"), output_field=MONEY_FIELD)


def total(expression, **extra) -> Coalesce:
    """Sum `expression` in the database; an empty set sums to zero."""
    return Coalesce(Sum(expression, **extra), ZERO, output_field=MONEY_FIELD)


def scoped_groups(user: User) -> QuerySet:
    return scope_to_user(ThriftGroup.objects.all(), user, "")


def scoped_contributions(user: User) -> QuerySet:
    return scope_to_user(Contribution.objects.all(), user)


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


# --- dashboard ----------------------------------------------------------


@dataclass
class DashboardFigures:
    today: datetime.date
    this_month: datetime.date
    last_month: datetime.date
    next_month: datetime.date
    active_groups: int
    members: int
    places: int
    collected_this_month: Decimal
    collected_last_month: Decimal
    arrears: Decimal
    overdue_count: int


def overdue_by_group(user: User, today: datetime.date) -> dict[int, tuple]:
    """What each of `user`'s groups owes on overdue contributions, as
    group id -> (amount, count), in one query that reads the
    `contribution_overdue_sums` index alone. The dashboard's arrears figure
    and its arrears by group share it."""
    rows = (
        scoped_contributions(user)
        .arrears_by_group(today)
        .values_list("group", "arrears", "overdue_count")
    )
    return {group_id: (amount, count) for group_id, amount, count in rows}


def dashboard_figures(
    user: User, today: datetime.date, overdue_sums: dict | None = None
) -> DashboardFigures:
    """The headline figures: four queries (three when `overdue_sums` from
    `overdue_by_group` is given), none of which reads the contributions
    themselves: collections come from `CollectionMonth`, the overdue sums
    from the `contribution_overdue_sums` index alone."""
    this_month = month_start(today)
    last_month = add_months(this_month, -1)
    next_month = add_months(this_month, 1)

    groups = scoped_groups(user).aggregate(
        active=Count("pk", filter=Q(status=GroupStatus.ACTIVE))
    )
    places = scope_to_user(
        Membership.objects.filter(left_at__isnull=True), user
    ).aggregate(places=Count("pk"), members=Count("member", distinct=True))
    collected = dict(
        scope_to_user(CollectionMonth.objects.all(), user)
        .filter(month__in=[last_month, this_month])
        .values("month")
        .annotate(amount=total("amount"))
        .values_list("month", "amount")
    )
    if overdue_sums is None:
        overdue_sums = overdue_by_group(user, today)
    return DashboardFigures(
        today=today,
        this_month=this_month,
        last_month=last_month,
        next_month=next_month,
        active_groups=groups["active"],
        members=places["members"],
        places=places["places"],
        collected_this_month=to_money(collected.get(this_month, ZERO)),
        collected_last_month=to_money(collected.get(last_month, ZERO)),
        arrears=to_money(sum((a for a, _ in overdue_sums.values()), ZERO)),
        overdue_count=sum(n for _, n in overdue_sums.values()),
    )


@dataclass
class DuePayout:
    round: Round
    pot: Decimal
    fee: Decimal
    amount: Decimal
    is_late: bool

    @property
    def group(self) -> ThriftGroup:
        return self.round.group


def payouts_due(
    user: User, today: datetime.date, days: int = 7, limit: int = 50
) -> list[DuePayout]:
    """Open rounds due by `today` + `days`, with recipient and net amount.

    Rounds whose date has passed without a payout come first, marked late.
    The pot is what `thrift.services.quote_payout` counts (every share not
    waived), summed here for all rounds in one query; the fee is the
    group's rule applied to it.
    """
    # Keys first, then the rows: in one query the database joins every open
    # round's recipient before it sorts and keeps the first `limit`.
    keys = list(
        scope_to_user(Round.objects.all(), user)
        .filter(
            status=Round.Status.OPEN,
            cycle__status=Cycle.Status.OPEN,
            due_date__lte=today + datetime.timedelta(days=days),
        )
        .order_by("due_date", "group__name", "number")
        .values_list("pk", flat=True)[:limit]
    )
    found = Round.objects.select_related("group", "cycle", "recipient__member")
    by_pk = found.in_bulk(keys)
    rounds = [by_pk[pk] for pk in keys]
    # The pots in a second query, for these rounds only: summed in the same
    # query as the rounds, the database totals every open round's
    # contributions before it keeps the first `limit`.
    pots = dict(
        Contribution.objects.filter(round__in=[r.pk for r in rounds])
        .exclude(status=Contribution.Status.WAIVED)
        .values("round")
        .annotate(pot=total("amount_due"))
        .values_list("round", "pot")
    )
    due = []
    for r in rounds:
        pot = to_money(pots.get(r.pk, ZERO))
        fee = r.group.service_fee(pot)
        due.append(DuePayout(r, pot, fee, pot - fee, r.due_date < today))
    return due


@dataclass
class MonthTotal:
    month: datetime.date
    amount: Decimal


def collections_by_month(
    user: User, today: datetime.date, months: int = 12
) -> list[MonthTotal]:
    """What was paid in each of the last `months` months, this one included."""
    first = add_months(month_start(today), -(months - 1))
    end = add_months(month_start(today), 1)
    rows = (
        scope_to_user(CollectionMonth.objects.all(), user)
        .filter(month__gte=first, month__lt=end)
        .values("month")
        .annotate(amount=total("amount"))
        .values_list("month", "amount")
    )
    found = {as_date(month): amount for month, amount in rows}
    return [
        MonthTotal(
            add_months(first, i), to_money(found.get(add_months(first, i), ZERO))
        )
        for i in range(months)
    ]


@dataclass
class GroupArrears:
    group_id: int
    name: str
    currency: str
    amount: Decimal
    count: int


def arrears_by_group(
    user: User,
    today: datetime.date,
    limit: int = 10,
    overdue_sums: dict | None = None,
) -> list[GroupArrears]:
    """The groups owing most on overdue contributions, largest first, equal
    amounts by group name (`overdue_sums` from `overdue_by_group`, read
    here when not given). Names are read for the groups kept and those tied
    with the last of them: two queries at most.
    """
    if overdue_sums is None:
        overdue_sums = overdue_by_group(user, today)
    owing = {g: v for g, v in overdue_sums.items() if v[0] > 0}
    amounts = sorted((amount for amount, _ in owing.values()), reverse=True)
    if not amounts:
        return []
    cutoff = amounts[min(limit, len(amounts)) - 1]
    kept = [g for g, (amount, _) in owing.items() if amount >= cutoff]
    groups = ThriftGroup.objects.only("name", "currency").in_bulk(kept)
    found = [
        GroupArrears(
            g,
            groups[g].name,
            groups[g].currency,
            to_money(owing[g][0]),
            owing[g][1],
        )
        for g in kept
    ]
    return sorted(found, key=lambda row: (-row.amount, row.name))[:limit]


HISTORY_MODELS = (
    # (model, lookup from the historical row to its group's id, what to
    # join to name the record)
    (ThriftGroup, "id", ()),
    (Membership, "group_id", ("group", "member")),
    (Cycle, "group_id", ("group",)),
    (Round, "group_id", ("group",)),
    (Contribution, "group_id", ("group", "membership__member", "round")),
    (Payout, "group_id", ("group", "membership__member", "round")),
    (PositionSwap, "cycle__group_id", ("cycle__group",)),
)


@dataclass
class Change:
    model: type
    row: object

    @property
    def when(self) -> datetime.datetime:
        return self.row.history_date

    @property
    def kind(self) -> str:
        return {"+": "created", "~": "changed", "-": "deleted"}[self.row.history_type]


def latest_changes(user: User, limit: int = 10) -> list[Change]:
    """The newest history rows of the thrift records, one query per model
    (two for a coordinator).

    Each query is cut at `limit` on the indexed history date, so the cost
    stays flat however long the history grows.
    """
    group_ids = scoped_groups(user).values("pk")
    changes = []
    for model, group_lookup, related in HISTORY_MODELS:
        rows = model.history.select_related("history_user", *related).order_by(
            "-history_date", "-history_id"
        )
        if not sees_everything(user):
            # Keys first: joined, the database would name the records of
            # every history row of the user's groups before keeping ten.
            keys = list(
                model.history.filter(**{f"{group_lookup}__in": group_ids})
                .order_by("-history_date", "-history_id")
                .values_list("history_id", flat=True)[:limit]
            )
            rows = rows.filter(history_id__in=keys)
        changes.extend(Change(model, row) for row in rows[:limit])
    changes.sort(key=lambda c: c.when, reverse=True)
    return changes[:limit]


def as_date(value) -> datetime.date:
    """A truncated period as a date, whichever type the backend returns."""
    if isinstance(value, datetime.datetime):
        return value.date()
    return value


# --- ledger card ----------------------------------------------------------


class CellState:
    PAID = "paid"
    PART_PAID = "part-paid"
    PENDING = "pending"
    OVERDUE = "overdue"
    WAIVED = "waived"


def cell_state(c: Contribution, today: datetime.date) -> str:
    if c.status == Contribution.Status.PAID:
        return CellState.PAID
    if c.status == Contribution.Status.WAIVED:
        return CellState.WAIVED
    if c.due_date < today:
        return CellState.OVERDUE
    if c.amount_paid > 0:
        return CellState.PART_PAID
    return CellState.PENDING


@dataclass
class LedgerCell:
    contribution: Contribution
    state: str

    @property
    def owed(self) -> Decimal:
        return self.contribution.balance


@dataclass
class LedgerRow:
    membership: Membership
    position: int | None
    cells: list[LedgerCell | None]
    paid: Decimal
    arrears: Decimal

    @property
    def has_left(self) -> bool:
        return self.membership.left_at is not None


@dataclass
class LedgerColumn:
    round: Round
    due: Decimal
    paid: Decimal
    payout: Payout | None


@dataclass
class LedgerCard:
    group: ThriftGroup
    cycle: Cycle
    today: datetime.date
    columns: list[LedgerColumn]
    rows: list[LedgerRow]
    due: Decimal
    paid: Decimal
    arrears: Decimal
    paid_out: Decimal
    fees: Decimal


def ledger_card(cycle: Cycle, today: datetime.date) -> LedgerCard:
    """The paper card of one cycle: places by rounds, with totals.

    Rows are the places in payout order (a place that left keeps its row
    and its money); columns are the rounds. Totals per row and per column
    are summed in the database. Six queries.
    """
    group = cycle.group
    rounds = list(
        cycle.rounds.select_related("recipient__member", "payout__membership__member")
        .annotate(
            due=total(
                "contributions__amount_due",
                filter=~Q(contributions__status=Contribution.Status.WAIVED),
            ),
            paid=total("contributions__amount_paid"),
        )
        .order_by("number")
    )
    contributions = list(
        Contribution.objects.filter(round__cycle=cycle).select_related(
            "membership__member"
        )
    )
    row_totals = {
        row["membership_id"]: row
        for row in Contribution.objects.filter(round__cycle=cycle)
        .values("membership_id")
        .annotate(paid=total("amount_paid"), arrears=total(OWED, filter=overdue(today)))
    }
    card = Contribution.objects.filter(round__cycle=cycle).aggregate(
        due=total("amount_due", filter=~Q(status=Contribution.Status.WAIVED)),
        paid=total("amount_paid"),
        arrears=total(OWED, filter=overdue(today)),
    )
    payouts = Payout.objects.filter(cycle=cycle).aggregate(
        amount=total("amount"), fees=total("fee")
    )

    columns = [
        LedgerColumn(
            round=r,
            due=to_money(r.due),
            paid=to_money(r.paid),
            payout=getattr(r, "payout", None),
        )
        for r in rounds
    ]
    index = {r.pk: i for i, r in enumerate(rounds)}
    position_of = {r.recipient_id: r.number for r in rounds}
    grid: dict[int, list[LedgerCell | None]] = defaultdict(lambda: [None] * len(rounds))
    places: dict[int, Membership] = {}
    for c in contributions:
        places[c.membership_id] = c.membership
        grid[c.membership_id][index[c.round_id]] = LedgerCell(c, cell_state(c, today))

    rows = [
        LedgerRow(
            membership=place,
            position=position_of.get(pk),
            cells=grid[pk],
            paid=to_money(row_totals[pk]["paid"]),
            arrears=to_money(row_totals[pk]["arrears"]),
        )
        for pk, place in places.items()
    ]
    rows.sort(key=lambda row: (row.position or 0, row.membership.pk))
    return LedgerCard(
        group=group,
        cycle=cycle,
        today=today,
        columns=columns,
        rows=rows,
        due=to_money(card["due"]),
        paid=to_money(card["paid"]),
        arrears=to_money(card["arrears"]),
        paid_out=to_money(payouts["amount"]),
        fees=to_money(payouts["fees"]),
    )


# --- member statement -----------------------------------------------------


@dataclass
class Statement:
    member: User
    start: datetime.date
    end: datetime.date
    today: datetime.date
    contributions: list[Contribution]
    payouts: list[Payout]
    due: Decimal
    paid_in: Decimal
    received: Decimal
    arrears: Decimal
    arrears_all_time: Decimal
    not_yet_due: Decimal
    places: list[Membership]

    @property
    def net(self) -> Decimal:
        """Received less paid in: above zero, the member is ahead of the
        group and still owes the rounds to come."""
        return self.received - self.paid_in

    @property
    def last_day(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)


def member_statement(
    user: User,
    member: User,
    start: datetime.date,
    end: datetime.date,
    today: datetime.date,
) -> Statement:
    """One member's contributions falling due and payouts made in
    [`start`, `end`), across every group `user` may see, with their places.

    Arrears and what is not yet due are as of `today`, over the whole
    record: a member who has collected and left still owes the rest of the
    cycle. Five queries.
    """
    mine = scoped_contributions(user).filter(membership__member=member)
    in_range = Q(due_date__gte=start, due_date__lt=end)
    contributions = list(
        mine.filter(in_range)
        .select_related("group", "round__cycle")
        .order_by("due_date", "group__name", "pk")
    )
    payouts = list(
        scope_to_user(Payout.objects.all(), user)
        .filter(membership__member=member, paid_on__gte=start, paid_on__lt=end)
        .select_related("group", "round__cycle")
        .order_by("paid_on", "pk")
    )
    sums = mine.aggregate(
        due=total(
            "amount_due", filter=in_range & ~Q(status=Contribution.Status.WAIVED)
        ),
        paid=total("amount_paid", filter=in_range),
        arrears=total(OWED, filter=in_range & overdue(today)),
        arrears_all_time=total(OWED, filter=overdue(today)),
        not_yet_due=total(
            OWED, filter=Q(status=Contribution.Status.PENDING, due_date__gte=today)
        ),
    )
    places = list(
        scope_to_user(Membership.objects.all(), user)
        .filter(member=member)
        .select_related("group")
        .order_by("group__name", "joined_at")
    )
    received = (
        scope_to_user(Payout.objects.all(), user)
        .filter(membership__member=member, paid_on__gte=start, paid_on__lt=end)
        .aggregate(amount=total("amount"))["amount"]
    )
    return Statement(
        member=member,
        start=start,
        end=end,
        today=today,
        contributions=contributions,
        payouts=payouts,
        due=to_money(sums["due"]),
        paid_in=to_money(sums["paid"]),
        received=to_money(received),
        arrears=to_money(sums["arrears"]),
        arrears_all_time=to_money(sums["arrears_all_time"]),
        not_yet_due=to_money(sums["not_yet_due"]),
        places=places,
    )


def statement_members(user: User, search: str, limit: int = 50) -> list[User]:
    """Members with a place in `user`'s groups whose name or phone matches."""
    places = scope_to_user(Membership.objects.all(), user)
    members = User.objects.filter(pk__in=places.values("member_id"))
    try:
        # A whole phone number in any written form finds its member.
        return list(members.filter(phone=normalize_phone(search))[:limit])
    except ValidationError:
        pass
    for word in search.split():
        members = members.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(phone__icontains=word)
            | Q(username__icontains=word)
        )
    return list(members.order_by("first_name", "last_name", "pk")[:limit])


# --- arrears --------------------------------------------------------------


ARREARS_ORDER = {
    "amount": ("amount", "group__name", "membership_id"),
    "days": ("-oldest_due", "group__name", "membership_id"),
    "member": (
        "membership__member__first_name",
        "membership__member__last_name",
        "membership_id",
    ),
    "group": ("group__name", "membership__position", "membership_id"),
    "count": ("count", "group__name", "membership_id"),
}


def _ordering(order: str, choices: dict) -> list[str]:
    key = order.lstrip("-")
    if key not in choices:
        key, order = next(iter(choices)), "-" + next(iter(choices))
    fields = list(choices[key])
    if order.startswith("-"):
        first = fields[0]
        fields[0] = first[1:] if first.startswith("-") else "-" + first
    return fields


@dataclass
class ArrearsReport:
    today: datetime.date
    rows: QuerySet
    amount: Decimal
    count: int
    places: int


def arrears_report(
    user: User,
    today: datetime.date,
    *,
    within: QuerySet | None = None,
    order: str = "-amount",
) -> ArrearsReport:
    """Overdue contributions summed per place (group and member).

    `within` narrows the contributions first (a filter form's queryset);
    it is scoped to `user` all the same. Each row holds the number of
    overdue rounds, the amount still owed and the oldest due date (days
    overdue = today less that date). `rows` is a lazy queryset so that a
    page of it is one query; the totals are one more.
    """
    base = Contribution.objects.all() if within is None else within
    contributions = scope_to_user(base, user).filter(overdue(today))
    rows = (
        contributions.values(
            "group_id",
            "group__name",
            "group__currency",
            "group__coordinator__first_name",
            "group__coordinator__last_name",
            "group__coordinator__username",
            "membership_id",
            "membership__position",
            "membership__left_at",
            "membership__member_id",
            "membership__member__first_name",
            "membership__member__last_name",
            "membership__member__phone",
        )
        .annotate(count=Count("pk"), amount=total(OWED), oldest_due=Min("due_date"))
        .order_by(*_ordering(order, ARREARS_ORDER))
    )
    sums = contributions.aggregate(
        amount=total(OWED),
        count=Count("pk"),
        places=Count("membership", distinct=True),
    )
    return ArrearsReport(
        today=today,
        rows=rows,
        amount=to_money(sums["amount"]),
        count=sums["count"],
        places=sums["places"],
    )


# --- collections ----------------------------------------------------------


PERIODS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


@dataclass
class CollectionsReport:
    start: datetime.date
    end: datetime.date
    period: str
    rows: QuerySet
    period_totals: dict[datetime.date, Decimal]
    amount: Decimal
    count: int

    @property
    def last_day(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)


def collections_report(
    user: User,
    start: datetime.date,
    end: datetime.date,
    period: str = "month",
    *,
    within: QuerySet | None = None,
) -> CollectionsReport:
    """Money paid in on [`start`, `end`), per day, week or month, by group
    and coordinator, newest period first; with the total of each period and
    of the whole range. Truncation happens in the database.
    """
    # Limitation: a contribution keeps one paid_on, so a part payment and
    # the rest count together on the day of the last payment.
    trunc = PERIODS[period]
    base = Contribution.objects.all() if within is None else within
    paid = scope_to_user(base, user).filter(
        paid_on__gte=start, paid_on__lt=end, amount_paid__gt=0
    )
    by_period = paid.annotate(period=trunc("paid_on"))
    rows = (
        by_period.values(
            "period",
            "group_id",
            "group__name",
            "group__currency",
            "group__coordinator__first_name",
            "group__coordinator__last_name",
            "group__coordinator__username",
        )
        .annotate(amount=total("amount_paid"), count=Count("pk"))
        .order_by("-period", "group__name")
    )
    period_totals = {
        as_date(row["period"]): to_money(row["amount"])
        for row in by_period.values("period").annotate(amount=total("amount_paid"))
    }
    sums = paid.aggregate(amount=total("amount_paid"), count=Count("pk"))
    return CollectionsReport(
        start=start,
        end=end,
        period=period,
        rows=rows,
        period_totals=period_totals,
        amount=to_money(sums["amount"]),
        count=sums["count"],
    )
