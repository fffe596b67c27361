from django.contrib import admin
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from accounts.roles import sees_everything

from .admin_lists import KnownLabelsInlineMixin, LargeListMixin
from .models import (
    Contribution,
    Cycle,
    Membership,
    Payout,
    PositionSwap,
    Round,
    ThriftGroup,
    lagos_today,
)
from .scoping import scope_to_user


def money(field: str, description: str):
    """A changelist column showing `field` in its group's currency."""

    @admin.display(description=description, ordering=field)
    def show(self, obj):
        group = obj if isinstance(obj, ThriftGroup) else obj.group
        return group.money(getattr(obj, field))

    show.__name__ = f"{field}_money"
    return show


class ScopedAdmin(LargeListMixin, SimpleHistoryAdmin):
    """Shows a coordinator only their own groups' records, everywhere:
    lists, object URLs, foreign-key choices and autocompletes."""

    group_path = "group"
    list_per_page = 50

    def get_queryset(self, request):
        return scope_to_user(
            super().get_queryset(request), request.user, self.group_path
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is ThriftGroup:
            kwargs["queryset"] = scope_to_user(
                ThriftGroup.objects.all(), request.user, ""
            )
        elif db_field.related_model is Membership:
            kwargs["queryset"] = scope_to_user(
                Membership.objects.select_related("member", "group"), request.user
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        if obj is not None and not sees_everything(request.user):
            if not self._in_scope(request, obj):
                return False
        return super().has_change_permission(request, obj)

    def _in_scope(self, request, obj) -> bool:
        # Asked several times while one page renders; the answer holds for
        # the request.
        answers = request.__dict__.setdefault("_thrift_in_scope", {})
        key = (obj._meta.label, obj.pk)
        if key not in answers:
            answers[key] = self.get_queryset(request).filter(pk=obj.pk).exists()
        return answers[key]


class ReadOnlyMoneyAdmin(ScopedAdmin):
    """Ledger rows: written by the product's rules, never by a bare form,
    and never deleted except by the platform owner."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)


class MembershipInline(KnownLabelsInlineMixin, admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("member", "position", "joined_at", "left_at")
    readonly_fields = ("left_at",)
    autocomplete_fields = ("member",)
    ordering = ("position", "joined_at")
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member", "group")

    def has_delete_permission(self, request, obj=None):
        # Leaving ends a place through the "Leave group" action; its money
        # records stay.
        return False


class RoundInline(admin.TabularInline):
    model = Round
    extra = 0
    fields = ("cycle", "number", "due_date", "recipient", "status", "payout_amount")
    readonly_fields = fields
    ordering = ("-cycle__number", "number")
    verbose_name_plural = "rounds (who collects when)"
    can_delete = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "cycle__group",
                "recipient__member",
                "recipient__group",
                "payout",
                "group",
            )
        )

    @admin.display(description="paid out")
    def payout_amount(self, obj):
        payout = getattr(obj, "payout", None)
        return obj.group.money(payout.amount) if payout else "-"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ThriftGroup)
class ThriftGroupAdmin(ScopedAdmin):
    group_path = ""
    list_display = (
        "name",
        "frequency",
        "contribution_amount_money",
        "places",
        "coordinator",
        "status",
        "start_date",
    )
    list_filter = ("status", "frequency", "coordinator")
    search_fields = ("name", "coordinator__first_name", "coordinator__last_name")
    list_select_related = ("coordinator",)
    autocomplete_fields = ("coordinator",)
    inlines = (MembershipInline, RoundInline)
    fieldsets = (
        (None, {"fields": ("name", "coordinator", "status")}),
        (
            "Money",
            {
                "fields": (
                    "contribution_amount",
                    "currency",
                    "frequency",
                    "start_date",
                    "fee_type",
                    "fee_value",
                    "allow_multiple_places",
                )
            },
        ),
    )

    contribution_amount_money = money("contribution_amount", "contribution")

    def get_queryset(self, request):
        active_places = (
            Membership.objects.filter(group=OuterRef("pk"), left_at=None)
            .order_by()
            .values("group")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            # A subquery per shown row: a Count() join would group every
            # place of every group before the page is cut.
            .annotate(active_places=Coalesce(Subquery(active_places), 0))
        )

    @admin.display(description="places", ordering="active_places")
    def places(self, obj):
        return obj.active_places

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "coordinator" and not request.user.is_superuser:
            kwargs["queryset"] = db_field.related_model.objects.filter(
                pk=request.user.pk
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    list_display = ("member", "group", "position", "phone", "joined_at", "is_active")
    list_filter = (("left_at", admin.EmptyFieldListFilter), "group")
    search_fields = (
        "member__first_name",
        "member__last_name",
        "member__phone",
        "group__name",
    )
    list_select_related = ("member", "group")
    autocomplete_fields = ("member", "group")
    readonly_fields = ("left_at",)

    @admin.display(description="phone", ordering="member__phone")
    def phone(self, obj):
        return obj.member.phone

    @admin.display(description="active", boolean=True, ordering="left_at")
    def is_active(self, obj):
        return obj.is_active

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)


@admin.register(Cycle)
class CycleAdmin(ReadOnlyMoneyAdmin):
    list_display = (
        "group",
        "number",
        "start_date",
        "status",
        "order_method",
        "draw_seed",
        "started_by",
    )
    list_filter = ("status", "order_method", "group")
    search_fields = ("group__name",)
    list_select_related = ("group", "started_by")
    readonly_fields = (
        "group",
        "number",
        "start_date",
        "status",
        "order_method",
        "draw_seed",
        "started_by",
        "started_at",
        "closed_at",
    )


@admin.register(Round)
class RoundAdmin(ReadOnlyMoneyAdmin):
    list_display = ("__str__", "number", "due_date", "recipient_name", "status")
    list_filter = ("status", "group")
    search_fields = (
        "group__name",
        "recipient__member__first_name",
        "recipient__member__last_name",
    )
    list_select_related = ("group", "cycle__group", "recipient__member")
    readonly_fields = ("group", "cycle", "number", "due_date", "recipient", "status")
    date_hierarchy = "due_date"

    @admin.display(description="collects", ordering="recipient__member__first_name")
    def recipient_name(self, obj):
        return obj.recipient.member if obj.recipient else "-"


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", "Overdue"), ("no", "Not overdue"))

    def queryset(self, request, queryset):
        overdue = Q(status=Contribution.Status.PENDING, due_date__lt=lagos_today())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


@admin.register(Contribution)
class ContributionAdmin(ReadOnlyMoneyAdmin):
    list_display = (
        "member_name",
        "group",
        "round_number",
        "due_date",
        "amount_due_money",
        "amount_paid_money",
        "status_badge",
        "paid_on",
        "method",
        "reference",
    )
    list_filter = ("status", OverdueFilter, "method", "group", "due_date")
    search_fields = (
        "membership__member__first_name",
        "membership__member__last_name",
        "membership__member__phone",
        "reference",
    )
    # round__cycle__group: the row's name (its checkbox label) shows it.
    list_select_related = ("group", "round__cycle__group", "membership__member")
    readonly_fields = (
        "group",
        "round",
        "membership",
        "due_date",
        "amount_due",
        "amount_paid",
        "status",
        "paid_on",
        "method",
        "reference",
        "recorded_by",
        "updated_at",
    )
    date_hierarchy = "due_date"

    amount_due_money = money("amount_due", "due")
    amount_paid_money = money("amount_paid", "paid")

    @admin.display(description="member", ordering="membership__member__first_name")
    def member_name(self, obj):
        return obj.membership.member

    @admin.display(description="round", ordering="round__number")
    def round_number(self, obj):
        return obj.round.number

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        if obj.is_overdue():
            label, colour = "overdue", "danger"
        elif obj.is_part_paid:
            label, colour = "part-paid", "warning"
        else:
            label = obj.get_status_display().lower()
            colour = {"paid": "success", "waived": "secondary"}.get(obj.status, "info")
        return format_html('<span class="badge bg-{}">{}</span>', colour, label)


@admin.register(Payout)
class PayoutAdmin(ReadOnlyMoneyAdmin):
    list_display = (
        "recipient_name",
        "group",
        "round",
        "pot_money",
        "fee_money",
        "amount_money",
        "paid_on",
        "reference",
        "overridden",
    )
    list_filter = ("group", "paid_on")
    search_fields = (
        "membership__member__first_name",
        "membership__member__last_name",
        "membership__member__phone",
        "reference",
    )
    list_select_related = ("group", "round__cycle__group", "membership__member")
    readonly_fields = (
        "group",
        "cycle",
        "round",
        "membership",
        "pot",
        "fee",
        "amount",
        "paid_on",
        "reference",
        "override_reason",
        "recorded_by",
        "created_at",
    )
    date_hierarchy = "paid_on"

    pot_money = money("pot", "pot")
    fee_money = money("fee", "fee")
    amount_money = money("amount", "paid out")

    @admin.display(description="recipient", ordering="membership__member__first_name")
    def recipient_name(self, obj):
        return obj.membership.member

    @admin.display(description="override", boolean=True)
    def overridden(self, obj):
        return bool(obj.override_reason)


@admin.register(PositionSwap)
class PositionSwapAdmin(ReadOnlyMoneyAdmin):
    group_path = "cycle__group"
    list_display = (
        "cycle",
        "first",
        "first_position",
        "second",
        "second_position",
        "swapped_by",
        "swapped_at",
    )
    list_select_related = (
        "cycle__group",
        "first__member",
        "first__group",
        "second__member",
        "second__group",
        "swapped_by",
    )
    readonly_fields = (
        "cycle",
        "first",
        "second",
        "first_position",
        "second_position",
        "reason",
        "swapped_by",
        "swapped_at",
    )
    search_fields = ("cycle__group__name", "reason")
