"""The audit trail: who changed which record, when, by which route, and
from what to what, read from django-simple-history's tables.

The audit log reads several historical tables as one list. Each table gives
a `values()` queryset with the same columns (kind, history id, record id,
date, type, route, acting user, group), and UNION ALL combines them, so the
database filters, orders and slices the whole list (`Log`): a page costs one
count and one query for its rows, whatever the number of rows. The
page's rows are then described (record names, changed fields old -> new)
with a bounded number of further queries: per kind of record on the page one
for its rows and one for their previous versions, one for the roles of the
users on it, and one per kind of related record for the names of foreign
keys (`Names`).
"""

import datetime
import heapq
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connections, models
from django.db.models import Exists, F, OuterRef, Q, Subquery, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst

from accounts.models import User
from accounts.roles import sees_everything
from thrift.models import (
    Contribution,
    Cycle,
    FeeType,
    Membership,
    Payout,
    PositionSwap,
    Round,
    ThriftGroup,
)
from thrift.money import format_money
from thrift.paginator import estimated_count

# Change reasons written by the admin itself; services get theirs from the
# caller ("admin action: <name>", "import: <file>", "command: <name>").
ADMIN_FORM = "admin form"
ADMIN_REVERT = "admin form: revert"

CHANGE_TYPES = {"+": "created", "~": "changed", "-": "deleted"}
EMPTY = "—"


@dataclass(frozen=True)
class Audited:
    """A model whose history the audit log shows."""

    model: type[models.Model]
    # Lookup from a history row to its group's id; None for users, who
    # belong to groups through their places.
    group_path: str | None

    @property
    def key(self) -> str:
        return self.model._meta.label_lower

    @property
    def name(self) -> str:
        return capfirst(self.model._meta.verbose_name)

    @property
    def history(self) -> type[models.Model]:
        return self.model.history.model

    def url(self, view: str, record_id: int) -> str:
        meta = self.model._meta
        return reverse(
            f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[record_id]
        )


AUDITED = [
    Audited(ThriftGroup, "id"),
    Audited(Membership, "group_id"),
    Audited(Cycle, "group_id"),
    Audited(Round, "group_id"),
    Audited(Contribution, "group_id"),
    Audited(Payout, "group_id"),
    Audited(PositionSwap, "cycle__group_id"),
    Audited(User, None),
]
BY_KEY = {a.key: a for a in AUDITED}
BY_MODEL = {a.model: a for a in AUDITED}
BY_HISTORY = {a.history: a for a in AUDITED}


def audited_for(model: type[models.Model]) -> Audited:
    return BY_MODEL.get(model) or BY_HISTORY[model]


# --- who sees what ------------------------------------------------------


def scope_history(qs: models.QuerySet, user: User) -> models.QuerySet:
    """Limit history rows to what `user` may review.

    Superusers and auditors see all; a coordinator the history of their own
    groups' records, and of their groups' members and themself.
    """
    if sees_everything(user):
        return qs
    own = ThriftGroup.objects.filter(coordinator=user).values("pk")
    return in_groups(qs, own, user=user)


def in_groups(qs: models.QuerySet, groups, *, user: User | None = None):
    """History rows of records in `groups` (group ids: a list or a values
    queryset); for users, of the groups' members (and `user` themself)."""
    audited = audited_for(qs.model)
    if audited.group_path is None:
        members = Membership.objects.filter(group__in=groups).values("member_id")
        condition = Q(id__in=members)
        if user is not None:
            condition |= Q(id=user.pk)
        return qs.filter(condition)
    return qs.filter(**{f"{audited.group_path}__in": groups})


# --- the audit log ------------------------------------------------------

COLUMNS = (
    "history_id",
    "id",
    "history_date",
    "history_type",
    "history_change_reason",
    "history_user_id",
)


def log_part(audited: Audited, user: User) -> models.QuerySet:
    """One table's history rows, scoped to `user`, with the common columns."""
    qs = scope_history(audited.history.objects.all(), user)
    if audited.group_path is None:
        group_ref = Value(None, output_field=models.BigIntegerField())
    else:
        group_ref = F(audited.group_path)
    return qs.order_by().annotate(
        kind=Value(audited.key, output_field=models.CharField()),
        group_ref=group_ref,
    )


