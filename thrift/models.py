"""Thrift groups, their places, cycles, rounds and the money records.

Every rule that moves money or writes several rows lives in
`thrift.services`; this module holds fields, constraints and rules that read
a single row.
"""

import calendar
import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from thrift_ms.history import AuditedHistory

from .money import ZERO, format_money, to_money

MONEY = {"max_digits": 12, "decimal_places": 2}


def lagos_today() -> datetime.date:
    """Today's date in the project's time zone (Africa/Lagos)."""
    return timezone.localdate()


# Books moved in from paper go back some years; nobody plans a group
# further ahead than this. Dates outside are typing mistakes.
START_DATE_YEARS_BACK = 10
START_DATE_YEARS_AHEAD = 2


def start_date_window() -> tuple[datetime.date, datetime.date]:
    today = lagos_today()
    return (
        add_months(today, -12 * START_DATE_YEARS_BACK),
        add_months(today, 12 * START_DATE_YEARS_AHEAD),
    )


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    BIWEEKLY = "biweekly", "Every two weeks"
    MONTHLY = "monthly", "Monthly"


class GroupStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"


class FeeType(models.TextChoices):
    NONE = "none", "No fee"
    FIXED = "fixed", "Fixed amount per payout"
    PERCENT = "percent", "Percentage of the pot"


def add_months(start: datetime.date, months: int) -> datetime.date:
    """Return `start` moved by `months`, clamped to the month's last day.

    Always counted from the original start date, so a group that began on
    31 January falls due on 28/29 February and then on 31 March again.
    """
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, min(start.day, last_day))


