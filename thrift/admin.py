"""The back-office screens: lists, filters, read-only money, and actions
that call `thrift.services`. No rule about money is decided here."""

import logging

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count, DecimalField, F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats
from django.utils.html import format_html

from accounts.models import User
from accounts.roles import sees_everything
from reports.audit import ADMIN_FORM
from reports.history_admin import AuditedHistoryAdmin

from . import paginator as list_paging
from . import services
from .admin_lists import KnownLabelsInlineMixin, LargeListMixin
from .exceptions import ThriftError
from .forms import (
    LeaveGroupForm,
    MarkPaidForm,
    MembershipForm,
    PlacesFormSet,
    RecordPayoutForm,
    StartCycleForm,
    SwapPositionsForm,
)
from .models import (
    Contribution,
    Cycle,
    Membership,
    Payout,
    PositionSwap,
    Round,
    ThriftGroup,
    lagos_today,
    overdue_condition,
)
from .money import ZERO, format_money
from .resources import (
    ContributionResource,
    MembershipResource,
    PayoutResource,
    ThriftGroupResource,
)
from .scoping import scope_to_user
from .spreadsheets import SpreadsheetAdminMixin

logger = logging.getLogger(__name__)


def route_of_form(request) -> str:
    """The history route of a save from an admin form."""
    return getattr(request, "history_route", ADMIN_FORM)


def route(action: str) -> str:
    """The route stamped on history rows written by an admin action."""
    return f"admin action: {action}"


def plural(count: int, singular: str, many: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


def money(field: str, description: str):
    """A changelist column showing `field` in its group's currency."""

    @admin.display(description=description, ordering=field)
    def show(self, obj):
        group = obj if isinstance(obj, ThriftGroup) else obj.group
        return group.money(getattr(obj, field))

    show.__name__ = f"{field}_money"
    return show


def cycle_running(group) -> bool:
    """Whether `group` has an open cycle; asked many times while its page
    renders, read once."""
    if group is None or group.pk is None:
        return False
    if not hasattr(group, "_cycle_running"):
        group._cycle_running = group.cycles.filter(status=Cycle.Status.OPEN).exists()
    return group._cycle_running


def _in_scope(model_admin, request, obj) -> bool:
    """Whether `obj` is one of the records `request.user` may see."""
    if obj is None or sees_everything(request.user):
        return True
    if isinstance(model_admin, ScopedAdmin):
        return model_admin._in_scope(request, obj)
    return model_admin.get_queryset(request).filter(pk=obj.pk).exists()


class ScopedForeignKeysMixin:
    """Foreign-key choices limited to the user's own groups, places and
    members, so that a posted pk from another group is refused."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            choices = self.scoped_choices(db_field.related_model, request)
            if choices is not None:
                kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def scoped_choices(self, model, request):
        user = request.user
        if model is ThriftGroup:
            return scope_to_user(ThriftGroup.objects.all(), user, "")
        if model is Membership:
            return scope_to_user(
                Membership.objects.select_related("member", "group"), user
            )
        if model is User and not sees_everything(user):
            return self.admin_site.get_model_admin(User).get_queryset(request)
        return None


class ScopedAdmin(ScopedForeignKeysMixin, LargeListMixin, AuditedHistoryAdmin):
    """Shows a coordinator only their own groups' records, everywhere:
    lists, object URLs, history, foreign-key choices and autocompletes.
    Every URL of another group's record (change, delete, history, a past
    version) answers 404, so that none tells whether it exists."""

    group_path = "group"
    list_per_page = 50

    def get_queryset(self, request):
        return scope_to_user(
            super().get_queryset(request), request.user, self.group_path
        )

    def get_object(self, request, object_id, from_field=None):
        # A change page asks for its object more than once; read it once.
        cache = request.__dict__.setdefault("_thrift_objects", {})
        key = (self.opts.label, str(object_id), from_field)
        if key not in cache:
            obj = super().get_object(request, object_id, from_field)
            if obj is None:
                raise Http404(
                    f"No {self.opts.verbose_name} {object_id} that you can see."
                )
            cache[key] = obj
        return cache[key]

    def has_view_permission(self, request, obj=None):
        return _in_scope(self, request, obj) and super().has_view_permission(
            request, obj
        )

    def has_change_permission(self, request, obj=None):
        return _in_scope(self, request, obj) and super().has_change_permission(
            request, obj
        )

    def message_refusals(self, request, refusals: list[str], limit: int = 10):
        """One warning per refusal, so that none goes unseen."""
        for reason in refusals[:limit]:
            self.message_user(request, reason, messages.WARNING)
        if len(refusals) > limit:
            self.message_user(
                request,
                f"... and {len(refusals) - limit} more refused; see the log.",
                messages.WARNING,
            )

    def render_action_page(self, request, template: str, context: dict):
        """An intermediate page of an action, in the admin's frame."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + context["form"].media,
            **context,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, f"admin/thrift/{template}", context)

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

    def has_change_permission(self, request, obj=None):
        # A row is changed by the actions (change permission on the model),
        # never saved from its own page.
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Not even for the platform owner: deleting a payout or a payment
        # leaves the rounds and pots that depend on it wrong. Money is
        # corrected through the services; history keeps every version.
        return False


