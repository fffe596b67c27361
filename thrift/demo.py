"""Build the demo data set from the sample files in `fixtures/`.

Dates in the files are as of DEMO_AS_OF; they are moved forward to today so
that the demo always shows recent payments, some overdue, and payouts to
come. Loading again creates nothing new: people are found by phone, groups
by name, and a group that exists is left as it is.
"""

import datetime
import logging
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import tablib
from django.conf import settings
from django.db import transaction

from accounts.models import User
from accounts.resources import MemberResource
from accounts.roles import AUDITORS, COORDINATORS, role_group

from . import services
from .models import Cycle, PaymentMethod, Round, ThriftGroup, lagos_today
from .resources import MembershipResource, ThriftGroupResource
from .spreadsheets import CSVFile

logger = logging.getLogger(__name__)

DEMO_AS_OF = datetime.date(2026, 12, 4)
FIXTURES = Path(settings.BASE_DIR) / "fixtures"
ROUTE = "command: load_demo"

# Most members always pay; these positions in each group sometimes do not.
UNRELIABLE_EVERY = 5


class DemoDataError(Exception):
    """A sample file did not import; the message lists the rows."""


@dataclass
class DemoSummary:
    members: int = 0
    staff: int = 0
    groups: int = 0
    places: int = 0
    payments: int = 0
    payouts: int = 0

    def __str__(self) -> str:
        return (
            f"{self.staff} staff, {self.members} members, {self.groups} groups, "
            f"{self.places} places, {self.payments} payments and {self.payouts} "
            "payouts created."
        )


def load_demo(
    today: datetime.date | None = None, *, by: User | None = None
) -> DemoSummary:
    """Load the sample files and play the groups forward to `today`.

    Every change is recorded as made by `by`; without it, staff and members
    are written by the platform owner and each group's records by its
    coordinator.
    """
    today = today or lagos_today()
    shift = today - DEMO_AS_OF
    summary = DemoSummary()
    with transaction.atomic():
        staff = _load_staff(summary, by=by)
        owner = by or _demo_owner(staff)
        result = _import(MemberResource, _dataset("members.csv"), "members.csv", owner)
        summary.members = result.counts()["new"]

        # A group that exists is left as it is, even if the file changed.
        groups = _dataset("groups.csv")
        existing = {
            name.lower() for name in ThriftGroup.objects.values_list("name", flat=True)
        }
        rows = [row for row in groups.dict if row["name"].lower() not in existing]
        places = [
            row
            for row in _dataset("memberships.csv").dict
            if row["group"].lower() not in existing
        ]
        for row in rows:
            row["start_date"] = _shifted(row["start_date"], shift)
        for row in places:
            row["joined_on"] = _shifted(row["joined_on"], shift)
        for username, user in staff.items():
            mine = [row for row in rows if row["coordinator"] == username]
            if not mine:
                continue
            names = {row["name"] for row in mine}
            actor = by or user
            result = _import(
                ThriftGroupResource, _subset(groups.headers, mine), "groups.csv", actor
            )
            summary.groups += result.counts()["new"]
            result = _import(
                MembershipResource,
                _subset(
                    _dataset("memberships.csv").headers,
                    [row for row in places if row["group"] in names],
                ),
                "memberships.csv",
                actor,
            )
            summary.places += result.counts()["new"]

        for row in rows:
            group = ThriftGroup.objects.get(name=row["name"])
            if row["status"] == "active":
                _play_group(group, today, summary, by=by or group.coordinator)
    return summary


def _dataset(name: str) -> tablib.Dataset:
    """A sample file read the way the admin reads an upload."""
    return CSVFile().create_dataset((FIXTURES / name).read_bytes())


def _subset(headers: list[str], rows: list[dict]) -> tablib.Dataset:
    dataset = tablib.Dataset(headers=headers)
    for row in rows:
        dataset.append([row[h] for h in headers])
    return dataset


def _shifted(value: str, shift: datetime.timedelta) -> str:
    return (datetime.date.fromisoformat(value) + shift).isoformat()


def _import(resource_class, dataset: tablib.Dataset, file_name: str, by: User):
    """Import `dataset` through the admin's resource; refuse on any error."""
    if not len(dataset):
        return resource_class.get_result_class()()
    result = resource_class(user=by).import_data(
        dataset,
        dry_run=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
        file_name=file_name,
        user=by,
    )
    if result.has_errors() or result.has_validation_errors():
        raise DemoDataError("; ".join(result.error_messages()[:10]))
    return result


