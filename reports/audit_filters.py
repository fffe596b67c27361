"""The audit log's filters.

One FilterSet validates the query string once; `filter_queryset` then
applies it to each historical table's queryset in turn (see reports.audit),
so every filter here works on any historical model.
"""

import django_filters
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import Q

from accounts.models import User
from accounts.roles import sees_everything
from thrift.models import ThriftGroup
from thrift.scoping import scope_to_user

from .audit import AUDITED, BY_HISTORY, CHANGE_TYPES, in_groups
from .report_filters import choose_group_widget


def _groups(request):
    if request is None:
        return ThriftGroup.objects.none()
    return scope_to_user(ThriftGroup.objects.order_by("name"), request.user, "")


def _staff(request):
    """Who a viewer may filter by: all staff for those who see everything;
    for a coordinator, themself and the platform owners."""
    staff = User.objects.filter(is_staff=True).order_by(
        "first_name", "last_name", "username"
    )
    if request is None:
        return staff.none()
    if sees_everything(request.user):
        return staff
    return staff.filter(Q(pk=request.user.pk) | Q(is_superuser=True))


class AuditLogFilter(django_filters.FilterSet):
    model = django_filters.ChoiceFilter(
        label="Record type",
        choices=[(a.key, a.name) for a in AUDITED],
        method="filter_model",
        empty_label="All records",
    )
    user = django_filters.ModelChoiceFilter(
        label="Changed by",
        field_name="history_user",
        queryset=_staff,
        empty_label="Anyone",
    )
    group = django_filters.ModelChoiceFilter(
        label="Group", queryset=_groups, method="filter_group", empty_label="All groups"
    )
    change = django_filters.ChoiceFilter(
        label="Change",
        field_name="history_type",
        choices=[(code, name.capitalize()) for code, name in CHANGE_TYPES.items()],
        empty_label="Any change",
    )
    route = django_filters.CharFilter(
        label="Route contains",
        field_name="history_change_reason",
        lookup_expr="icontains",
    )
    route_starts = django_filters.CharFilter(
        label="Route starts with",
        field_name="history_change_reason",
        lookup_expr="istartswith",
    )
    date = django_filters.DateFromToRangeFilter(
        label="Date (from, to)",
        field_name="history_date",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )

    def filter_model(self, queryset, name, value):
        if BY_HISTORY[queryset.model].key == value:
            return queryset
        return queryset.none()

    def filter_group(self, queryset, name, value):
        return in_groups(queryset, [value.pk])

    def __init__(self, data=None, *, request=None):
        first = AUDITED[0].history.objects.none()
        super().__init__(data, queryset=first, request=request)
        choose_group_widget(self.filters["group"], _groups(request))
        for f in self.form.fields.values():
            if isinstance(f.widget, AutocompleteSelect):
                continue
            widgets = getattr(f.widget, "widgets", [f.widget])
            for widget in widgets:
                widget.attrs.setdefault("class", "form-control form-control-sm")