class MembershipInline(
    ScopedForeignKeysMixin, KnownLabelsInlineMixin, admin.TabularInline
):
    model = Membership
    formset = PlacesFormSet
    extra = 0
    fields = ("member", "position", "joined_at", "left_at")
    readonly_fields = ("left_at",)
    autocomplete_fields = ("member",)
    ordering = ("left_at", "position", "joined_at")
    show_change_link = True
    verbose_name_plural = "places (payout order)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member", "group")

    @staticmethod
    def _cycle_running(group) -> bool:
        return cycle_running(group)

    def has_add_permission(self, request, obj=None):
        # Places join between cycles; the running order changes by swaps.
        if self._cycle_running(obj):
            return False
        return super().has_add_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if self._cycle_running(obj):
            return ("member", "position", "joined_at", "left_at")
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        # Leaving ends a place through the "Leave group" action; its money
        # records stay.
        return False


class RoundInline(admin.TabularInline):
    model = Round
    extra = 0
    fields = (
        "cycle_number",
        "number",
        "due_date",
        "collects",
        "status",
        "collected_by",
        "payout_amount",
        "paid_on",
    )
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
                "payout__membership__member",
                "group",
            )
        )

    @staticmethod
    def _payout(obj):
        return getattr(obj, "payout", None)

    @admin.display(description="cycle")
    def cycle_number(self, obj):
        return obj.cycle.number

    @admin.display(description="collects")
    def collects(self, obj):
        return obj.recipient.member if obj.recipient else "-"

    @admin.display(description="collected by")
    def collected_by(self, obj):
        payout = self._payout(obj)
        return payout.membership.member if payout else "-"

    @admin.display(description="paid out")
    def payout_amount(self, obj):
        payout = self._payout(obj)
        return obj.cycle.group.money(payout.amount) if payout else "-"

    @admin.display(description="paid on")
    def paid_on(self, obj):
        payout = self._payout(obj)
        return formats.localize(payout.paid_on) if payout else "-"

    def has_add_permission(self, request, obj=None):
        return False


def next_open_round(group: ThriftGroup) -> Round | None:
    """The round of `group`'s open cycle that is next to be paid out."""
    return (
        Round.objects.filter(
            cycle__group=group,
            cycle__status=Cycle.Status.OPEN,
            status=Round.Status.OPEN,
        )
        .select_related("group", "cycle", "recipient__member")
        .order_by("number")
        .first()
    )


