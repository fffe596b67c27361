"""Build a synthetic cooperative in the bench database with bulk inserts.

    python bench/build_data.py                      # 1,000,000 contributions
    python bench/build_data.py --contributions 100000
    python bench/build_data.py --contributions 10000000

The database (`thrift_bench`, or BENCH_DB_NAME) is dropped, created and
migrated first. Each group has 10 places and one cycle of 10 rounds, so
100 contributions; the number of groups follows from --contributions.
Rows go in with multi-row INSERTs in large batches, one transaction per
block of groups, with foreign-key and unique checks left on. Every row also
gets its creation row in the history tables, so the audit pages are measured
against real volume.
"""

import argparse
import datetime
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    AUDITOR,
    BENCH_DB,
    BENCH_PASSWORD,
    OWNER,
    coordinator_name,
    setup_django,
)

PLACES = 10
GROUPS_PER_COORDINATOR = 100
BLOCK = 500  # groups per transaction
BATCH = 5000  # rows per INSERT statement

FIRST = (
    "Adaeze Bola Chinedu Damilola Emeka Funke Gbenga Halima Ifeanyi Jumoke "
    "Kelechi Lola Musa Ngozi Obinna Patience Quadri Rukayat Segun Temitope "
    "Uche Victoria Wale Yetunde Zainab"
).split()
LAST = (
    "Adeyemi Balogun Chukwu Danjuma Eze Fashola Garba Ibrahim Johnson Kalu "
    "Lawal Mohammed Nwosu Okafor Olawale Peters Salami Tijani Uzor Yusuf"
).split()
BANKS = (
    "Access Bank",
    "First Bank",
    "GTBank",
    "UBA",
    "Zenith Bank",
    "Fidelity Bank",
    "Union Bank",
    "Wema Bank",
    "Sterling Bank",
    "Opay",
)
PLACES_NAMES = "Ikeja Yaba Surulere Lekki Ibadan Abeokuta Enugu Aba Kano Jos".split()
KINDS = "Market Traders,Civil Servants,Artisans,Church,Staff,Women".split(",")
METHODS = ("cash", "transfer", "transfer", "transfer", "card")


