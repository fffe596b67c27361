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
  picked from the group's own page or by search;
- change pages: the row comes with its related rows in one query;
- dates: the date hierarchy finds its years and months from the first and
  last date and one EXISTS per period between, all in one query, instead of
  a DISTINCT over every row.
"""

import datetime
import time

from django.contrib import admin
from django.contrib.admin.utils import lookup_spawns_duplicates
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Exists, Max, Min, Q
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


def _period_start(day: datetime.date, kind: str) -> datetime.date:
    return datetime.date(day.year, 1, 1) if kind == "year" else day.replace(day=1)


def _next_period(start: datetime.date, kind: str) -> datetime.date:
    if kind == "year":
        return datetime.date(start.year + 1, 1, 1)
    return (start + datetime.timedelta(days=32)).replace(day=1)


class IndexWalkDatesMixin:
    """`dates(field, "year" | "month")` from the first and last date and,
    for the periods between, one EXISTS each in a single query, rather
    than a DISTINCT over every row of the list. Days are left to Django:
    by then the list is one month's."""

    def aggregate(self, *args, **kwargs):
        result = super().aggregate(*args, **kwargs)
        # The admin's date bar asks this same queryset for the first and
        # last date just before it asks for the periods: keep the answer.
        first, last = kwargs.get("first"), kwargs.get("last")
        if isinstance(first, Min) and isinstance(last, Max) and not args:
            field = first.source_expressions[0].name
            self.__dict__.setdefault("_date_bounds", {})[field] = result
        return result

    def dates(self, field_name, kind, order="ASC"):
        if kind not in ("year", "month"):
            return super().dates(field_name, kind, order)
        rows = self.order_by()
        bounds = self.__dict__.get("_date_bounds", {}).get(field_name)
        if bounds is None:
            bounds = rows.aggregate(first=Min(field_name), last=Max(field_name))
        if bounds["first"] is None:
            return []
        periods = [_period_start(bounds["first"], kind)]
        last = _period_start(bounds["last"], kind)
        while periods[-1] < last:
            periods.append(_next_period(periods[-1], kind))
        found = {periods[0], periods[-1]}
        between = periods[1:-1]
        if between:
            checks = {
                f"p{n}": Exists(
                    rows.filter(
                        **{
                            f"{field_name}__gte": start,
                            f"{field_name}__lt": _next_period(start, kind),
                        }
                    )
                )
                for n, start in enumerate(between)
            }
            answer = rows.annotate(**checks).values(*checks)[:1].get()
            found |= {start for n, start in enumerate(between) if answer[f"p{n}"]}
        dates = sorted(found)
        return dates if order == "ASC" else dates[::-1]


_walking_classes: dict[type, type] = {}


def with_index_walk_dates(queryset):
    """`queryset`, its class extended with IndexWalkDatesMixin."""
    cls = type(queryset)
    if cls not in _walking_classes:
        _walking_classes[cls] = type(
            f"IndexWalk{cls.__name__}", (IndexWalkDatesMixin, cls), {}
        )
    queryset = queryset._chain()
    queryset.__class__ = _walking_classes[cls]
    return queryset


def _is_unique_column(opts, part) -> bool:
    if not isinstance(part, str):
        return False
    try:
        return opts.get_field(part.lstrip("-")).unique
    except FieldDoesNotExist:
        return False


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
            if _is_unique_column(self.lookup_opts, first):
                # A unique index carries no primary key to break ties with;
                # only rows without a value (NULL) can tie.
                result.pop()
        return result

    def get_ordering(self, request, queryset):
        # Sorted by a column, the admin's default order would follow it
        # (ORDER BY amount, due_date, round, member) and no index has that
        # shape; the primary key alone breaks the ties instead.
        if self.params.get(ORDER_VAR):
            queryset = queryset.order_by()
        return super().get_ordering(request, queryset)

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        field = self.date_hierarchy
        if field and not isinstance(
            self.lookup_opts.get_field(field), models.DateTimeField
        ):
            queryset = with_index_walk_dates(queryset)
        return queryset


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

    def has_output(self):
        # Shown while it lists groups, or to clear the one chosen.
        return bool(self.lookup_choices)


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


def related_paths(model, depth: int = 3, prefix: str = "") -> list[str]:
    """select_related() paths to every forward foreign key of `model`,
    `depth` levels down."""
    paths = []
    for field in model._meta.concrete_fields:
        if field.is_relation and field.many_to_one:
            path = f"{prefix}{field.name}"
            paths.append(path)
            if depth > 1:
                paths += related_paths(field.related_model, depth - 1, f"{path}__")
    return paths


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

    def get_object(self, request, object_id, from_field=None):
        # A change page names each related row (and their own relations, as
        # a round's name shows its cycle's group): load them with the row.
        model = self.model
        field = (
            model._meta.pk if from_field is None else model._meta.get_field(from_field)
        )
        try:
            object_id = field.to_python(object_id)
            queryset = self.get_queryset(request).select_related(*related_paths(model))
            return queryset.get(**{field.name: object_id})
        except (model.DoesNotExist, ValidationError, ValueError):
            return None

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


class KnownLabelAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete select, which looks up its selected row's
    label with one query per widget: ten places on a group's page, ten
    queries. This one takes the label from `known` when it is there."""

    known: dict[str, str] | None = None

    def optgroups(self, name, value, attr=None):
        empty = self.choices.field.empty_values
        selected = {str(v) for v in value if str(v) not in empty}
        if self.known is None or not selected <= self.known.keys():
            return super().optgroups(name, value, attr)
        default = (None, [], 0)
        if not self.is_required and not self.allow_multiple_selected:
            default[1].append(self.create_option(name, "", "", False, 0))
        for key in sorted(selected):
            option = self.create_option(
                name, key, self.known[key], selected, len(default[1])
            )
            default[1].append(option)
        return [default]


class KnownLabelsInlineMixin:
    """An inline whose autocomplete fields take their labels from the rows
    the inline already loaded (select_related them in get_queryset), and
    whose rows share the page's object as their parent."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        names = list(self.get_autocomplete_fields(request))

        class KnownLabelsFormSet(formset):
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                # Each row's parent is the page's object: share it rather
                # than load it again for every row's name.
                for form in self.forms:
                    setattr(form.instance, self.fk.name, self.instance)
                for name in names:
                    known = {}
                    for form in self.forms:
                        related = getattr(form.instance, name, None)
                        if form.instance.pk and related is not None:
                            known[str(related.pk)] = str(related)
                    for form in self.forms:
                        if name not in form.fields:
                            continue  # read-only on this page
                        widget = form.fields[name].widget
                        widget = getattr(widget, "widget", widget)
                        if isinstance(widget, AutocompleteSelect):
                            widget.__class__ = KnownLabelAutocompleteSelect
                            widget.known = known

        return KnownLabelsFormSet
