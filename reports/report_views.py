"""The report pages: staff only, inside the admin, scoped like the admin.

Each view reads a filter form, calls one function of `reports.queries` and
either renders it or hands it to `reports.report_export`. Templates only
format the figures they are given.
"""

import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from accounts.models import User
from thrift.models import (
    Contribution,
    Cycle,
    Membership,
    Payout,
    PositionSwap,
    Round,
    ThriftGroup,
    lagos_today,
)
from thrift.money import format_money, to_money
from thrift.scoping import scope_to_user

from . import charts, queries
from .report_export import Column, ledger_xlsx, table_csv, table_xlsx
from .report_filters import ArrearsFilter, CollectionsFilter, StatementFilter

PAGE_SIZE = 100


def changelist(model: str, **params) -> str:
    """The admin list of `model` ("thrift.contribution") filtered by `params`."""
    app_label, model_name = model.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def currency_of(user: User) -> str:
    """The currency of figures summed across groups."""
    # Limitation: totals across groups assume they share one currency.
    return settings.THRIFT_DEFAULT_CURRENCY


def render(request, template: str, title: str, **context) -> TemplateResponse:
    return TemplateResponse(
        request,
        template,
        {**admin.site.each_context(request), "title": title, **context},
    )


# --- dashboard ----------------------------------------------------------


def dashboard_context(request) -> dict:
    """What the admin index shows; called by the `dashboard` template tag."""
    user = request.user
    today = lagos_today()
    currency = currency_of(user)
    overdue = queries.overdue_by_group(user, today)
    figures = queries.dashboard_figures(user, today, overdue)
    months = queries.collections_by_month(user, today)
    arrears = queries.arrears_by_group(user, today, overdue_sums=overdue)
    due = queries.payouts_due(user, today)
    changes = queries.latest_changes(user)

    month_links = [
        changelist(
            "thrift.contribution",
            paid_on__gte=m.month.isoformat(),
            paid_on__lt=queries.add_months(m.month, 1).isoformat(),
        )
        for m in months
    ]
    arrears_links = [
        changelist("thrift.contribution", overdue="yes", group__id__exact=g.group_id)
        for g in arrears
    ]
    return {
        "figures": figures,
        "currency": currency,
        "months_start": months[0].month,
        "payouts_due": due,
        "arrears_groups": arrears,
        "changes": [_describe(change) for change in changes],
        "collections_svg": charts.collections_chart(months, currency, month_links),
        "arrears_svg": charts.arrears_chart(arrears, currency, arrears_links),
        "links": {
            "active_groups": changelist("thrift.thriftgroup", status__exact="active"),
            "members": changelist("thrift.membership", left_at__isempty="1"),
            "this_month": changelist(
                "thrift.contribution",
                paid_on__gte=figures.this_month.isoformat(),
                paid_on__lt=figures.next_month.isoformat(),
            ),
            "last_month": changelist(
                "thrift.contribution",
                paid_on__gte=figures.last_month.isoformat(),
                paid_on__lt=figures.this_month.isoformat(),
            ),
            "overdue": changelist("thrift.contribution", overdue="yes"),
            "payouts_due": changelist(
                "thrift.round",
                status__exact="open",
                due_date__lte=(today + datetime.timedelta(days=7)).isoformat(),
            ),
            "arrears_report": reverse("reports:arrears"),
            "collections_report": reverse("reports:collections"),
        },
    }


def _describe(change: queries.Change) -> dict:
    row = change.row
    meta = change.model._meta
    link = None
    if row.history_type != "-":
        link = reverse(
            f"admin:{meta.app_label}_{meta.model_name}_history", args=[row.id]
        )
    who = row.history_user.display_name if row.history_user else "system"
    return {
        "when": change.when,
        "kind": change.kind,
        "what": _name_of(change.model, row),
        "detail": _detail_of(change.model, row),
        "who": who,
        "route": row.history_change_reason or "",
        "link": link,
    }