@admin.register(ThriftGroup)
class ThriftGroupAdmin(SpreadsheetAdminMixin, ScopedAdmin):
    resource_classes = [ThriftGroupResource]
    group_path = ""
    allow_revert = True

    # What each place pays and how the pot is cut are fixed for a cycle once
    # it runs: changing them midway would treat the rounds unequally.
    TERMS = (
        "contribution_amount",
        "currency",
        "frequency",
        "start_date",
        "fee_type",
        "fee_value",
        "allow_multiple_places",
    )

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and not request.user.is_superuser:
            # Status follows the cycles; the coordinator is set by the owner.
            fields += ("status", "coordinator")
        if cycle_running(obj):
            fields += self.TERMS
        return fields

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        # New places join through the rule; edits of existing ones are saved
        # (and stamped) as any admin form.
        for place in formset.save(commit=False):
            if place.pk is None:
                services.join_group(
                    place.group,
                    place.member,
                    by=request.user,
                    route=route_of_form(request),
                    position=place.position,
                )
            else:
                services.stamp(place, request.user, route_of_form(request)).save()

    list_display = (
        "name",
        "frequency",
        "contribution_amount_money",
        "places",
        "coordinator",
        "status",
        "start_date",
    )
    list_filter = (
        "status",
        "frequency",
        ("coordinator", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("name", "coordinator__first_name", "coordinator__last_name")
    # Explicit: the places count groups the query, which drops Meta.ordering.
    ordering = ("name",)
    list_select_related = ("coordinator",)
    autocomplete_fields = ("coordinator",)
    inlines = (MembershipInline, RoundInline)
    actions = ("start_cycle", "record_payout", "close_cycle")
    change_form_template = "admin/thrift/thriftgroup/change_form.html"
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

    def get_inlines(self, request, obj):
        # A new group has no rounds yet; they come with its first cycle.
        return self.inlines if obj else (MembershipInline,)

    def get_changeform_initial_data(self, request):
        return {
            "coordinator": request.user.pk,
            **super().get_changeform_initial_data(request),
        }

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "coordinator" and not request.user.is_superuser:
            kwargs["queryset"] = db_field.related_model.objects.filter(
                pk=request.user.pk
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- permissions: one Django permission each, and the group in scope.

    def has_start_cycle_permission(self, request, obj=None):
        return request.user.has_perm("thrift.add_cycle") and _in_scope(
            self, request, obj
        )

    # Closing is the other end of running a cycle, granted with add_cycle.
    has_close_cycle_permission = has_start_cycle_permission

    def has_record_payout_permission(self, request, obj=None):
        return request.user.has_perm("thrift.add_payout") and _in_scope(
            self, request, obj
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/start-cycle/",
                view(self.start_cycle_view),
                name="thrift_thriftgroup_start_cycle",
            ),
            path(
                "<path:object_id>/record-payout/",
                view(self.record_payout_view),
                name="thrift_thriftgroup_record_payout",
            ),
            *super().get_urls(),
        ]

    def _group_for(self, request, object_id, has_permission) -> ThriftGroup:
        group = self.get_object(request, object_id)
        if not has_permission(request, group):
            raise PermissionDenied
        return group

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        group = self.get_object(request, object_id)
        open_cycle = group.cycles.filter(status=Cycle.Status.OPEN).first()
        group._cycle_running = open_cycle is not None
        extra_context.update(
            can_start_cycle=self.has_start_cycle_permission(request, group),
            can_record_payout=self.has_record_payout_permission(request, group),
            open_cycle=open_cycle,
            next_round=next_open_round(group),
        )
        return super().change_view(request, object_id, form_url, extra_context)

    # --- start a cycle

    @admin.action(description="Start cycle", permissions=["start_cycle"])
    def start_cycle(self, request, queryset):
        return self._start_cycle_page(request, list(queryset))

    def start_cycle_view(self, request, object_id):
        group = self._group_for(request, object_id, self.has_start_cycle_permission)
        return self._start_cycle_page(request, [group], original=group)

    def _start_cycle_page(self, request, groups, original=None):
        if not groups:
            self.message_user(
                request,
                "None of the selected groups is yours to change.",
                messages.ERROR,
            )
            return None
        for group in groups:
            group.next_start = services.next_cycle_start(group)
            group.open_cycle = group.cycles.filter(status=Cycle.Status.OPEN).first()
        initial = {
            "action": "start_cycle",
            "select_across": request.POST.get("select_across") == "1",
        }
        if len(groups) == 1:
            initial["start_date"] = groups[0].next_start

        form = StartCycleForm(request.POST if "confirm" in request.POST else None)
        if not form.is_bound:
            form = StartCycleForm(initial=initial)
        elif form.is_valid():
            started = self._start_cycles(request, groups, form.cleaned_data)
            if started:
                return self.render_action_page(
                    request,
                    "thriftgroup/start_cycle_done.html",
                    {
                        "title": "Cycle started",
                        "form": form,
                        "cycles": started,
                        "original": original,
                    },
                )
            if original is not None:
                return HttpResponseRedirect(self._change_url(original))
            return None

        return self.render_action_page(
            request,
            "thriftgroup/start_cycle.html",
            {
                "title": "Start cycle",
                "form": form,
                "queryset": groups,
                "original": original,
            },
        )

    def _start_cycles(self, request, groups, data) -> list[Cycle]:
        started, refusals = [], []
        for group in groups:
            try:
                cycle = services.start_cycle(
                    group,
                    by=request.user,
                    route=route("Start cycle"),
                    start_date=data["start_date"],
                    order_method=data["order_method"],
                )
            except ThriftError as refusal:
                refusals.append(str(refusal))
                continue
            self.log_change(request, group, f"Started cycle {cycle.number}.")
            cycle.ordered_rounds = list(
                cycle.rounds.select_related("recipient__member").order_by("number")
            )
            started.append(cycle)

        summary = f"{plural(len(started), 'cycle')} started"
        if refusals:
            summary += f"; {len(refusals)} refused"
        level = messages.SUCCESS if started else messages.WARNING
        self.message_user(request, summary + ".", level)
        self.message_refusals(request, refusals)
        return started

    # --- record a payout

    @admin.action(description="Record payout", permissions=["record_payout"])
    def record_payout(self, request, queryset):
        groups = list(queryset[:2])
        if len(groups) != 1:
            self.message_user(
                request,
                "Select exactly one group: each payout is confirmed on its own page.",
                messages.ERROR,
            )
            return None
        return HttpResponseRedirect(
            reverse("admin:thrift_thriftgroup_record_payout", args=[groups[0].pk])
        )

    def record_payout_view(self, request, object_id):
        group = self._group_for(request, object_id, self.has_record_payout_permission)
        if request.method == "POST":
            # The round shown on the page, so that a second submit cannot
            # pay out the round after it.
            round_id = request.POST.get("round", "")
            if not round_id.isdigit():
                raise Http404("No such round.")
            r = get_object_or_404(
                Round.objects.select_related("group", "cycle", "recipient__member"),
                pk=round_id,
                group=group,
            )
        else:
            r = next_open_round(group)
        if r is None:
            self.message_user(
                request, f"{group} has no round waiting for a payout.", messages.WARNING
            )
            return HttpResponseRedirect(self._change_url(group))

        quote = services.quote_payout(r)
        form = RecordPayoutForm(
            request.POST if request.method == "POST" else None,
            needs_override=quote.needs_override,
        )
        if form.is_bound and form.is_valid():
            try:
                payout = services.record_payout(
                    r,
                    by=request.user,
                    route=route("Record payout"),
                    paid_on=form.cleaned_data["paid_on"],
                    reference=form.cleaned_data["reference"],
                    override_reason=form.cleaned_data.get("override_reason", ""),
                )
            except ThriftError as refusal:
                self.message_user(request, str(refusal), messages.ERROR)
                return HttpResponseRedirect(self._change_url(group))
            self.log_addition(request, payout, f"Recorded payout of {r}.")
            self.message_user(
                request,
                f"Paid out {group.money(payout.amount)} to "
                f"{payout.membership.member} for {r} (pot {group.money(payout.pot)}, "
                f"fee {group.money(payout.fee)}).",
                messages.SUCCESS,
            )
            if payout.override_reason:
                self.message_user(
                    request,
                    f"Paid out with {plural(quote.outstanding_count, 'contribution')} "
                    "outstanding; the override reason is kept with the payout.",
                    messages.WARNING,
                )
            return HttpResponseRedirect(self._change_url(group))

        outstanding = list(
            r.contributions.filter(status=Contribution.Status.PENDING)
            .select_related("membership__member")
            .order_by("membership__position", "pk")
        )
        for c in outstanding:
            c.balance_money = group.money(c.balance)
        return self.render_action_page(
            request,
            "thriftgroup/record_payout.html",
            {
                "title": "Record payout",
                "form": form,
                "original": group,
                "round": r,
                "quote": quote,
                "recipient": r.recipient.member,
                "outstanding": outstanding,
                "money": {
                    "pot": group.money(quote.pot),
                    "fee": group.money(quote.fee),
                    "amount": group.money(quote.amount),
                    "outstanding": group.money(quote.outstanding_amount),
                },
            },
        )

    # --- close a cycle

    @admin.action(description="Close cycle", permissions=["close_cycle"])
    def close_cycle(self, request, queryset):
        if not queryset.exists():
            self.message_user(
                request,
                "None of the selected groups is yours to change.",
                messages.ERROR,
            )
            return
        closed, idle, refusals = 0, 0, []
        for group in queryset:
            cycle = group.cycles.filter(status=Cycle.Status.OPEN).first()
            if cycle is None:
                idle += 1
                continue
            try:
                services.close_cycle(cycle, by=request.user, route=route("Close cycle"))
            except ThriftError as refusal:
                refusals.append(str(refusal))
                continue
            self.log_change(request, group, f"Closed cycle {cycle.number}.")
            closed += 1

        parts = [f"{plural(closed, 'cycle')} closed"]
        if idle:
            parts.append(f"{plural(idle, 'group')} had no open cycle")
        if refusals:
            parts.append(f"{len(refusals)} refused")
        level = messages.SUCCESS if closed else messages.WARNING
        self.message_user(request, "; ".join(parts) + ".", level)
        self.message_refusals(request, refusals)

    def _change_url(self, group) -> str:
        return reverse("admin:thrift_thriftgroup_change", args=[group.pk])


@admin.register(Membership)
class MembershipAdmin(SpreadsheetAdminMixin, ScopedAdmin):
    resource_classes = [MembershipResource]
    allow_revert = True
    form = MembershipForm
    list_display = ("member", "group", "position", "phone", "joined_at", "is_active")
    list_filter = (
        ("left_at", admin.EmptyFieldListFilter),
        "group",
    )
    search_fields = (
        "member__first_name",
        "member__last_name",
        "member__phone",
        "group__name",
    )
    list_select_related = ("member", "group")
    autocomplete_fields = ("member", "group")
    readonly_fields = ("left_at",)
    actions = ("swap_positions", "leave_group")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # A place stays with its group and member; while a cycle runs its
        # position changes only by a recorded swap.
        fields = ("group", "member", "left_at")
        if obj.left_at or obj.group.cycles.filter(status=Cycle.Status.OPEN).exists():
            fields += ("position",)
        return fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        place = services.join_group(
            obj.group,
            obj.member,
            by=request.user,
            route=route_of_form(request),
            position=obj.position,
        )
        obj.pk, obj.joined_at = place.pk, place.joined_at

    @admin.display(description="phone", ordering="member__phone")
    def phone(self, obj):
        return obj.member.phone

    @admin.display(description="active", boolean=True, ordering="left_at")
    def is_active(self, obj):
        return obj.is_active

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def has_swap_permission(self, request, obj=None):
        return request.user.has_perm("thrift.add_positionswap") and _in_scope(
            self, request, obj
        )

    @admin.action(description="Swap positions", permissions=["swap"])
    def swap_positions(self, request, queryset):
        places = list(queryset.select_related("member", "group").order_by("pk"))
        if len(places) != 2:
            self.message_user(
                request,
                f"Select exactly two places to swap; {len(places)} selected.",
                messages.ERROR,
            )
            return None

        # The positions shown on the page: a second submit of the same page
        # finds them changed and swaps nothing back.
        shown = ",".join(f"{p.pk}:{p.position}" for p in places)
        form = SwapPositionsForm(request.POST if "confirm" in request.POST else None)
        if not form.is_bound:
            form = SwapPositionsForm(
                initial={"action": "swap_positions", "positions": shown}
            )
        elif form.is_valid():
            if form.cleaned_data["positions"] != shown:
                self.message_user(
                    request,
                    "The payout order changed since the page was shown; nothing was "
                    "swapped. Check the places and try again.",
                    messages.WARNING,
                )
                return None
            return self._swap(request, places, form.cleaned_data["reason"])

        return self.render_action_page(
            request,
            "membership/swap_positions.html",
            {"title": "Swap positions", "form": form, "queryset": places},
        )

    def _swap(self, request, places, reason):
        first, second = places
        try:
            swap = services.swap_positions(
                first,
                second,
                reason=reason,
                by=request.user,
                route=route("Swap positions"),
            )
        except ThriftError as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
            return None
        for place in places:
            self.log_change(request, place, f"Swapped positions: {swap}.")
        self.message_user(
            request,
            f"Swapped {first.member} (now #{swap.second_position}) and "
            f"{second.member} (now #{swap.first_position}) in {swap.cycle}.",
            messages.SUCCESS,
        )
        return None

    @admin.action(description="Leave group", permissions=["change"])
    def leave_group(self, request, queryset):
        places = list(queryset.select_related("member", "group"))
        if not places:
            self.message_user(
                request,
                "None of the selected places is yours to change.",
                messages.ERROR,
            )
            return None
        form = LeaveGroupForm(request.POST if "confirm" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._leave(request, places)
            return None
        if not form.is_bound:
            form = LeaveGroupForm(
                initial={
                    "action": "leave_group",
                    "select_across": request.POST.get("select_across") == "1",
                }
            )
        return self.render_action_page(
            request,
            "membership/leave_group.html",
            {"title": "Leave group", "form": form, "queryset": places},
        )

    def _leave(self, request, places):
        left, already, waived, cancelled, refusals, owing = 0, 0, 0, 0, [], []
        for place in places:
            try:
                result = services.leave_group(
                    place, by=request.user, route=route("Leave group")
                )
            except ThriftError as refusal:
                refusals.append(str(refusal))
                continue
            if not result.changed:
                already += 1
                continue
            left += 1
            waived += result.waived
            cancelled += result.cancelled_round is not None
            owing.append(place)
            self.log_change(
                request,
                place,
                f"Left the group; {plural(result.waived, 'contribution')} waived.",
            )

        parts = [
            f"{left} left the group",
            f"{plural(waived, 'contribution')} waived",
            f"{plural(cancelled, 'round')} cancelled",
        ]
        if already:
            parts.append(f"{already} had already left")
        if refusals:
            parts.append(f"{len(refusals)} refused")
        level = messages.SUCCESS if left else messages.WARNING
        self.message_user(request, "; ".join(parts) + ".", level)
        self.message_refusals(request, refusals)
        self._message_arrears(request, owing)

    def _message_arrears(self, request, places, limit: int = 10):
        """Say what each place that left still owes, so it is chased."""
        for place in places[:limit]:
            owed = place.contributions.filter(
                status=Contribution.Status.PENDING
            ).aggregate(
                count=Count("pk"),
                amount=Coalesce(
                    Sum(F("amount_due") - F("amount_paid")), ZERO, **MONEY_SUM
                ),
            )
            if owed["count"]:
                self.message_user(
                    request,
                    f"{place.member} still owes {place.group.money(owed['amount'])} "
                    f"on {plural(owed['count'], 'contribution')}; it stays as "
                    "arrears.",
                    messages.WARNING,
                )


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
    list_filter = (
        "status",
        "order_method",
        "group",
    )
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
        overdue = overdue_condition(lagos_today())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


MONEY_SUM = {"output_field": DecimalField(max_digits=14, decimal_places=2)}


def contribution_totals(queryset) -> list[dict]:
    """Due, paid and outstanding of `queryset`, one row per currency, in one
    query, by the rule in `ContributionQuerySet.totals_by_currency`."""
    return [
        {
            "currency": row["currency"],
            "count": row["count"],
            "due": format_money(row["due"], row["currency"]),
            "paid": format_money(row["paid"], row["currency"]),
            "outstanding": format_money(row["outstanding"], row["currency"]),
        }
        for row in queryset.totals_by_currency()
    ]


@admin.register(Contribution)
class ContributionAdmin(SpreadsheetAdminMixin, ReadOnlyMoneyAdmin):
    resource_classes = [ContributionResource]
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
    list_filter = (
        "status",
        OverdueFilter,
        "method",
        "group",
        "due_date",
    )
    search_fields = (
        "membership__member__first_name",
        "membership__member__last_name",
        "membership__member__phone",
        "reference",
    )
    search_help_text = "Name (its start), phone or reference (its start)"
    # round__cycle__group: the row's name (its checkbox label) shows it.
    list_select_related = ("group", "round__cycle__group", "membership__member")
    readonly_fields = (
        "group",
        "round",
        "membership",
        "due_date",
        "amount_due_money",
        "amount_paid_money",
        "status",
        "paid_on",
        "method",
        "reference",
        "recorded_by",
        "updated_at",
    )
    # Only what is listed shows, all of it read-only: the raw amounts never
    # become form fields.
    fields = readonly_fields
    date_hierarchy = "due_date"
    actions = ("mark_paid",)
    # The theme's import-export list template extends the plain change list,
    # so the totals template sits on top of it rather than under it.
    import_export_change_list_template = "admin/thrift/contribution/change_list.html"

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

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            changelist = context["cl"]
            if getattr(changelist.paginator, "is_estimate", False):
                # Past COUNT_CAP rows the list's size is an estimate, and
                # summing it would read every row on every page view.
                context["totals_withheld"] = list_paging.COUNT_CAP
            else:
                context["totals"] = contribution_totals(changelist.queryset)
        return response

    @admin.action(description="Mark paid", permissions=["change"])
    def mark_paid(self, request, queryset):
        contributions = list(
            queryset.select_related("group", "round__cycle", "membership__member")
        )
        if not contributions:
            self.message_user(
                request,
                "None of the selected contributions is yours to change.",
                messages.ERROR,
            )
            return None
        for c in contributions:
            c.balance_money = c.group.money(c.balance)
        form = MarkPaidForm(request.POST if "confirm" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._mark_paid(request, contributions, form.cleaned_data)
            return None
        if not form.is_bound:
            form = MarkPaidForm(
                initial={
                    "action": "mark_paid",
                    "select_across": request.POST.get("select_across") == "1",
                }
            )
        return self.render_action_page(
            request,
            "contribution/mark_paid.html",
            {
                "title": "Mark paid",
                "form": form,
                "queryset": contributions,
                "totals": contribution_totals(queryset),
            },
        )

    def _mark_paid(self, request, contributions, data):
        result = services.mark_paid(
            contributions,
            by=request.user,
            route=route("Mark paid"),
            paid_on=data["paid_on"],
            method=data["method"],
            reference=data["reference"],
            amount=data["amount"],
        )
        for c in result.paid + result.part_paid:
            self.log_change(
                request,
                c,
                f"Marked paid: {c.group.money(c.amount_paid)} by {c.method}"
                + (f", reference {c.reference}" if c.reference else "")
                + ".",
            )
        done = result.paid or result.part_paid
        self.message_user(
            request,
            result.summary() + ".",
            messages.SUCCESS if done else messages.WARNING,
        )
        self.message_refusals(request, [reason for _, reason in result.refused])


@admin.register(Payout)
class PayoutAdmin(SpreadsheetAdminMixin, ReadOnlyMoneyAdmin):
    resource_classes = [PayoutResource]
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
        "pot_money",
        "fee_money",
        "amount_money",
        "paid_on",
        "reference",
        "override_reason",
        "recorded_by",
        "created_at",
    )
    fields = readonly_fields
    date_hierarchy = "paid_on"

    pot_money = money("pot", "pot")
    fee_money = money("fee", "fee")
    amount_money = money("amount", "paid out")

    @admin.display(description="recipient", ordering="membership__member__first_name")
    def recipient_name(self, obj):
        return obj.membership.member

    @admin.display(description="override")
    def overridden(self, obj):
        if not obj.override_reason:
            return "-"
        return format_html(
            '<span class="badge bg-warning" title="{}">override</span>',
            obj.override_reason,
        )


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