class Table:
    """Multi-row INSERTs of plain tuples into one model's table."""

    def __init__(self, cursor, model, *, history: bool = False, autoflush=True):
        from django.db import connection

        self.cursor = cursor
        self.autoflush = autoflush
        self.model = model
        fields = [f for f in model._meta.concrete_fields]
        if history:
            # history_id is the history table's auto primary key.
            fields = [f for f in fields if f.attname != "history_id"]
        self.columns = [f.attname for f in fields]
        self.defaults = {
            f.attname: f.get_db_prep_save(f.get_default(), connection)
            for f in fields
            if f.has_default() or f.null
        }
        names = ", ".join(f"`{f.column}`" for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        self.sql = f"INSERT INTO `{model._meta.db_table}` ({names}) VALUES ({marks})"
        self.rows: list[tuple] = []
        self.count = 0
        self.ids: list[int] = []

    def add(self, values: dict) -> None:
        self.ids.append(values["id"])
        row = []
        for name in self.columns:
            if name in values:
                row.append(values[name])
            else:
                row.append(self.defaults.get(name, ""))
        self.rows.append(tuple(row))
        if self.autoflush and len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.cursor.executemany(self.sql, self.rows)
            self.count += len(self.rows)
            self.rows = []


def copy_history(cursor, model, lo: int, hi: int, *, when: str, by: str) -> int:
    """Write the creation history row of `model` rows lo..hi inside the
    server, from the rows just inserted: the same values, no second trip."""
    history = model.history.model
    table = model._meta.db_table
    fields = [f for f in history._meta.concrete_fields if f.attname != "history_id"]
    source = {
        "history_date": when,
        "history_change_reason": "'bench build'",
        "history_type": "'+'",
        "history_user_id": by,
    }
    names = ", ".join(f"`{f.column}`" for f in fields)
    values = ", ".join(source.get(f.attname, f"t.`{f.column}`") for f in fields)
    join = ""
    if "g." in when or "g." in by:
        key = "id" if table == "thrift_thriftgroup" else "group_id"
        join = f"JOIN thrift_thriftgroup g ON g.id = t.`{key}`"
    cursor.execute(
        f"INSERT INTO `{history._meta.db_table}` ({names}) "
        f"SELECT {values} FROM `{table}` t {join} WHERE t.id BETWEEN %s AND %s",
        [lo, hi],
    )
    return cursor.rowcount


def recreate_database() -> None:
    import MySQLdb
    from django.conf import settings

    db = settings.DATABASES["default"]
    conn = MySQLdb.connect(
        host=db["HOST"], port=int(db["PORT"]), user=db["USER"], passwd=db["PASSWORD"]
    )
    cur = conn.cursor()
    cur.execute(f"DROP DATABASE IF EXISTS `{BENCH_DB}`")
    cur.execute(
        f"CREATE DATABASE `{BENCH_DB}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )
    conn.close()


def make_staff(coordinators: int):
    """The platform owner, an auditor and the coordinators, by the ORM."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from accounts.roles import AUDITORS, COORDINATORS, role_group

    password = make_password(BENCH_PASSWORD)
    owner = User.objects.create(
        username=OWNER,
        first_name="Bench",
        last_name="Owner",
        is_staff=True,
        is_superuser=True,
        password=password,
    )
    auditor = User.objects.create(
        username=AUDITOR,
        first_name="Bench",
        last_name="Auditor",
        is_staff=True,
        password=password,
    )
    auditor.groups.add(role_group(AUDITORS))
    staff = User.objects.bulk_create(
        [
            User(
                username=coordinator_name(n),
                first_name=FIRST[n % len(FIRST)],
                last_name=f"Coordinator {n}",
                is_staff=True,
                password=password,
            )
            for n in range(coordinators)
        ]
    )
    staff = list(User.objects.filter(username__startswith="bench_coord").order_by("pk"))
    role = role_group(COORDINATORS)
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=u.pk, group_id=role.pk) for u in staff]
    )
    return owner, [u.pk for u in staff]


def build(contributions: int, seed: int) -> dict:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import User
    from thrift.models import (
        CollectionMonth,
        Contribution,
        Cycle,
        Membership,
        Payout,
        Round,
        ThriftGroup,
        lagos_today,
    )

    rng = random.Random(seed)
    rounds_per_cycle = PLACES
    groups = max(1, contributions // (PLACES * rounds_per_cycle))
    members = groups * PLACES
    coordinators = max(1, groups // GROUPS_PER_COORDINATOR)
    timings = {}

    started = time.perf_counter()
    recreate_database()
    call_command("migrate", verbosity=0)
    call_command("setup_roles", verbosity=0)
    owner, coordinator_ids = make_staff(coordinators)
    timings["create and migrate"] = time.perf_counter() - started

    now = timezone.now().replace(tzinfo=None, microsecond=0)  # stored as UTC
    today = lagos_today()
    cursor = connection.cursor()
    # mysqlclient joins executemany() rows into INSERTs of at most this size.
    cursor.cursor.cursor.max_stmt_length = 4 * 1024 * 1024
    member_base = User.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1

    step = time.perf_counter()
    users = Table(cursor, User)
    with transaction.atomic():
        for i in range(members):
            first = FIRST[rng.randrange(len(FIRST))]
            last = LAST[rng.randrange(len(LAST))]
            bank = BANKS[i % len(BANKS)]
            values = {
                "id": member_base + i,
                "password": "!",
                "username": f"m{i:08d}",
                "first_name": first,
                "last_name": last,
                "email": "",
                "date_joined": now,
                "phone": f"+23480{i:08d}",
                "account_number": f"{i:010d}",
                "bank_name": bank,
                "account_name": f"{last} {first}".upper(),
            }
            users.add(values)
        users.flush()
        history_count = copy_history(
            cursor,
            User,
            member_base,
            member_base + members,
            when="t.date_joined",
            by=str(owner.pk),
        )
    timings["members"] = time.perf_counter() - step

    tables = {
        name: Table(cursor, model, autoflush=False)
        for name, model in (
            ("group", ThriftGroup),
            ("membership", Membership),
            ("cycle", Cycle),
            ("round", Round),
            ("contribution", Contribution),
            ("payout", Payout),
        )
    }
    order = ("group", "membership", "cycle", "round", "contribution", "payout")

    def add(name: str, values: dict, when, by_id) -> None:
        tables[name].add(values)

    step = time.perf_counter()
    ids = {"membership": 1, "round": 1, "contribution": 1}
    for block_start in range(0, groups, BLOCK):
        with transaction.atomic():
            for g in range(block_start, min(groups, block_start + BLOCK)):
                _add_group(g, add, ids, rng, today, member_base, coordinator_ids)
            for name in order:
                table = tables[name]
                if not table.rows:
                    continue
                lo, hi = table.ids[0], table.ids[-1]
                table.flush()
                table.ids = []
                when = "t.created_at" if name == "payout" else "g.created_at"
                history_count += copy_history(
                    cursor, table.model, lo, hi, when=when, by="g.coordinator_id"
                )
        done = min(groups, block_start + BLOCK)
        if done % (BLOCK * 10) == 0 or done == groups:
            print(
                f"  {done:>9,} groups  {ids['contribution'] - 1:>11,} contributions "
                f" {time.perf_counter() - step:7.1f} s",
                flush=True,
            )
    timings["groups, places, rounds, contributions, payouts"] = (
        time.perf_counter() - step
    )

    # The collections by month that the payment services keep as they go,
    # summed once here from the contributions written in bulk above.
    step = time.perf_counter()
    with transaction.atomic(), connection.cursor() as c:
        c.execute(
            f"INSERT INTO `{CollectionMonth._meta.db_table}` (group_id, month, amount) "
            "SELECT group_id, DATE_FORMAT(paid_on, '%%Y-%%m-01'), SUM(amount_paid) "
            f"FROM `{Contribution._meta.db_table}` "
            "WHERE amount_paid > 0 AND paid_on IS NOT NULL "
            "GROUP BY group_id, DATE_FORMAT(paid_on, '%%Y-%%m-01')",
            [],  # with parameters, %% reaches the database as %
        )
    timings["collection months"] = time.perf_counter() - step

    step = time.perf_counter()
    with connection.cursor() as c:
        for model in (
            User,
            ThriftGroup,
            Membership,
            Cycle,
            Round,
            Contribution,
            Payout,
        ):
            c.execute(f"ANALYZE TABLE `{model._meta.db_table}`")
            c.fetchall()
            c.execute(f"ANALYZE TABLE `{model.history.model._meta.db_table}`")
            c.fetchall()
    timings["analyze"] = time.perf_counter() - step
    timings["total"] = time.perf_counter() - started

    counts = {"members": users.count, "coordinators": coordinators}
    counts.update({f"{n}s": t.count for n, t in tables.items()})
    counts["history rows"] = history_count
    return {"counts": counts, "timings": timings}


def _add_group(g, add, ids, rng, today, member_base, coordinator_ids):
    """One group: 10 places, one open cycle of 10 rounds, 100 contributions
    (mostly paid in the past, some part-paid, unpaid or waived), and a
    payout for every round already due."""
    from thrift.models import add_months

    group_id = g + 1
    coordinator_id = coordinator_ids[g % len(coordinator_ids)]
    amount = Decimal(rng.choice(("5000.00", "10000.00", "20000.00", "50000.00")))
    weekly = rng.random() < 0.2
    if weekly:
        start = today - datetime.timedelta(weeks=rng.randrange(0, 13))
    else:
        start = add_months(today, -rng.randrange(0, 12))
    fee_type, fee_value = rng.choice(
        (
            ("none", Decimal("0")),
            ("percent", Decimal("2.00")),
            ("fixed", Decimal("500")),
        )
    )
    started = datetime.datetime.combine(start, datetime.time(9)) - datetime.timedelta(
        days=7
    )
    add(
        "group",
        {
            "id": group_id,
            "name": f"{PLACES_NAMES[g % 10]} {KINDS[g % 6]} Thrift {g + 1:06d}",
            "contribution_amount": amount,
            "currency": "NGN",
            "frequency": "weekly" if weekly else "monthly",
            "start_date": start,
            "coordinator_id": coordinator_id,
            "status": "active",
            "fee_type": fee_type,
            "fee_value": fee_value,
            "allow_multiple_places": False,
            "created_at": started,
        },
        started,
        coordinator_id,
    )
    places = []
    for position in range(1, PLACES + 1):
        place_id = ids["membership"]
        ids["membership"] += 1
        places.append(place_id)
        add(
            "membership",
            {
                "id": place_id,
                "group_id": group_id,
                "member_id": member_base + place_id - 1,
                "position": position,
                "joined_at": started,
                "left_at": None,
            },
            started,
            coordinator_id,
        )
    add(
        "cycle",
        {
            "id": group_id,
            "group_id": group_id,
            "number": 1,
            "start_date": start,
            "status": "open",
            "order_method": "join_order",
            "draw_seed": None,
            "started_by_id": coordinator_id,
            "started_at": started,
            "closed_at": None,
        },
        started,
        coordinator_id,
    )
    pot = amount * PLACES
    if fee_type == "percent":
        fee = (pot * fee_value / 100).quantize(Decimal("0.01"))
    else:
        fee = fee_value
    for number in range(1, PLACES + 1):
        if weekly:
            due = start + datetime.timedelta(weeks=number - 1)
        else:
            due = add_months(start, number - 1)
        past = due < today
        round_id = ids["round"]
        ids["round"] += 1
        all_in = True
        for place_id in places:
            c_id = ids["contribution"]
            ids["contribution"] += 1
            roll = rng.random()
            status, paid, paid_on, method, reference = (
                "pending",
                Decimal("0"),
                None,
                "",
                "",
            )
            if (past and roll < 0.88) or (not past and roll < 0.05):
                status, paid = "paid", amount
            elif past and roll < 0.93:
                paid = (amount / 2).quantize(Decimal("0.01"))
            elif past and roll > 0.99:
                status = "waived"
            if paid:
                paid_on = min(
                    today, due + datetime.timedelta(days=rng.randrange(-5, 3))
                )
                method = METHODS[c_id % len(METHODS)]
                reference = f"{method[:3].upper()}{c_id:010d}"
            all_in = all_in and status != "pending"
            add(
                "contribution",
                {
                    "id": c_id,
                    "group_id": group_id,
                    "round_id": round_id,
                    "membership_id": place_id,
                    "due_date": due,
                    "amount_due": amount,
                    "amount_paid": paid,
                    "status": status,
                    "paid_on": paid_on,
                    "method": method,
                    "reference": reference,
                    "recorded_by_id": coordinator_id if paid else None,
                    "updated_at": started,
                },
                started,
                coordinator_id,
            )
        add(
            "round",
            {
                "id": round_id,
                "group_id": group_id,
                "cycle_id": group_id,
                "number": number,
                "due_date": due,
                "recipient_id": places[number - 1],
                "status": "paid_out" if past else "open",
            },
            started,
            coordinator_id,
        )
        if past:
            paid_at = datetime.datetime.combine(due, datetime.time(15))
            add(
                "payout",
                {
                    "id": round_id,
                    "group_id": group_id,
                    "cycle_id": group_id,
                    "round_id": round_id,
                    "membership_id": places[number - 1],
                    "pot": pot,
                    "fee": fee,
                    "amount": pot - fee,
                    "paid_on": due,
                    "reference": f"PAY{round_id:010d}",
                    "override_reason": ""
                    if all_in
                    else "Paid on the agreed day; arrears to be chased.",
                    "recorded_by_id": coordinator_id,
                    "created_at": paid_at,
                },
                paid_at,
                coordinator_id,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contributions", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    setup_django()

    print(f"Building {args.contributions:,} contributions in {BENCH_DB}")
    result = build(args.contributions, args.seed)
    print("\nrows")
    for name, count in result["counts"].items():
        print(f"  {name:<16} {count:>12,}")
    print("\ntime")
    for name, seconds in result["timings"].items():
        print(f"  {name:<48} {seconds:8.1f} s")


if __name__ == "__main__":
    main()