def _name_of(model, row) -> str:
    """The record a history row is about, in words a treasurer uses.

    A related record deleted since reads as missing rather than failing.
    """
    if model is ThriftGroup:
        return f"Group {row.name}"
    group = row.cycle.group if model is PositionSwap else row.group
    where = group.name if group else "a deleted group"
    if model is Contribution and row.membership and row.round:
        return f"Contribution of {row.membership.member}, {where} R{row.round.number}"
    if model is Payout and row.membership and row.round:
        return f"Payout to {row.membership.member}, {where} R{row.round.number}"
    if model is Membership and row.member:
        return f"Place of {row.member} in {where}"
    if model in (Cycle, Round):
        return f"{model._meta.verbose_name.capitalize()} {row.number} of {where}"
    return f"{model._meta.verbose_name.capitalize()} #{row.id} in {where}"


def _detail_of(model, row) -> str:
    currency = getattr(getattr(row, "group", None), "currency", "NGN")
    if model is Contribution:
        return (
            f"{row.status}, {format_money(row.amount_paid, currency)} of "
            f"{format_money(row.amount_due, currency)} paid"
        )
    if model is Payout:
        return f"{format_money(row.amount, currency)} paid out on {row.paid_on:%d %b}"
    if model is Round:
        return row.status.replace("_", " ")
    return ""


# --- ledger card ----------------------------------------------------------


def ledger_index(request):
    """The cycles whose cards the user may open, newest first per group."""
    cycles = (
        scope_to_user(Cycle.objects.all(), request.user)
        .select_related("group")
        .order_by("group__name", "-number")
    )
    page = Paginator(cycles, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "reports/ledger_index.html", "Group ledger cards", page=page)


def ledger_card(request, group_id: int, cycle_number: int | None = None):
    groups = queries.scoped_groups(request.user)
    group = get_object_or_404(groups, pk=group_id)
    cycles = list(group.cycles.order_by("-number"))
    if not cycles:
        return render(
            request,
            "reports/ledger_card.html",
            f"Ledger card: {group.name}",
            card=None,
            group=group,
            cycles=[],
        )
    if cycle_number is None:
        cycle = cycles[0]
    else:
        cycle = next((c for c in cycles if c.number == cycle_number), None)
        if cycle is None:
            raise Http404("No such cycle.")
    cycle.group = group
    card = queries.ledger_card(cycle, lagos_today())

    if request.GET.get("export") == "xlsx":
        return ledger_xlsx(card)
    return render(
        request,
        "reports/ledger_card.html",
        f"Ledger card: {group.name}, cycle {cycle.number}",
        card=card,
        group=group,
        cycles=cycles,
    )


# --- member statement ------------------------------------------------------


def statement_search(request):
    search = request.GET.get("q", "").strip()
    members = queries.statement_members(request.user, search) if search else []
    return render(
        request,
        "reports/statement_search.html",
        "Member statement",
        search=search,
        members=members,
    )


