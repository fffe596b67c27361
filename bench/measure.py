"""Time the admin's pages on the bench database, beside the stock admin.

    python bench/measure.py                 # every page, 7 runs each
    python bench/measure.py --repeat 3 --only contribution
    python bench/measure.py --no-stock      # our admin only

Each page is fetched once to warm up, then --repeat times with Django's test
client, logged in as the platform owner (and, for the lists, as a
coordinator). It prints the median and 95th percentile time and the number
of queries, and for the changelists the same page from the stock admin
(bench/stock_admin.py) with the ratio of the medians. Report pages that do
not exist on this branch are listed as not available. The contributions
import writes to the database, so it runs last and only with --import.
"""

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import OWNER, coordinator_name, setup_django  # noqa: E402


class Timer:
    def __init__(self, client, repeat: int):
        self.client = client
        self.repeat = repeat

    def run(self, url: str, method: str = "get", data=None):
        from django.db import connection, reset_queries

        call = getattr(self.client, method)
        # The request itself empties the query log when it starts (Django's
        # request_started signal), so what is logged afterwards is its own.
        connection.force_debug_cursor = True
        try:
            reset_queries()
            started = time.perf_counter()
            response = call(url, data) if data is not None else call(url)
            first = (time.perf_counter() - started) * 1000
            query_count = len(connection.queries_log)
        finally:
            connection.force_debug_cursor = False
        if response.status_code != 200:
            return {"status": response.status_code}
        # With --stock-repeat 0 the one run above is the sample (a stock page
        # can take a minute at a million rows); otherwise it is a warm-up.
        times = [] if self.repeat else [first]
        for _ in range(self.repeat):
            started = time.perf_counter()
            call(url, data) if data is not None else call(url)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        return {
            "status": 200,
            "median": statistics.median(times),
            "p95": p95,
            "queries": query_count,
            "content": response.content.decode(errors="replace"),
        }


def model_url(model, view: str, *args, site: str = "admin") -> str:
    from django.urls import reverse

    meta = model._meta
    return reverse(f"{site}:{meta.app_label}_{meta.model_name}_{view}", args=args)


def sortable_columns(model_admin, user) -> list[int]:
    """Column numbers (`?o=N`) the changelist offers for sorting to `user`."""
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    changelist = model_admin.get_changelist_instance(request)
    sortable = changelist.sortable_by
    return [
        n
        for n, name in enumerate(changelist.list_display)
        if (sortable is None or name in sortable)
        and changelist.get_ordering_field(name)
    ]


def list_cases(model, model_admin, sample):
    """(label, query string) for one model's changelist."""
    fields = {f.name for f in model._meta.get_fields()}
    cases = [("unfiltered", "")]
    if "group" in fields:
        cases.append(("filter group", f"group__id__exact={sample['group']}"))
    if "status" in fields:
        cases.append(("filter status", f"status__exact={sample['status']}"))
    if any(
        getattr(f, "parameter_name", None) == "overdue" for f in model_admin.list_filter
    ):
        cases.append(("filter overdue", "overdue=yes"))
    search = " ".join(model_admin.search_fields)
    if "phone" in search:
        cases.append(("search phone", f"q={sample['phone']}"))
    if "reference" in search:
        cases.append(("search reference", f"q={sample['reference']}"))
    return cases


