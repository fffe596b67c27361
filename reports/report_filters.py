"""Filter forms of the reports (django-filter), scoped to the staff user.

Each filter set narrows a contribution queryset; the report's query in
`reports.queries` then scopes and sums it. The choices offered are only the
user's own groups and coordinators, so a coordinator cannot even name
another group in the form.
"""

import datetime

import django_filters
from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import QuerySet

from accounts.models import User
from thrift.admin_lists import GROUP_CHOICES_MAX
from thrift.models import Contribution

from .queries import PERIODS, scoped_groups


def coordinators_of(groups: QuerySet) -> QuerySet:
    return User.objects.filter(pk__in=groups.values("coordinator_id")).order_by(
        "first_name", "last_name"
    )


def choose_group_widget(group_filter, groups: QuerySet) -> None:
    """Past GROUP_CHOICES_MAX groups, offer the admin's search-as-you-type
    box instead of a select: a select of 10,000 groups is a megabyte of
    HTML on every view. The box names only the chosen group and searches
    the user's own groups (the group admin scopes its autocomplete)."""
    if groups[GROUP_CHOICES_MAX : GROUP_CHOICES_MAX + 1].exists():
        group_filter.extra["widget"] = AutocompleteSelect(
            Contribution._meta.get_field("group"),
            admin.site,
            attrs={"data-placeholder": "All groups", "class": "report-group-search"},
        )


class StyledFilterSet(django_filters.FilterSet):
    """Bootstrap classes on the form's widgets, as the admin theme expects."""

    @property
    def form(self):
        form = super().form
        for field in form.fields.values():
            if isinstance(field.widget, AutocompleteSelect):
                continue
            css = (
                "form-select"
                if isinstance(field.widget, forms.Select)
                else "form-control"
            )
            field.widget.attrs.setdefault("class", f"{css} form-{css.split('-')[1]}-sm")
        return form


class ScopedFilterSet(StyledFilterSet):
    """Group and coordinator filters whose choices are what `user` may see."""

    group = django_filters.ModelChoiceFilter(
        queryset=None, label="Group", empty_label="All groups"
    )
    coordinator = django_filters.ModelChoiceFilter(
        field_name="group__coordinator",
        queryset=None,
        label="Coordinator",
        empty_label="All coordinators",
    )

    def __init__(self, data=None, *args, user, today: datetime.date, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.user = user
        self.today = today
        groups = scoped_groups(user)
        self.filters["group"].queryset = groups
        choose_group_widget(self.filters["group"], groups)
        self.filters["coordinator"].queryset = coordinators_of(groups)


class ArrearsFilter(ScopedFilterSet):
    min_days = django_filters.NumberFilter(
        method="filter_min_days",
        label="At least days overdue",
        min_value=0,
        widget=forms.NumberInput(attrs={"min": 0, "step": 1, "placeholder": "0"}),
    )

    class Meta:
        model = Contribution
        fields = ["group", "coordinator", "min_days"]

    def filter_min_days(self, queryset, name, value):
        if value is None:
            return queryset
        cutoff = self.today - datetime.timedelta(days=int(value))
        return queryset.filter(due_date__lte=cutoff)


PERIOD_CHOICES = [(key, key.capitalize()) for key in PERIODS]


class CollectionsFilter(ScopedFilterSet):
    """Group and coordinator narrow the queryset; the date range and the
    period are read from the form by the view, since they shape the report
    rather than filter rows out."""

    start = django_filters.DateFilter(
        method="keep",
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = django_filters.DateFilter(
        method="keep",
        label="To (inclusive)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    period = django_filters.ChoiceFilter(
        method="keep", choices=PERIOD_CHOICES, label="Per", empty_label=None
    )

    class Meta:
        model = Contribution
        fields = ["group", "coordinator", "start", "end", "period"]

    def keep(self, queryset, name, value):
        return queryset


class StatementFilter(StyledFilterSet):
    """The date range of a member statement."""

    start = django_filters.DateFilter(
        method="keep", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = django_filters.DateFilter(
        method="keep",
        label="To (inclusive)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Contribution
        fields = ["start", "end"]

    def keep(self, queryset, name, value):
        return queryset