NEWEST_FIRST = ("-history_date", "kind", "-history_id")


def combine(parts: list[models.QuerySet]) -> models.QuerySet:
    """UNION ALL of `parts`, newest first (see the module docstring)."""
    parts = [p.values(*COLUMNS, "kind", "group_ref") for p in parts]
    parts = [p for p in parts if not p.query.is_empty()]
    if not parts:
        return AUDITED[0].history.objects.none().values(*COLUMNS)
    return parts[0].union(*parts[1:], all=True).order_by(*NEWEST_FIRST)


def _newest_first(row: dict) -> tuple:
    """NEWEST_FIRST as a sort key: date and id descending, kind ascending."""
    return (-row["history_date"].timestamp(), row["kind"], -row["history_id"])


class Log:
    """The filtered log, newest first, read a slice at a time.

    Sorting the whole UNION for one page of 50 costs seconds at a million
    history rows. Where the database allows ORDER BY and LIMIT inside a
    UNION (MySQL, MariaDB), a slice ending at row N takes the newest N rows
    of each table (a backward walk of its date index), and only those are
    merged and sorted; elsewhere (SQLite) the same rows are merged here.
    The count is exact up to 20,000 rows and an estimate past that
    (`thrift.paginator.estimated_count`), as in the admin lists.
    """

    def __init__(self, parts: list[models.QuerySet]):
        parts = [p.values(*COLUMNS, "kind", "group_ref") for p in parts]
        self.parts = [p for p in parts if not p.query.is_empty()]
        self.is_estimate = False

    def count(self) -> int:
        """Exact up to 20,000 rows; past that InnoDB's estimate: the table
        sizes for the whole log, the optimizer's for a filtered one."""
        if not self.parts:
            return 0
        count, self.is_estimate = estimated_count(
            self.parts, combine(self.parts).order_by()
        )
        return count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop
        if not self.parts or (stop is not None and stop <= start):
            return []
        if len(self.parts) == 1:
            return list(self.parts[0].order_by(*NEWEST_FIRST)[start:stop])
        if stop is None:
            return list(combine(self.parts)[start:])
        newest = [p.order_by("-history_date", "-history_id")[:stop] for p in self.parts]
        features = connections[self.parts[0].db].features
        if features.supports_slicing_ordering_in_compound:
            merged = newest[0].union(*newest[1:], all=True).order_by(*NEWEST_FIRST)
            return list(merged[start:stop])
        # SQLite cannot limit the parts of a UNION: merge them here, in the
        # same order (each table holds one kind, so each part is in order).
        rows = heapq.merge(*newest, key=_newest_first)
        return list(itertools.islice(rows, start, stop))


# --- describing history rows --------------------------------------------


class Names:
    """Readable names of records that history rows point to, by id.

    Ask with `want`, then `load` once: one query per kind of record.
    """

    QUERIES = {
        User: lambda: User.objects.only("username", "first_name", "last_name"),
        Group: lambda: Group.objects.only("name"),
        ThriftGroup: lambda: ThriftGroup.objects.only("name", "currency"),
        Membership: lambda: Membership.objects.select_related("member", "group"),
        Cycle: lambda: Cycle.objects.select_related("group"),
        Round: lambda: Round.objects.select_related("cycle__group"),
    }

    def __init__(self):
        self.wanted = defaultdict(set)
        self.found = defaultdict(dict)

    def want(self, model, pk) -> None:
        if pk is not None and model in self.QUERIES:
            self.wanted[model].add(pk)

    def want_foreign_keys(self, record) -> None:
        for f in tracked_fields(audited_for(type(record))):
            if f.is_relation and not f.many_to_many:
                self.want(f.related_model, getattr(record, f.attname))

    def load(self) -> None:
        for model, pks in self.wanted.items():
            missing = pks - self.found[model].keys()
            if missing:
                for obj in self.QUERIES[model]().filter(pk__in=missing):
                    self.found[model][obj.pk] = obj
        self.wanted.clear()

    def get(self, model, pk):
        return self.found[model].get(pk)

    def name(self, model, pk) -> str:
        if pk is None:
            return EMPTY
        obj = self.get(model, pk)
        if obj is None:
            return f"{model._meta.verbose_name} #{pk} (deleted)"
        if model is Membership:
            return obj.member.display_name
        return str(obj)

    def currency(self, group_id) -> str:
        group = self.get(ThriftGroup, group_id)
        return group.currency if group else settings.THRIFT_DEFAULT_CURRENCY