def samples():
    """Values to filter and search by, taken from the middle of the data."""
    from thrift.models import Contribution

    total = Contribution.objects.order_by("-pk").values_list("pk", flat=True)[0]
    c = (
        Contribution.objects.filter(pk__gte=total // 2, status="paid")
        .select_related("membership__member")
        .order_by("pk")
        .first()
    )
    phone = c.membership.member.phone  # +2348012345678
    return {
        "group": c.group_id,
        "status": "pending",
        "phone": "0" + phone[4:],  # as a treasurer types it: 08012345678
        "reference": c.reference[:9],  # a prefix
        "member": c.membership.member_id,
        "deep_page": 1000,
    }


def fmt(result) -> tuple[str, str, str]:
    if result is None:
        return ("", "", "")
    if result["status"] != 200:
        return (f"HTTP {result['status']}", "", "")
    return (f"{result['median']:.0f}", f"{result['p95']:.0f}", str(result["queries"]))


class Report:
    def __init__(self):
        self.rows = []

    def add(self, page, who, ours, stock=None):
        ratio = ""
        if ours and stock and ours["status"] == 200 and stock["status"] == 200:
            ratio = f"{stock['median'] / ours['median']:.1f}x"
        row = (page, who, *fmt(ours), *fmt(stock), ratio)
        self.rows.append(row)
        print(
            " | ".join(f"{c:>{w}}" for c, w in zip(row, WIDTHS, strict=True)),
            flush=True,
        )

    def note(self, page, text):
        print(f"{page:>{WIDTHS[0]}} | {text}", flush=True)


HEADER = ("page", "user", "ms p50", "p95", "q", "stock p50", "p95", "q", "speed-up")
WIDTHS = (46, 5, 7, 6, 3, 9, 6, 4, 8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--stock-repeat",
        type=int,
        default=3,
        help="timed runs per stock page after a warm-up; 0: the one run only",
    )
    parser.add_argument(
        "--stock-sorts",
        type=int,
        default=None,
        help="compare only the first N sorted columns with the stock admin",
    )
    parser.add_argument("--only", help="measure only models whose name has this")
    parser.add_argument("--no-stock", action="store_true")
    parser.add_argument(
        "--import",
        dest="run_import",
        action="store_true",
        help="also time importing 10,000 contribution rows (writes to the db)",
    )
    args = parser.parse_args()
    setup_django()

    from django.conf import settings
    from django.contrib import admin
    from django.test import Client
    from django.test.utils import override_settings

    from accounts.models import User

    override_settings(
        ROOT_URLCONF="bench.urls",
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {
                "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
            },
        },
        AXES_ENABLED=False,
    ).enable()

    owner_client, coord_client = Client(), Client()
    owner_user = User.objects.get(username=OWNER)
    owner_client.force_login(owner_user)
    coordinator = User.objects.get(username=coordinator_name(0))
    coord_client.force_login(coordinator)
    owner = Timer(owner_client, args.repeat)
    stock_owner = Timer(owner_client, args.stock_repeat)
    coord = Timer(coord_client, args.repeat)
    sample = samples()
    report = Report()

    print(f"repeat={args.repeat}; times in ms; q = queries per page\n")
    print(" | ".join(f"{c:>{w}}" for c, w in zip(HEADER, WIDTHS, strict=True)))
    print("-+-".join("-" * w for w in WIDTHS))

    report.add("dashboard (admin index)", "owner", owner.run("/admin/"))
    report.add("dashboard (admin index)", "coord", coord.run("/admin/"))

    registry = sorted(
        (
            (m, ma)
            for m, ma in admin.site._registry.items()
            if m._meta.app_label in {"thrift", "accounts"}
        ),
        key=lambda item: item[0]._meta.label,
    )
    for model, model_admin in registry:
        name = model._meta.model_name
        if args.only and args.only not in name:
            continue
        ours_url = model_url(model, "changelist")
        stock_url = model_url(model, "changelist", site="stock")
        for label, query in list_cases(model, model_admin, sample):
            suffix = f"?{query}" if query else ""
            ours = owner.run(ours_url + suffix)
            stock = None if args.no_stock else stock_owner.run(stock_url + suffix)
            report.add(f"{name} list {label}", "owner", ours, stock)
            if model._meta.app_label == "thrift":
                report.add(
                    f"{name} list {label}", "coord", coord.run(ours_url + suffix)
                )
        for n, column in enumerate(sortable_columns(model_admin, owner_user)):
            query = f"?o={column}"
            skip = args.no_stock or (
                args.stock_sorts is not None and n >= args.stock_sorts
            )
            stock = None if skip else stock_owner.run(stock_url + query)
            report.add(
                f"{name} list sorted by col {column}",
                "owner",
                owner.run(ours_url + query),
                stock,
            )
        # Page numbers in the URL count from 0: p=999 is the 1,000th page.
        pages = model.objects.count() // model_admin.list_per_page
        deep = min(sample["deep_page"], pages // 2)
        if deep > 1:
            query = f"?p={deep}"
            stock = None if args.no_stock else stock_owner.run(stock_url + query)
            label = f"{name} list page {deep:,}"
            report.add(label, "owner", owner.run(ours_url + query), stock)

        total = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        if total:
            pk = (
                model.objects.filter(pk__gte=total // 2)
                .order_by("pk")
                .values_list("pk", flat=True)[0]
            )
            stock = (
                None
                if args.no_stock
                else stock_owner.run(model_url(model, "change", pk, site="stock"))
            )
            report.add(
                f"{name} change",
                "owner",
                owner.run(model_url(model, "change", pk)),
                stock,
            )

    optional_pages(report, owner, coord, sample, coordinator)
    if args.run_import:
        time_import(report, owner_client, sample)
    else:
        report.note("import 10,000 contributions", "skipped (run with --import)")


def optional_pages(report, owner, coord, sample, coordinator):
    """Pages that other parts of the product add; skipped when absent."""
    from django.urls import NoReverseMatch, reverse

    from thrift.models import Contribution, ThriftGroup

    coord_group = ThriftGroup.objects.filter(coordinator=coordinator).order_by("pk")[0]
    contribution = (
        Contribution.objects.filter(group_id=sample["group"]).order_by("pk").first()
    )
    by_group = f"?group={sample['group']}"
    pages = (
        ("ledger index", "reports:ledger_index", [], [], ""),
        ("ledger card", "reports:ledger_card", [sample["group"]], [coord_group.pk], ""),
        ("member statement", "reports:statement", [sample["member"]], None, ""),
        ("arrears report", "reports:arrears", [], [], ""),
        ("collections report", "reports:collections", [], [], ""),
        ("audit log", "audit_log", [], [], ""),
        ("audit log, one group", "audit_log", [], None, by_group),
        ("audit log, contributions", "audit_log", [], [], "?model=thrift.contribution"),
        (
            "contribution history",
            "admin:thrift_contribution_history",
            [contribution.pk],
            None,
            "",
        ),
    )
    for label, name, args, coord_args, query in pages:
        try:
            url = reverse(name, args=args)
        except NoReverseMatch:
            report.note(label, "not available on this branch")
            continue
        report.add(label, "owner", owner.run(url + query))
        if coord_args is not None:
            report.add(
                label, "coord", coord.run(reverse(name, args=coord_args) + query)
            )


def time_import(report, client, sample):
    """Import 10,000 contribution payments through the admin, timed once."""
    import csv
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import NoReverseMatch, reverse

    from thrift.models import Contribution

    try:
        url = reverse("admin:thrift_contribution_import")
        confirm_url = reverse("admin:thrift_contribution_process_import")
    except NoReverseMatch:
        report.note("import 10,000 contributions", "not available on this branch")
        return
    rows = (
        Contribution.objects.filter(status="pending", amount_paid=0)
        .select_related("group", "round", "membership__member")
        .order_by("group_id", "round_id")[:10000]
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "group",
            "member",
            "round",
            "amount_paid",
            "status",
            "paid_on",
            "method",
            "reference",
        ]
    )
    for c in rows:
        writer.writerow(
            [
                c.group.name,
                c.membership.member.phone,
                c.round.number,
                c.amount_due,
                "paid",
                c.due_date.strftime("%d/%m/%Y"),
                "transfer",
                f"BENCHIMP{c.pk}",
            ]
        )
    page = client.get(url).content.decode()
    fmt_match = re.search(r'<option value="(\d+)"[^>]*>\s*csv', page, re.I)
    data = {
        "import_file": SimpleUploadedFile(
            "bench.csv", out.getvalue().encode(), "text/csv"
        ),
        "format": fmt_match.group(1) if fmt_match else "0",
    }
    started = time.perf_counter()
    preview = client.post(url, data)
    preview_ms = (time.perf_counter() - started) * 1000
    body = preview.content.decode()
    hidden = dict(
        re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body)
    )
    if "import_file_name" not in hidden:
        report.note(
            "import 10,000 contributions",
            f"preview refused ({preview.status_code}); see the page",
        )
        return
    started = time.perf_counter()
    done = client.post(confirm_url, hidden)
    confirm_ms = (time.perf_counter() - started) * 1000
    report.note(
        "import 10,000 contributions",
        f"preview {preview_ms:,.0f} ms, confirm {confirm_ms:,.0f} ms (HTTP {done.status_code})",
    )


if __name__ == "__main__":
    main()
