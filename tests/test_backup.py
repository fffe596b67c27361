"""The documented mysqldump backup restores into a fresh database that
passes the ledger check."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import running_group
from thrift import services
from thrift.models import Contribution, Payout

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.mysql_only,
    pytest.mark.django_db(transaction=True),
]


def client_args(settings_dict) -> list[str]:
    args = [
        f"--host={settings_dict['HOST'] or '127.0.0.1'}",
        f"--port={settings_dict['PORT'] or 3306}",
        f"--user={settings_dict['USER']}",
    ]
    if settings_dict["PASSWORD"]:
        args.append(f"--password={settings_dict['PASSWORD']}")
    return args


@pytest.fixture
def restore_db():
    name = connection.settings_dict["NAME"] + "_restore"
    args = client_args(connection.settings_dict)
    drop = f"DROP DATABASE IF EXISTS `{name}`"
    subprocess.run(["mysql", *args, "-e", drop], check=True)
    subprocess.run(
        ["mysql", *args, "-e", f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"],
        check=True,
    )
    yield name
    subprocess.run(["mysql", *args, "-e", drop], check=True)


def test_dump_restores_and_passes_the_ledger_check(tmp_path, restore_db):
    if shutil.which("mysqldump") is None:
        pytest.fail("mysqldump is not installed; .ci/run installs it")
    group, places, cycle = running_group(places=3)
    r = cycle.rounds.get(number=1)
    services.mark_paid(r.contributions.all(), by=group.coordinator, route="test")
    services.record_payout(r, by=group.coordinator, route="test")

    source = connection.settings_dict
    args = client_args(source)
    dump = tmp_path / "backup.sql"
    with dump.open("w") as out:
        subprocess.run(
            [
                "mysqldump",
                *args,
                "--single-transaction",
                "--default-character-set=utf8mb4",
                source["NAME"],
            ],
            stdout=out,
            check=True,
        )
    with dump.open() as backup:
        subprocess.run(["mysql", *args, restore_db], stdin=backup, check=True)

    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    env.update(
        DB_ENGINE="mysql",
        DB_NAME=restore_db,
        DB_HOST=source["HOST"] or "127.0.0.1",
        DB_PORT=str(source["PORT"] or 3306),
        DB_USER=source["USER"],
        DB_PASSWORD=source["PASSWORD"],
    )
    check = subprocess.run(
        [sys.executable, "manage.py", "check_ledger"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "every invariant holds" in check.stdout

    counted = subprocess.run(
        [
            "mysql",
            *args,
            "-N",
            "-e",
            "SELECT (SELECT COUNT(*) FROM thrift_contribution), "
            "(SELECT COUNT(*) FROM thrift_payout), "
            "(SELECT COUNT(*) FROM thrift_historicalcontribution)",
            restore_db,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    contributions, payouts, history = map(int, counted.stdout.split())
    assert contributions == Contribution.objects.count() == 9
    assert payouts == Payout.objects.count() == 1
    assert history == Contribution.history.count()
