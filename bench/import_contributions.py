"""Benchmark: import contribution payments, ours against a plain importer.

Not a test. Creates a throwaway database (the test database name from the
settings, DB_TEST_NAME on MySQL/MariaDB), builds groups whose cycles hold the
requested number of contributions, writes one CSV file paying all of them,
and times, on that same file:

- our ContributionResource: preview (dry run) and confirmed import;
- a plain row-by-row ModelResource (the library's defaults, one
  pay_contribution call and a handful of look-ups per row).

Each phase runs in a forked child so that its peak memory (ru_maxrss) is
its own. Run it from the project folder, e.g.

    DB_ENGINE=mysql DB_USER=root DB_TEST_NAME=bench_thrift \\
        .venv/bin/python bench/import_contributions.py 10000 100000
"""

import argparse
import csv
import io
import multiprocessing
import os
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thrift_ms.settings")
os.environ.setdefault("LOG_LEVEL", "warning")

import django  # noqa: E402

django.setup()

from django.db import connection, connections, transaction  # noqa: E402
from import_export import fields, resources, widgets  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.validators import normalize_phone  # noqa: E402
from thrift import services  # noqa: E402
from thrift.models import (  # noqa: E402
    CollectionMonth,
    Contribution,
    Cycle,
    Membership,
    Round,
    ThriftGroup,
)
from thrift.parsing import parse_amount, parse_date  # noqa: E402
from thrift.resources import ContributionResource  # noqa: E402
from thrift.spreadsheets import CSVFile  # noqa: E402

PLACES = 100  # places per group; a cycle of 100 rounds holds 10,000 payments


class PlainContributionResource(resources.ModelResource):
    """What a first importer looks like: the library's defaults, a query or
    two per column per row, and the service called once per row."""

    group = fields.Field(
        "group", "group", widgets.ForeignKeyWidget(ThriftGroup, "name")
    )

    class Meta:
        model = Contribution
        fields = ("group", "amount_paid", "paid_on", "method", "reference")
        skip_unchanged = True
        report_skipped = True

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def get_instance(self, instance_loader, row):
        group = ThriftGroup.objects.get(name=row["group"])
        member = User.objects.get(phone=normalize_phone(row["member"]))
        place = Membership.objects.get(group=group, member=member)
        cycle = Cycle.objects.get(group=group, status=Cycle.Status.OPEN)
        r = Round.objects.get(cycle=cycle, number=int(row["round"]))
        return Contribution.objects.get(round=r, membership=place)

    def import_instance(self, instance, row, **kwargs):
        self.payment = {
            "amount": parse_amount(row["amount_paid"]) - instance.amount_paid,
            "paid_on": parse_date(row["paid_on"]),
            "method": row["method"],
            "reference": row["reference"],
        }

    def do_instance_save(self, instance, is_create):
        services.pay_contribution(
            instance,
            by=self.user,
            route=f"import: {self.file_name}",
            **self.payment,
        )

    def before_import(self, dataset, **kwargs):
        self.file_name = kwargs.get("file_name")