def tracked_fields(audited: Audited) -> list[models.Field]:
    """Fields worth showing in a diff: not the id, not auto timestamps."""
    excluded = set(audited.model.history.model._history_excluded_fields or [])
    return [
        f
        for f in audited.model._meta.concrete_fields
        if not f.primary_key
        and f.name not in excluded
        and not getattr(f, "auto_now", False)
        and not getattr(f, "auto_now_add", False)
    ]


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


def show_value(f: models.Field, value, record, names: Names) -> str:
    """`value` of field `f` of history row `record`, as a treasurer reads it."""
    if value is None or value == "":
        return EMPTY
    if f.is_relation and not f.many_to_many:
        # A foreign key or one-to-one (a payout's round): the record's name.
        return names.name(f.related_model, value)
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(f, models.BooleanField):
        return "yes" if value else "no"
    if isinstance(f, models.DecimalField):
        if isinstance(record, ThriftGroup.history.model):
            if f.name == "fee_value" and record.fee_type == FeeType.PERCENT:
                return f"{Decimal(value):.2f}%"
            return format_money(value, record.currency)
        return format_money(value, names.currency(getattr(record, "group_id", None)))
    if isinstance(f, models.DateTimeField):
        return date_format(timezone.localtime(value), "j M Y, H:i")
    if isinstance(value, datetime.date):
        return date_format(value, "j M Y")
    return str(value)


# A user's roles (auth groups) are kept with each version of the user.
ROLES = "Roles"


def role_history():
    """The table holding the roles each version of a user had."""
    return apps.get_model("accounts", "HistoricalUser_groups")


def want_roles(rows: list, names: Names) -> None:
    """Give each user history row of `rows`, and its previous version,
    `role_ids`: the roles the user held then. One query."""
    versions = [r for r in rows if isinstance(r, User.history.model)]
    versions += [r.previous for r in versions if r.previous is not None]
    if not versions:
        return
    held = defaultdict(set)
    for history_id, group_id in (
        role_history()
        .objects.filter(history_id__in={v.history_id for v in versions})
        .values_list("history_id", "group_id")
    ):
        held[history_id].add(group_id)
        names.want(Group, group_id)
    for v in versions:
        v.role_ids = held[v.history_id]


def role_names(role_ids: set, names: Names) -> str:
    return ", ".join(sorted(names.name(Group, pk) for pk in role_ids)) or EMPTY


def role_change(record, previous, names: Names) -> Change | None:
    """Roles granted or taken away since `previous`, when `want_roles` has
    loaded them."""
    if not hasattr(record, "role_ids"):
        return None
    before = previous.role_ids if previous is not None else set()
    if record.role_ids == before:
        return None
    return Change(ROLES, role_names(before, names), role_names(record.role_ids, names))


def changes_between(record, previous, names: Names) -> list[Change]:
    """Fields that differ from `previous` (None: the values it started with).

    Compared over every tracked field rather than with `diff_against`,
    which skips fields that forms cannot edit, such as when a place left.
    """
    out = []
    for f in tracked_fields(audited_for(type(record))):
        new = getattr(record, f.attname)
        if previous is None:
            if new is None or new == "" or new is False:
                continue
            old_text = EMPTY
        else:
            old = getattr(previous, f.attname)
            if old == new:
                continue
            old_text = show_value(f, old, previous, names)
        out.append(
            Change(
                capfirst(f.verbose_name), old_text, show_value(f, new, record, names)
            )
        )
    roles = role_change(record, previous, names)
    if roles is not None:
        out.append(roles)
    return out


