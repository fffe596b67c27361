"""A paginator for lists of a million rows.

Counting every row of a large InnoDB table (`COUNT(*)`) reads the whole of
its smallest index: seconds at a few million rows, on every page view. For
an unfiltered list the count only sizes the pager, so on MySQL/MariaDB this
paginator takes the table's row estimate from information_schema instead.
Filtered lists, small tables and SQLite are counted exactly.

A filtered list is counted up to COUNT_CAP rows; past that the count is
the optimizer's estimate for the filter (EXPLAIN), which for a filter on
an indexed column comes from the index itself, so "status = paid" over a million rows does not
count 900,000 index entries on every page view.

A page is read in two steps: first only the primary keys of its rows, which
the ordering index answers without touching the rows or joining anything
(the optimizer cannot be trusted to drive a six-table join from the sorted
table under a LIMIT), then those rows with their joins. Deep pages
(`OFFSET 500000`) gain the most: the skipped rows are index entries only.
"""

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet

# Below this many rows a real COUNT(*) is cheap and exact.
EXACT_COUNT_BELOW = 20_000
# A filtered list is counted exactly up to this many rows.
COUNT_CAP = 20_000


def tables_row_estimate(models, using: str = "default") -> int | None:
    """InnoDB's estimate of the rows in all of `models`' tables together,
    in one query, on MySQL only."""
    connection = connections[using]
    if connection.vendor != "mysql":
        return None
    tables = [m._meta.db_table for m in models]
    marks = ", ".join(["%s"] * len(tables))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT SUM(TABLE_ROWS) FROM information_schema.TABLES "
            f"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({marks})",
            tables,
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else None


def table_row_estimate(queryset: QuerySet) -> int | None:
    """InnoDB's estimate of the rows in `queryset`'s table, on MySQL only."""
    return tables_row_estimate([queryset.model], queryset.db)


def filtered_row_estimate(queryset: QuerySet) -> int | None:
    """The optimizer's row estimate for `queryset`'s filter, on MySQL: the
    product of the rows it expects to read from each table it joins."""
    connection = connections[queryset.db]
    if connection.vendor != "mysql":
        return None
    plain = queryset.order_by().select_related(None).values("pk")
    sql, params = plain.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        columns = [c[0] for c in cursor.description]
        plan = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    if not plan or any(step.get("rows") is None for step in plan):
        return None
    estimate = 1
    for step in plan:
        estimate *= int(step["rows"])
    return estimate


def is_whole_table(queryset) -> bool:
    """True when `queryset` selects every row of its table, one per row."""
    if not isinstance(queryset, QuerySet):
        return False
    query = queryset.query
    return not (
        query.where
        or query.distinct
        or query.combinator
        or query.low_mark
        or query.high_mark is not None
    )


def estimated_count(parts: list[QuerySet], whole: QuerySet) -> tuple[int, bool]:
    """The number of rows of `whole`, the rows of `parts` together (one
    queryset, or the UNION ALL of several), and whether it is an estimate.

    Exact below EXACT_COUNT_BELOW rows for whole tables and below COUNT_CAP
    rows for filtered ones; past that, on MySQL, InnoDB's table sizes or the
    optimizer's estimate for the filter.
    """
    if all(is_whole_table(p) for p in parts):
        estimate = tables_row_estimate([p.model for p in parts], whole.db)
        if estimate is not None and estimate >= EXACT_COUNT_BELOW:
            return estimate, True
        return whole.count(), False
    capped = whole.order_by()[:COUNT_CAP].count()
    if capped < COUNT_CAP:
        return capped, False
    estimates = [filtered_row_estimate(p) for p in parts]
    if None in estimates:
        return whole.count(), False
    return max(sum(estimates), COUNT_CAP), True


class EstimatedCountPaginator(Paginator):
    """Counts an unfiltered large table by estimate; see the module doc."""

    #: Whether `count` is InnoDB's estimate rather than an exact count.
    is_estimate = False

    def _count(self) -> int:
        object_list = self.object_list
        if not isinstance(object_list, QuerySet):
            return super().count
        count, self.is_estimate = estimated_count([object_list], object_list)
        return count

    @property
    def count(self) -> int:
        if "_estimated_count" not in self.__dict__:
            self.__dict__["_estimated_count"] = self._count()
        return self.__dict__["_estimated_count"]

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        object_list = self.object_list
        if isinstance(object_list, QuerySet) and not object_list.query.annotations:
            keys = list(object_list.values_list("pk", flat=True)[bottom:top])
            return self._get_page(object_list.filter(pk__in=keys), number, self)
        return self._get_page(object_list[bottom:top], number, self)