def _load_staff(summary: DemoSummary, *, by: User | None) -> dict[str, User]:
    staff = {}
    for row in _dataset("demo/staff.csv").dict:
        user = User.objects.filter(username=row["username"]).first()
        if user is None:
            user = User(
                username=row["username"],
                first_name=row["first_name"],
                last_name=row["last_name"],
                email=row["email"],
                phone=row["phone"],
                is_staff=True,
            )
            user.set_unusable_password()
            services.stamp(user, by, ROUTE).save()
            summary.staff += 1
        role = COORDINATORS if row["role"] == "coordinator" else AUDITORS
        services.stamp(user, by, ROUTE).groups.add(role_group(role))
        staff[user.username] = user
    return staff


def _demo_owner(staff: dict[str, User]) -> User:
    # Member records are written as the platform owner when there is one.
    return User.objects.filter(is_superuser=True).order_by("pk").first() or next(
        iter(staff.values())
    )


def _play_group(
    group: ThriftGroup, today: datetime.date, summary: DemoSummary, *, by: User
) -> None:
    cycle = services.start_cycle(group, by=by, route=ROUTE)
    rng = random.Random(f"{group.name}-{cycle.number}")
    for r in cycle.rounds.order_by("number"):
        if r.due_date > today:
            break
        _pay_round(r, rng, today, summary, by=by)
        if r.due_date < today:
            _pay_out(r, rng, summary, by=by)
    if group.frequency == "weekly":
        _second_collector_leaves(cycle, by=by)
    if group.frequency == "monthly":
        _swap_last_two(cycle, by=by)


def _pay_round(
    r: Round,
    rng: random.Random,
    today: datetime.date,
    summary: DemoSummary,
    *,
    by: User,
) -> None:
    for c in r.contributions.select_related("membership").order_by(
        "membership__position"
    ):
        unreliable = c.membership.position % UNRELIABLE_EVERY == 0
        if unreliable and rng.random() < 0.45:
            continue
        paid_on = min(
            today, r.due_date + datetime.timedelta(days=rng.choice([-1, 0, 0, 1]))
        )
        method = rng.choice(
            [PaymentMethod.TRANSFER, PaymentMethod.TRANSFER, PaymentMethod.CASH]
        )
        reference = f"TRF{rng.randrange(10**7, 10**8)}" if method == "transfer" else ""
        amount = None
        if unreliable and rng.random() < 0.3:
            amount = (c.amount_due / 2).quantize(Decimal("0.01"))
        services.pay_contribution(
            c,
            by=by,
            route=ROUTE,
            paid_on=paid_on,
            method=method,
            reference=reference,
            amount=amount,
        )
        summary.payments += 1


def _pay_out(r: Round, rng: random.Random, summary: DemoSummary, *, by: User) -> None:
    quote = services.quote_payout(r)
    reason = ""
    if quote.needs_override:
        # Groups pay out on schedule; the coordinator chases the shortfall.
        if rng.random() < 0.3:
            return
        reason = "Paid on schedule; coordinator to recover the shortfall."
    services.record_payout(
        r,
        by=by,
        route=ROUTE,
        paid_on=r.due_date,
        reference=f"PAY{rng.randrange(10**6, 10**7)}",
        override_reason=reason,
    )
    summary.payouts += 1


def _second_collector_leaves(cycle: Cycle, *, by: User) -> None:
    """A member who has collected moves away: they still owe the rest."""
    r = cycle.rounds.filter(number=2, status=Round.Status.PAID_OUT).first()
    if r is None:
        return
    services.leave_group(r.recipient, by=by, route=ROUTE)


def _swap_last_two(cycle: Cycle, *, by: User) -> None:
    """Two members trade places: the later one needs school fees sooner."""
    rounds = list(cycle.rounds.order_by("-number")[:2])
    if len(rounds) < 2 or any(r.status != Round.Status.OPEN for r in rounds):
        return
    services.swap_positions(
        rounds[1].recipient,
        rounds[0].recipient,
        reason="School fees due in January; both members agreed at the meeting.",
        by=by,
        route=ROUTE,
    )