def record_label(record, names: Names) -> str:
    """A name for the record a history row belongs to, from its own values."""
    if isinstance(record, User.history.model):
        return f"{record.first_name} {record.last_name}".strip() or record.username
    if isinstance(record, ThriftGroup.history.model):
        return record.name
    if isinstance(record, Membership.history.model):
        return (
            f"{names.name(User, record.member_id)} in "
            f"{names.name(ThriftGroup, record.group_id)}"
        )
    if isinstance(record, Cycle.history.model):
        return f"{names.name(ThriftGroup, record.group_id)} cycle {record.number}"
    if isinstance(record, Round.history.model):
        return f"{names.name(Cycle, record.cycle_id)} round {record.number}"
    if isinstance(record, Contribution.history.model):
        return (
            f"{names.name(Membership, record.membership_id)}, "
            f"{names.name(Round, record.round_id)}"
        )
    if isinstance(record, Payout.history.model):
        return (
            f"Payout of {names.name(Round, record.round_id)} to "
            f"{names.name(Membership, record.membership_id)}"
        )
    return (
        f"Swap of #{record.first_position} and #{record.second_position} in "
        f"{names.name(Cycle, record.cycle_id)}"
    )


def with_previous(history_qs: models.QuerySet) -> list:
    """Evaluate `history_qs`, attaching to each row its previous version
    (`row.previous`, None for the first) and whether the record still
    exists (`row.record_exists`): two queries in all."""
    model = history_qs.model
    audited = BY_HISTORY[model]
    earlier = model.objects.filter(
        id=OuterRef("id"), history_date__lt=OuterRef("history_date")
    ).order_by("-history_date", "-history_id")
    rows = list(
        history_qs.select_related("history_user").annotate(
            previous_id=Subquery(earlier.values("history_id")[:1]),
            record_exists=Exists(audited.model.objects.filter(pk=OuterRef("id"))),
        )
    )
    previous_ids = {r.previous_id for r in rows if r.previous_id}
    previous = model.objects.in_bulk(previous_ids) if previous_ids else {}
    for r in rows:
        r.previous = previous.get(r.previous_id)
    return rows


def describe(rows: list, names: Names) -> None:
    """Attach `label`, `changes` and `route` to history rows that came
    from `with_previous`; loads the names they need."""
    for r in rows:
        names.want_foreign_keys(r)
        if r.previous is not None:
            names.want_foreign_keys(r.previous)
        if getattr(r, "group_id", None) is not None:
            names.want(ThriftGroup, r.group_id)
    want_roles(rows, names)
    names.load()
    for r in rows:
        r.label = record_label(r, names)
        r.route = r.history_change_reason or ""
        if r.history_type == "-":
            r.changes = []
        else:
            r.changes = changes_between(r, r.previous, names)


@dataclass
class Entry:
    """One line of the audit log."""

    audited: Audited
    history_id: int
    record_id: int
    date: datetime.datetime
    change_type: str
    route: str
    user: User | None
    group: ThriftGroup | None
    label: str = ""
    changes: list[Change] = field(default_factory=list)
    record_exists: bool = False

    @property
    def change(self) -> str:
        return CHANGE_TYPES.get(self.change_type, self.change_type)

    @property
    def record_url(self) -> str | None:
        return (
            self.audited.url("change", self.record_id) if self.record_exists else None
        )

    @property
    def history_url(self) -> str:
        return self.audited.url("history", self.record_id)

    def changes_text(self) -> str:
        if self.change_type == "+":
            return "; ".join(f"{c.field}: {c.new}" for c in self.changes)
        return "; ".join(f"{c.field}: {c.old} -> {c.new}" for c in self.changes)


def entries(rows: list[dict]) -> list[Entry]:
    """Describe a page of `combine()` rows, in a bounded number of queries."""
    by_kind = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row["history_id"])

    names = Names()
    described = {}
    for kind, ids in by_kind.items():
        history = BY_KEY[kind].history
        records = with_previous(history.objects.filter(history_id__in=ids))
        for r in records:
            described[kind, r.history_id] = r
    for row in rows:
        names.want(ThriftGroup, row["group_ref"])
    describe(list(described.values()), names)

    out = []
    for row in rows:
        r = described[row["kind"], row["history_id"]]
        out.append(
            Entry(
                audited=BY_KEY[row["kind"]],
                history_id=row["history_id"],
                record_id=row["id"],
                date=row["history_date"],
                change_type=row["history_type"],
                route=row["history_change_reason"] or "",
                user=r.history_user,
                group=names.get(ThriftGroup, row["group_ref"]),
                label=r.label,
                changes=r.changes,
                record_exists=r.record_exists,
            )
        )
    return out