class ThriftGroup(models.Model):
    name = models.CharField(max_length=120, unique=True)
    contribution_amount = models.DecimalField(
        **MONEY, help_text="What each place pays every period."
    )
    currency = models.CharField(
        max_length=3, default="NGN", help_text="ISO 4217 code, e.g. NGN."
    )
    frequency = models.CharField(
        max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY
    )
    start_date = models.DateField(help_text="Due date of the first round.")
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="coordinated_groups",
        limit_choices_to={"is_staff": True},
    )
    status = models.CharField(
        max_length=10, choices=GroupStatus.choices, default=GroupStatus.DRAFT
    )
    fee_type = models.CharField(
        "service fee", max_length=10, choices=FeeType.choices, default=FeeType.NONE
    )
    fee_value = models.DecimalField(
        "fee value",
        **MONEY,
        default=ZERO,
        help_text="Naira per payout for a fixed fee; percent of the pot otherwise.",
    )
    allow_multiple_places = models.BooleanField(
        "allow two hands",
        default=False,
        help_text="Let one member hold more than one place in this group.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = AuditedHistory(group_field="id")

    class Meta:
        verbose_name = "thrift group"
        ordering = ["name"]
        indexes = [models.Index(fields=["coordinator", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(contribution_amount__gt=0),
                name="group_contribution_amount_positive",
            ),
            models.CheckConstraint(
                condition=Q(fee_value__gte=0), name="group_fee_value_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(fee_type="percent") | Q(fee_value__lte=100),
                name="group_fee_percent_at_most_100",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Refuse amounts that are not positive and a start date outside the
        window a real group could have."""
        super().clean()
        if self.contribution_amount is not None and self.contribution_amount <= 0:
            raise ValidationError(
                {"contribution_amount": "The contribution must be more than zero."}
            )
        if self.fee_value is not None and self.fee_value < 0:
            raise ValidationError({"fee_value": "A fee cannot be negative."})
        if self.start_date:
            earliest, latest = start_date_window()
            if not earliest <= self.start_date <= latest:
                raise ValidationError(
                    {
                        "start_date": (
                            f"A start date must fall between {earliest:%d/%m/%Y} "
                            f"and {latest:%d/%m/%Y}."
                        )
                    }
                )

    def due_date(self, start: datetime.date, round_number: int) -> datetime.date:
        """Due date of round `round_number` (from 1) of a cycle from `start`."""
        steps = round_number - 1
        if self.frequency == Frequency.DAILY:
            return start + datetime.timedelta(days=steps)
        if self.frequency == Frequency.WEEKLY:
            return start + datetime.timedelta(weeks=steps)
        if self.frequency == Frequency.BIWEEKLY:
            return start + datetime.timedelta(weeks=2 * steps)
        return add_months(start, steps)

    def next_period_after(self, date: datetime.date) -> datetime.date:
        """The date one period after `date`: where a following cycle starts."""
        return self.due_date(date, 2)

    def schedule_index(self, date: datetime.date) -> int | None:
        """The number of `date` on the group's schedule counted from its
        start date (1 for the start date itself); None when off schedule."""
        days = (date - self.start_date).days
        if days < 0:
            return None
        if self.frequency == Frequency.DAILY:
            return days + 1
        if self.frequency in (Frequency.WEEKLY, Frequency.BIWEEKLY):
            step = 7 if self.frequency == Frequency.WEEKLY else 14
            return days // step + 1 if days % step == 0 else None
        months = (date.year - self.start_date.year) * 12 + date.month
        months -= self.start_date.month
        return months + 1 if add_months(self.start_date, months) == date else None

    def service_fee(self, pot: Decimal) -> Decimal:
        """The coordinator's fee taken from `pot`, never more than the pot."""
        if self.fee_type == FeeType.FIXED:
            fee = to_money(self.fee_value)
        elif self.fee_type == FeeType.PERCENT:
            fee = to_money(pot * self.fee_value / Decimal("100"))
        else:
            fee = ZERO
        return min(fee, to_money(pot))

    def money(self, amount: Decimal | None) -> str:
        return format_money(amount, self.currency)


class Membership(models.Model):
    """A place in a group. One member may hold two places ("two hands")."""

    group = models.ForeignKey(
        ThriftGroup, on_delete=models.PROTECT, related_name="memberships"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    position = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Payout order in the current cycle. Leave empty to be "
        "placed when the next cycle starts.",
    )
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = AuditedHistory(group_field="group")

    class Meta:
        verbose_name = "membership"
        ordering = ["group", "position", "joined_at"]
        constraints = [
            # NULL positions (not yet placed, or left) do not collide.
            models.UniqueConstraint(
                fields=["group", "position"], name="membership_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(position__isnull=True) | Q(position__gte=1),
                name="membership_position_from_one",
            ),
        ]
        indexes = [
            models.Index(fields=["group", "left_at"]),
            # The admin's default order and each sortable column.
            models.Index(fields=["group", "position", "joined_at"]),
            models.Index(fields=["position"]),
            models.Index(fields=["joined_at"]),
            models.Index(fields=["left_at"]),
        ]

    def __str__(self) -> str:
        where = f"#{self.position}" if self.position else "unplaced"
        return f"{self.member} ({self.group}, {where})"

    @property
    def is_active(self) -> bool:
        return self.left_at is None


class Cycle(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    class OrderMethod(models.TextChoices):
        JOIN_ORDER = "join_order", "Join order"
        RANDOM = "random", "Random draw"

    group = models.ForeignKey(
        ThriftGroup, on_delete=models.PROTECT, related_name="cycles"
    )
    number = models.PositiveIntegerField()
    start_date = models.DateField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN
    )
    order_method = models.CharField(
        max_length=12,
        choices=OrderMethod.choices,
        default=OrderMethod.JOIN_ORDER,
        help_text="How places without a hand-set position were ordered.",
    )
    draw_seed = models.BigIntegerField(
        null=True, blank=True, help_text="Seed of the random draw, to replay it."
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    history = AuditedHistory(group_field="group")

    class Meta:
        ordering = ["group", "-number"]
        indexes = [models.Index(fields=["group", "-number"])]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "number"], name="cycle_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="cycle_number_from_one"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} cycle {self.number}"


class Round(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PAID_OUT = "paid_out", "Paid out"
        CANCELLED = "cancelled", "Cancelled"

    group = models.ForeignKey(
        ThriftGroup, on_delete=models.PROTECT, related_name="rounds"
    )
    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="rounds")
    number = models.PositiveIntegerField()
    due_date = models.DateField()
    # Always set; nullable only so that a swap can pass through an empty
    # value, since MySQL cannot defer the unique (cycle, recipient) index.
    recipient = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        related_name="collecting_rounds",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN
    )

    history = AuditedHistory(group_field="group")

    class Meta:
        ordering = ["cycle", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "number"], name="round_unique_number"
            ),
            # The place at position k collects in round k, once a cycle.
            models.UniqueConstraint(
                fields=["cycle", "recipient"], name="round_unique_recipient"
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="round_number_from_one"
            ),
        ]
        indexes = [
            models.Index(fields=["group", "due_date"]),
            models.Index(fields=["number"]),
            models.Index(fields=["due_date"]),
            models.Index(fields=["status"]),
            # Open rounds by date: the payouts due on the dashboard.
            models.Index(fields=["status", "due_date"], name="round_open_by_date"),
        ]

    def __str__(self) -> str:
        return f"{self.cycle.group} C{self.cycle.number} R{self.number}"


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    TRANSFER = "transfer", "Bank transfer"
    CARD = "card", "Card"
    OTHER = "other", "Other"


def _owed() -> Coalesce:
    """What is still owed on the rows summed, zero when there are none."""
    field = models.DecimalField(**MONEY)
    return Coalesce(
        Sum(F("amount_due") - F("amount_paid"), output_field=field),
        Value(ZERO),
        output_field=field,
    )


def _total(expression, **extra) -> Coalesce:
    """Sum `expression` in the database; nothing summed is zero. Totals get
    two more digits than one row may hold."""
    field = models.DecimalField(max_digits=MONEY["max_digits"] + 2, decimal_places=2)
    return Coalesce(Sum(expression, **extra), Value(ZERO), output_field=field)


# A waived contribution is owed by nobody: it counts in neither what is due
# nor what is outstanding, though what was paid on it still counts as paid.
OWED_BY_SOMEONE = ~Q(status="waived")


def overdue_condition(today: datetime.date, prefix: str = "") -> Q:
    """The one definition of overdue: pending and past its due date in
    Africa/Lagos. A contribution due today is not yet overdue; a waived one
    never is. `prefix` reaches a contribution through a relation."""
    return Q(
        **{
            f"{prefix}status": "pending",
            f"{prefix}due_date__lt": today,
        }
    )


class ContributionQuerySet(models.QuerySet):
    """Read-only questions about what is owed; every total is summed in the
    database."""

    def overdue(self, today: datetime.date | None = None) -> "ContributionQuerySet":
        """Pending contributions whose due date has passed in Africa/Lagos.

        A contribution due today is not yet overdue; a waived one never is.
        """
        return self.filter(overdue_condition(today or lagos_today()))

    def totals_by_currency(self):
        """Rows of `currency`, `count`, `due`, `paid` and `outstanding`
        (due less paid), one per currency, in one query.

        Waived contributions count in neither due nor outstanding.
        """
        return (
            self.order_by()
            .values(currency=F("group__currency"))
            .annotate(
                count=Count("pk"),
                due=_total("amount_due", filter=OWED_BY_SOMEONE),
                paid=_total("amount_paid"),
                outstanding=_total(
                    F("amount_due") - F("amount_paid"), filter=OWED_BY_SOMEONE
                ),
            )
            .order_by("currency")
        )

    def arrears_total(self, today: datetime.date | None = None) -> Decimal:
        """The sum still owed on the overdue contributions of this queryset."""
        return to_money(self.overdue(today).aggregate(arrears=_owed())["arrears"])

    def _arrears_by(self, key: str, today: datetime.date | None):
        return (
            self.overdue(today)
            .order_by()
            .values(key)
            .annotate(arrears=_owed(), overdue_count=Count("pk"))
            .order_by(key)
        )

    def arrears_by_place(self, today: datetime.date | None = None):
        """Rows of `membership`, `arrears` and `overdue_count`, one per place
        with something overdue."""
        return self._arrears_by("membership", today)

    def arrears_by_member(self, today: datetime.date | None = None):
        """Rows of `membership__member`, `arrears` and `overdue_count`: a
        member with two places is one row."""
        return self._arrears_by("membership__member", today)

    def paid_by_month(self) -> dict[tuple[int, datetime.date], Decimal]:
        """What these contributions hold as paid, by (group id, first day
        of the month of `paid_on`): the figure `CollectionMonth` keeps."""
        rows = (
            self.filter(amount_paid__gt=0, paid_on__isnull=False)
            .annotate(month=TruncMonth("paid_on"))
            .order_by()
            .values_list("group_id", "month")
            .annotate(amount=Sum("amount_paid"))
        )
        return {(group_id, month): to_money(amount) for group_id, month, amount in rows}

    def arrears_by_group(self, today: datetime.date | None = None):
        """Rows of `group`, `arrears` and `overdue_count`, one per group with
        something overdue."""
        return self._arrears_by("group", today)


class Contribution(models.Model):
    """What one place owes for one round."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        WAIVED = "waived", "Waived"

    group = models.ForeignKey(
        ThriftGroup, on_delete=models.PROTECT, related_name="contributions"
    )
    round = models.ForeignKey(
        Round, on_delete=models.PROTECT, related_name="contributions"
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="contributions"
    )
    due_date = models.DateField()
    amount_due = models.DecimalField(**MONEY)
    amount_paid = models.DecimalField(**MONEY, default=ZERO)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING
    )
    paid_on = models.DateField(null=True, blank=True)
    method = models.CharField(max_length=10, choices=PaymentMethod.choices, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContributionQuerySet.as_manager()
    history = AuditedHistory(group_field="group")

    class Meta:
        ordering = ["due_date", "round_id", "membership_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "membership"], name="contribution_one_per_place"
            ),
            models.CheckConstraint(
                condition=Q(amount_due__gt=0), name="contribution_amount_due_positive"
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0),
                name="contribution_amount_paid_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__lte=F("amount_due")),
                name="contribution_paid_at_most_due",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(amount_paid=F("amount_due")),
                name="contribution_paid_means_paid_in_full",
            ),
        ]
        indexes = [
            # Overdue totals and arrears by group or by place read this index
            # alone, never the rows: a million-row ledger sums its overdue
            # part in milliseconds. It also serves every "status, due date"
            # filter.
            models.Index(
                fields=[
                    "status",
                    "due_date",
                    "group",
                    "membership",
                    "amount_due",
                    "amount_paid",
                ],
                name="contribution_overdue_sums",
            ),
            # Collections by day or month over a date range, read from the
            # index alone.
            models.Index(
                fields=["paid_on", "amount_paid", "group"],
                name="contribution_paid_sums",
            ),
            models.Index(fields=["group", "status", "due_date"]),
            models.Index(fields=["reference"]),
            models.Index(fields=["membership", "due_date"]),
            # The admin's default order, alone and under the status filters.
            models.Index(fields=["due_date", "round", "membership"]),
            models.Index(fields=["status", "due_date", "round", "membership"]),
            # Each sortable column (the primary key breaks ties).
            models.Index(fields=["due_date"]),
            models.Index(fields=["amount_due"]),
            models.Index(fields=["amount_paid"]),
            models.Index(fields=["status"]),
            models.Index(fields=["paid_on"]),
            models.Index(fields=["method"]),
        ]

    def __str__(self) -> str:
        return f"{self.membership.member} - {self.round}"

    @property
    def balance(self) -> Decimal:
        """What is still owed; nothing for a waived contribution."""
        if self.status == self.Status.WAIVED:
            return ZERO
        return self.amount_due - self.amount_paid

    @property
    def is_part_paid(self) -> bool:
        return self.status == self.Status.PENDING and self.amount_paid > 0

    def is_overdue(self, today: datetime.date | None = None) -> bool:
        """Unpaid and past its due date, counted in Africa/Lagos."""
        today = today or lagos_today()
        return self.status == self.Status.PENDING and self.due_date < today


class CollectionMonth(models.Model):
    """A group's collections in one month, kept as payments are recorded.

    `amount` is the sum of `amount_paid` over the group's contributions whose
    `paid_on` falls in `month` (its first day), the same figure the reports
    compute from the contributions. The payment services change it in the
    payment's transaction (`thrift.services`); `thrift.ledger` checks it
    against the contributions. The dashboard reads twelve months of it
    rather than summing a million contributions on every view.
    """

    group = models.ForeignKey(
        ThriftGroup, on_delete=models.CASCADE, related_name="collection_months"
    )
    month = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["group", "month"], name="collection_month_once_per_group"
            ),
        ]
        indexes = [models.Index(fields=["month", "amount"], name="collection_by_month")]

    def __str__(self) -> str:
        return f"{self.group_id} {self.month:%Y-%m}: {self.amount}"


class Payout(models.Model):
    """What a round's recipient received: the pot less the service fee."""

    group = models.ForeignKey(
        ThriftGroup, on_delete=models.PROTECT, related_name="payouts"
    )
    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="payouts")
    round = models.OneToOneField(Round, on_delete=models.PROTECT, related_name="payout")
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="payouts"
    )
    pot = models.DecimalField(**MONEY)
    fee = models.DecimalField("service fee", **MONEY, default=ZERO)
    amount = models.DecimalField(**MONEY)
    paid_on = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    override_reason = models.TextField(
        blank=True,
        help_text="Why the pot was paid out before every contribution was in.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = AuditedHistory(group_field="group")

    class Meta:
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "membership"], name="payout_once_per_cycle"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="payout_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(fee__gte=0), name="payout_fee_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(amount=F("pot") - F("fee")),
                name="payout_amount_is_pot_less_fee",
            ),
        ]
        indexes = [
            models.Index(fields=["group", "paid_on"]),
            models.Index(fields=["paid_on"]),
            models.Index(fields=["pot"]),
            models.Index(fields=["fee"]),
            models.Index(fields=["amount"]),
            models.Index(fields=["reference"]),
        ]

    def __str__(self) -> str:
        return f"Payout {self.round} to {self.membership.member}"


class PositionSwap(models.Model):
    """A change to the payout order after a cycle started, with who and why."""

    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="swaps")
    first = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    second = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    first_position = models.PositiveIntegerField(
        help_text="First place's old position."
    )
    second_position = models.PositiveIntegerField(
        help_text="Second place's old position."
    )
    reason = models.TextField()
    swapped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    swapped_at = models.DateTimeField(default=timezone.now)

    history = AuditedHistory()

    class Meta:
        verbose_name = "position swap"
        ordering = ["-swapped_at"]
        indexes = [models.Index(fields=["swapped_at"])]

    def __str__(self) -> str:
        return (
            f"Swap #{self.first_position} and #{self.second_position} in {self.cycle}"
        )
