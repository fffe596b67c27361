import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from thrift_ms.settings import check_production_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("key", ["", "change-me", "  "])
def test_placeholder_secret_key_is_refused_without_debug(key):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        check_production_settings(False, key, ["thrift.example.ng"])


def test_empty_allowed_hosts_is_refused_without_debug():
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS"):
        check_production_settings(False, "k" * 50, ["", " "])


def test_debug_allows_development_defaults():
    check_production_settings(True, "", [])


def test_real_values_pass_without_debug():
    check_production_settings(False, "k" * 50, ["thrift.example.ng"])


def run_check(**env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO", "SECRET", "ALLOWED", "DEBUG"))
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "env, named",
    [
        ({"DEBUG": "False", "SECRET_KEY": "", "ALLOWED_HOSTS": "x.ng"}, "SECRET_KEY"),
        (
            {"DEBUG": "False", "SECRET_KEY": "change-me", "ALLOWED_HOSTS": "x.ng"},
            "SECRET_KEY",
        ),
        (
            {"DEBUG": "False", "SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": ""},
            "ALLOWED_HOSTS",
        ),
        ({"DEBUG": "True", "DB_ENGINE": "oracle"}, "DB_ENGINE"),
    ],
)
def test_start_up_stops_with_one_line_naming_the_variable(env, named):
    result = run_check(**env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Configuration error: ")
    assert named in lines[0]


def cooloff_in(**env) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    environment.update(env)
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings; print(repr(settings.AXES_COOLOFF_TIME))",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode:
        return result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_login_cool_off_is_read_in_whole_minutes():
    assert cooloff_in(THRIFT_LOGIN_COOLOFF_MINUTES="90") == (
        "datetime.timedelta(seconds=5400)"
    )


def test_a_cool_off_under_a_minute_is_refused():
    refusal = cooloff_in(THRIFT_LOGIN_COOLOFF_MINUTES="0")

    assert "THRIFT_LOGIN_COOLOFF_MINUTES must be at least 1; got 0." in refusal