def _default_range(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """From the first of the month a year ago up to today."""
    start = queries.add_months(today.replace(day=1), -11)
    return start, today


def statement(request, member_id: int):
    member = get_object_or_404(
        User.objects.filter(
            pk__in=scope_to_user(Membership.objects.all(), request.user).values(
                "member_id"
            )
        ),
        pk=member_id,
    )
    today = lagos_today()
    start, last_day = _default_range(today)
    form = StatementFilter(_with_defaults(request.GET, start=start, end=last_day))
    if form.is_valid():
        start = form.form.cleaned_data.get("start") or start
        last_day = form.form.cleaned_data.get("end") or last_day
    if last_day < start:
        start, last_day = last_day, start
    report = queries.member_statement(
        request.user, member, start, last_day + datetime.timedelta(days=1), today
    )

    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        return statement_export(report, export)
    return render(
        request,
        "reports/statement.html",
        f"Statement: {member}",
        report=report,
        lines=statement_lines(report),
        filter=form,
        export_query=_export_query(request, export=None),
        currency=currency_of(request.user),
    )


STATEMENT_COLUMNS = [
    Column("Date", width=12),
    Column("Group", width=30),
    Column("Cycle", width=7),
    Column("Round", width=7),
    Column("Entry", width=14),
    Column("Due", money=True),
    Column("Paid in", money=True),
    Column("Received", money=True),
    Column("Paid on", width=12),
    Column("Status", width=12),
]


STATEMENT_KEYS = [
    "date",
    "group",
    "cycle",
    "round",
    "entry",
    "due",
    "paid",
    "received",
    "paid_on",
    "state",
]


def statement_lines(report: queries.Statement) -> list[dict]:
    """Contributions and payouts in date order, a payout after the
    contributions of its day."""
    lines = [
        {
            "date": c.due_date,
            "group": c.group.name,
            "currency": c.group.currency,
            "cycle": c.round.cycle.number,
            "round": c.round.number,
            "entry": "contribution",
            "due": c.amount_due,
            "paid": c.amount_paid,
            "received": None,
            "paid_on": c.paid_on,
            "state": queries.cell_state(c, report.today),
        }
        for c in report.contributions
    ]
    lines += [
        {
            "date": p.paid_on,
            "group": p.group.name,
            "currency": p.group.currency,
            "cycle": p.round.cycle.number,
            "round": p.round.number,
            "entry": "payout",
            "due": None,
            "paid": None,
            "received": p.amount,
            "paid_on": p.paid_on,
            "state": "paid out",
        }
        for p in report.payouts
    ]
    lines.sort(key=lambda line: (line["date"], line["entry"] == "payout"))
    return lines


def statement_export(report: queries.Statement, kind: str):
    filename = f"statement-{report.member.pk}-{report.start}-{report.last_day}"
    totals = [
        "Total",
        None,
        None,
        None,
        None,
        report.due,
        report.paid_in,
        report.received,
        None,
        None,
    ]
    lines = [[line[key] for key in STATEMENT_KEYS] for line in statement_lines(report)]
    if kind == "csv":
        return table_csv(filename, STATEMENT_COLUMNS, lines, totals)
    title = (
        f"Statement of {report.member} ({report.member.phone or 'no phone'}), "
        f"{report.start:%d %b %Y} to {report.last_day:%d %b %Y}"
    )
    return table_xlsx(filename, title, STATEMENT_COLUMNS, lines, totals)


# --- arrears ----------------------------------------------------------------


ARREARS_COLUMNS = [
    Column("Group", width=30),
    Column("Coordinator", width=22),
    Column("Place", width=7),
    Column("Member", width=26),
    Column("Phone", width=16),
    Column("Overdue rounds", width=10),
    Column("Oldest due", width=12),
    Column("Days overdue", width=10),
    Column("Amount owed", money=True),
]


def _person(row: dict, prefix: str) -> str:
    name = f"{row[prefix + 'first_name']} {row[prefix + 'last_name']}".strip()
    return name or row.get(prefix + "username", "")


def arrears_line(row: dict, today: datetime.date) -> list:
    return [
        row["group__name"],
        _person(row, "group__coordinator__"),
        row["membership__position"],
        _person(row, "membership__member__")
        + (" (left)" if row["membership__left_at"] else ""),
        row["membership__member__phone"] or "",
        row["count"],
        row["oldest_due"],
        (today - row["oldest_due"]).days,
        to_money(row["amount"]),
    ]


def arrears(request):
    today = lagos_today()
    form = ArrearsFilter(
        request.GET or None,
        queryset=Contribution.objects.all(),
        user=request.user,
        today=today,
    )
    within = form.qs if form.is_bound and form.is_valid() else None
    if form.is_bound and not form.is_valid():
        within = Contribution.objects.none()
    order = request.GET.get("o", "-amount")
    report = queries.arrears_report(request.user, today, within=within, order=order)

    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        lines = [arrears_line(row, today) for row in report.rows]
        totals = ["Total", None, None, None, None, report.count, None, None]
        totals.append(report.amount)
        filename = f"arrears-{today}"
        if export == "csv":
            return table_csv(filename, ARREARS_COLUMNS, lines, totals)
        title = f"Arrears as of {today:%d %b %Y}"
        return table_xlsx(filename, title, ARREARS_COLUMNS, lines, totals)

    paginator = Paginator(report.rows, PAGE_SIZE)
    # One row per place in arrears: the totals already counted them, so the
    # pager needs no COUNT over the grouped rows.
    paginator.count = report.places
    page = paginator.get_page(request.GET.get("page"))
    rows = [
        {"row": row, "line": arrears_line(row, today), "link": _overdue_link(row)}
        for row in page
    ]
    return render(
        request,
        "reports/arrears.html",
        "Arrears",
        report=report,
        rows=rows,
        page=page,
        filter=form,
        filter_summary=filter_summary(form),
        order=order,
        sort_links=_sort_links(request, order, queries.ARREARS_ORDER),
        export_query=_export_query(request, export=None, page=None),
        page_query=_export_query(request, page=None, export=None),
        currency=currency_of(request.user),
    )


def _overdue_link(row: dict) -> str:
    return changelist(
        "thrift.contribution",
        overdue="yes",
        membership__id__exact=row["membership_id"],
    )


def _sort_links(request, order: str, choices: dict) -> dict:
    links = {}
    for key in choices:
        new = key if order == "-" + key else "-" + key
        links[key] = {
            "query": _export_query(request, o=new, page=None, export=None),
            "active": order.lstrip("-") == key,
            "descending": order.startswith("-"),
        }
    return links


def _export_query(request, **changes) -> str:
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()


def filter_summary(form) -> str:
    """What a filter form asked for, in words, for the printed page."""
    if not form.is_bound or not form.is_valid():
        return ""
    parts = []
    for name, field in form.form.fields.items():
        value = form.form.cleaned_data.get(name)
        if value in (None, ""):
            continue
        if isinstance(value, datetime.date):
            value = f"{value:%d %b %Y}"
        parts.append(f"{field.label}: {value}")
    return "; ".join(parts)


def _with_defaults(data, **defaults):
    merged = data.copy()
    for key, value in defaults.items():
        if not merged.get(key):
            merged[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return merged


# --- collections -------------------------------------------------------------


COLLECTIONS_COLUMNS = [
    Column("Period from", width=12),
    Column("Group", width=30),
    Column("Coordinator", width=22),
    Column("Payments", width=10),
    Column("Collected", money=True),
]


def collections_line(row: dict) -> list:
    return [
        queries.as_date(row["period"]),
        row["group__name"],
        _person(row, "group__coordinator__"),
        row["count"],
        to_money(row["amount"]),
    ]


def collections(request):
    today = lagos_today()
    defaults = {"start": today.replace(day=1), "end": today, "period": "day"}
    form = CollectionsFilter(
        _with_defaults(request.GET, **defaults),
        queryset=Contribution.objects.all(),
        user=request.user,
        today=today,
    )
    if form.is_valid():
        data = form.form.cleaned_data
        within = form.qs
        start, last_day = data["start"], data["end"]
        period = data["period"] or "day"
    else:
        within = Contribution.objects.none()
        start, last_day, period = defaults["start"], defaults["end"], "day"
    if last_day < start:
        start, last_day = last_day, start
    report = queries.collections_report(
        request.user,
        start,
        last_day + datetime.timedelta(days=1),
        period,
        within=within,
    )

    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        lines = [collections_line(row) for row in report.rows]
        totals = ["Total", None, None, report.count, report.amount]
        filename = f"collections-{start}-{last_day}"
        if export == "csv":
            return table_csv(filename, COLLECTIONS_COLUMNS, lines, totals)
        title = f"Collections per {period}, {start:%d %b %Y} to {last_day:%d %b %Y}"
        return table_xlsx(filename, title, COLLECTIONS_COLUMNS, lines, totals)

    page = Paginator(report.rows, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    previous = None
    for row in page:
        period_start = queries.as_date(row["period"])
        rows.append(
            {
                "line": collections_line(row),
                "currency": row["group__currency"],
                "first_of_period": period_start != previous,
                "period_total": report.period_totals.get(period_start),
                "link": changelist(
                    "thrift.contribution",
                    group__id__exact=row["group_id"],
                    paid_on__gte=period_start.isoformat(),
                    paid_on__lt=_period_end(period_start, period).isoformat(),
                ),
            }
        )
        previous = period_start
    return render(
        request,
        "reports/collections.html",
        "Collections",
        report=report,
        rows=rows,
        page=page,
        filter=form,
        filter_summary=filter_summary(form),
        export_query=_export_query(request, export=None, page=None),
        page_query=_export_query(request, page=None, export=None),
        currency=currency_of(request.user),
    )


def _period_end(start: datetime.date, period: str) -> datetime.date:
    if period == "day":
        return start + datetime.timedelta(days=1)
    if period == "week":
        return start + datetime.timedelta(weeks=1)
    return queries.add_months(start, 1)