def build(rows: int) -> tuple[User, bytes]:
    """Groups holding `rows` contributions, and a file paying every one."""
    owner = User.objects.create(
        username="bench-owner", is_staff=True, is_superuser=True
    )
    coordinator = User.objects.create(username="bench-coordinator", is_staff=True)
    n = 0
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["group", "member", "round", "amount_paid", "paid_on", "method", "reference"]
    )
    for g in range(rows // (PLACES * PLACES)):
        group = ThriftGroup.objects.create(
            name=f"Bench Ajo {g + 1}",
            contribution_amount=Decimal("5000.00"),
            start_date="2026-01-01",
            frequency="daily",
            coordinator=coordinator,
        )
        members = []
        for _ in range(PLACES):
            n += 1
            members.append(
                User(
                    username=f"bench{n}",
                    first_name="Bench",
                    last_name=f"No{n}",
                    phone=f"0803{n:07d}",
                )
            )
        User.objects.bulk_create(members)
        members = list(
            User.objects.filter(username__in=[m.username for m in members]).order_by(
                "pk"
            )
        )
        Membership.objects.bulk_create(
            [
                Membership(group=group, member=m, position=i + 1)
                for i, m in enumerate(members)
            ]
        )
        services.start_cycle(group, by=owner, route="bench")
        for number in range(1, PLACES + 1):
            for m in members:
                writer.writerow(
                    [
                        group.name,
                        m.phone,
                        number,
                        "5,000.00",
                        "2026-02-01",
                        "transfer",
                        f"B{number}",
                    ]
                )
    return coordinator, out.getvalue().encode("utf-8")


def _run(resource_class, data, user_pk, dry_run, queue):
    connections.close_all()
    user = User.objects.get(pk=user_pk)
    dataset = CSVFile().create_dataset(data)
    profile = os.environ.get("BENCH_PROFILE")
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    result = resource_class(user=user).import_data(
        dataset,
        dry_run=dry_run,
        use_transactions=True,
        rollback_on_validation_errors=True,
        file_name="bench.csv",
        user=user,
    )
    elapsed = time.perf_counter() - started
    if profile:
        profiler.disable()
        profiler.dump_stats(f"{profile}-{resource_class.__name__}-{dry_run}.prof")
    errors = result.has_errors() or result.has_validation_errors()
    if errors and hasattr(result, "error_messages"):
        print(result.error_messages()[:3], file=sys.stderr)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((elapsed, peak, errors, dict(result.totals)))


def measure(resource_class, data, user, dry_run):
    """Run one phase in a forked child; return seconds and peak MiB."""
    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(
        target=_run, args=(resource_class, data, user.pk, dry_run, queue)
    )
    child.start()
    elapsed, peak, errors, totals = queue.get()
    child.join()
    if errors:
        raise SystemExit(f"{resource_class.__name__} reported errors: {totals}")
    return elapsed, peak


def reset() -> None:
    """Unpay every contribution so the next importer starts from the same
    state. Bench only: the product never updates money in bulk."""
    Contribution.objects.update(
        amount_paid=0,
        status="pending",
        paid_on=None,
        method="",
        reference="",
        recorded_by=None,
    )
    Contribution.history.filter(history_change_reason="import: bench.csv").delete()
    CollectionMonth.objects.all().delete()


def bench(rows: int, plain: bool) -> None:
    with transaction.atomic():
        user, data = build(rows)
    print(f"\n{rows:,} rows, {len(data) / 1e6:.1f} MB CSV, {connection.vendor}")
    print(f"{'importer':<10} {'phase':<8} {'seconds':>8} {'rows/s':>8} {'peak MiB':>9}")
    ours = {}
    for phase, dry_run in (("preview", True), ("confirm", False)):
        elapsed, peak = measure(ContributionResource, data, user, dry_run)
        ours[phase] = elapsed
        print(
            f"{'ours':<10} {phase:<8} {elapsed:8.1f} {rows / elapsed:8.0f} {peak:9.0f}"
        )
    paid = Contribution.objects.filter(status="paid").count()
    history = Contribution.history.filter(
        history_change_reason="import: bench.csv"
    ).count()
    print(f"paid after confirm: {paid:,}; history rows: {history:,}")
    if not plain:
        return
    reset()
    for phase, dry_run in (("preview", True), ("confirm", False)):
        elapsed, peak = measure(PlainContributionResource, data, user, dry_run)
        print(
            f"{'plain':<10} {phase:<8} {elapsed:8.1f} {rows / elapsed:8.0f} {peak:9.0f}"
        )
        print(f"{'':<10} {'ratio':<8} {elapsed / ours[phase]:8.1f}x faster (ours)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="*", type=int, default=[10_000])
    parser.add_argument(
        "--no-plain", action="store_true", help="skip the plain importer"
    )
    parser.add_argument(
        "--plain-max",
        type=int,
        default=None,
        help="run the plain importer only for sizes up to this many rows",
    )
    args = parser.parse_args()
    for rows in args.rows:
        if rows % (PLACES * PLACES):
            raise SystemExit(f"rows must be a multiple of {PLACES * PLACES:,}")
    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        for rows in args.rows:
            with transaction.atomic():
                Contribution.history.all().delete()
            plain = not args.no_plain and rows <= (args.plain_max or rows)
            bench(rows, plain=plain)
            _clear()
    finally:
        connections.close_all()
        creation.destroy_test_db(old_name, verbosity=0)


def _clear() -> None:
    """Empty the tables between sizes (children committed their work)."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)


if __name__ == "__main__":
    main()
