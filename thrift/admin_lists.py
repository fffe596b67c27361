"""What keeps the admin's lists fast at a million rows.

`LargeListMixin` goes first in the bases of an admin class. It changes how
a list is fetched, never what a row shows:

- counts: the estimated-count paginator and no second "total" count;
- order: the primary-key tie-breaker follows the direction of the sorted
  column, so one index on that column serves both directions; a default
  ordering by a foreign key sorts by the key, not by a join;
- sorting: on large tables, columns whose order needs a join are not
  offered (sorting a million rows by a joined name is a full sort);
- search: a phone number is matched exactly in E.164 on the indexed phone
  column, a reference by its start, and names by their start, so that every
  search uses an index instead of `LIKE '%...%'` across joins;
- filters: a filter on a thrift group lists the groups only while there are
  few of them; beyond that it keeps only the chosen one, and a group is
  picked from the group's own page or by search.
"""

import time

from django.contrib import admin
from django.contrib.admin.utils import lookup_spawns_duplicates
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Q
from django.db.models.expressions import OrderBy
from django.utils.text import smart_split, unescape_string_literal

from accounts.validators import normalize_phone

from .paginator import EstimatedCountPaginator, table_row_estimate
from .scoping import scope_to_user

# Tables above this many rows offer no sorting by a joined column.
JOINED_SORT_MAX_ROWS = 20_000
# A group filter lists every group up to this many.
GROUP_CHOICES_MAX = 100
_ESTIMATE_SECONDS = 300
_estimates: dict[str, tuple[float, int | None]] = {}


def cached_row_estimate(model) -> int | None:
    """The table's row estimate, asked of the database every few minutes."""
    label = model._meta.label
    now = time.monotonic()
    cached = _estimates.get(label)
    if cached is None or now - cached[0] > _ESTIMATE_SECONDS:
        cached = (now, table_row_estimate(model._default_manager.all()))
        _estimates[label] = cached
    return cached[1]


class AlignedOrderChangeList(ChangeList):
    """Django breaks ties with `-pk` whatever the sorted column's direction;
    ORDER BY amount ASC, id DESC cannot walk an index on `amount`. Here the
    tie-breaker follows the first column, so it can (InnoDB keeps the
    primary key at the end of every secondary index)."""

    def _get_deterministic_ordering(self, ordering):
        ordering = list(ordering)
        result = super()._get_deterministic_ordering(ordering)
        if ordering and len(result) == len(ordering) + 1 and result[-1] == "-pk":
            first = ordering[0]
            if isinstance(first, OrderBy):
                descending = first.descending
            else:
                descending = str(first).startswith("-")
            result[-1] = "-pk" if descending else "pk"
        return result


class GroupListFilter(admin.RelatedFieldListFilter):
    """Django's filter on a group, listing the groups only while there are
    at most GROUP_CHOICES_MAX of them (a coordinator's own, say). Beyond
    that a select of every group would be megabytes of HTML, so it keeps
    just the chosen group and the filter is set from the group's page."""

    def field_choices(self, field, request, model_admin):
        groups = scope_to_user(field.related_model.objects.all(), request.user, "")
        groups = groups.order_by("name").values_list("pk", "name")
        few = list(groups[: GROUP_CHOICES_MAX + 1])
        if len(few) <= GROUP_CHOICES_MAX:
            return few
        chosen = [v for v in (self.lookup_val or []) if str(v).isdigit()]
        return list(groups.filter(pk__in=chosen)) if chosen else []


def _ordering_crosses_relation(model_admin, name) -> bool:
    """Whether sorting by list_display column `name` needs a join."""
    opts = model_admin.model._meta
    try:
        field = opts.get_field(name)
    except FieldDoesNotExist:
        attr = getattr(model_admin, name, None) or getattr(
            model_admin.model, name, None
        )
        order = getattr(attr, "admin_order_field", None)
        if order is None:
            return False
        order = str(getattr(order, "name", order)).lstrip("-")
        try:
            head = opts.get_field(order.split("__")[0])
        except FieldDoesNotExist:
            return False
        return "__" in order or (head.is_relation and order == head.name)
    return field.is_relation


class LargeListMixin:
    """See the module docstring. Put it before the ModelAdmin base."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_changelist(self, request, **kwargs):
        return AlignedOrderChangeList

    def get_ordering(self, request):
        # Meta.ordering by a foreign key ("group") means ordering by the
        # related model's ordering, a join; the key itself is indexed.
        ordering = super().get_ordering(request) or self.model._meta.ordering
        opts = self.model._meta
        result = []
        for part in ordering:
            if isinstance(part, str):
                name = part.lstrip("-")
                try:
                    field = opts.get_field(name)
                except FieldDoesNotExist:
                    field = None
                if field is not None and field.is_relation and field.many_to_one:
                    part = part.replace(name, field.attname)
            result.append(part)
        return result

    def get_list_filter(self, request):
        from .models import ThriftGroup

        filters = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str):
                try:
                    field = self.model._meta.get_field(entry)
                except FieldDoesNotExist:
                    field = None
                if field is not None and field.related_model is ThriftGroup:
                    entry = (entry, GroupListFilter)
            filters.append(entry)
        return filters

    def get_sortable_by(self, request):
        columns = self.get_list_display(request)
        rows = cached_row_estimate(self.model)
        if rows is None or rows <= JOINED_SORT_MAX_ROWS:
            return super().get_sortable_by(request)
        return [
            c
            for c in columns
            if isinstance(c, str) and not _ordering_crosses_relation(self, c)
        ]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        fields = list(self.get_search_fields(request))
        if not term or not fields:
            return super().get_search_results(request, queryset, search_term)

        phones = [f for f in fields if f == "phone" or f.endswith("__phone")]
        if phones:
            try:
                phone = normalize_phone(term)
            except ValidationError:
                phone = None
            if phone:
                match = Q()
                for f in phones:
                    match |= Q(**{f: phone})
                return queryset.filter(match), False

        if "reference" in fields and " " not in term and any(c.isdigit() for c in term):
            return queryset.filter(reference__istartswith=term), False

        names = [
            f.lstrip("^=@") for f in fields if f not in phones and f != "reference"
        ]
        if not names:
            return queryset.none(), False
        for word in smart_split(term):
            if word[0] in "\"'" and word[0] == word[-1]:
                word = unescape_string_literal(word)
            match = Q()
            for f in names:
                match |= Q(**{f"{f}__istartswith": word})
            queryset = queryset.filter(match)
        duplicates = any(
            lookup_spawns_duplicates(self.opts, f"{f}__istartswith") for f in names
        )
        return queryset, duplicates
