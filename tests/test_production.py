"""Deployment settings, login protection and error pages."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from tests.factories import make_staff

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "False",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "thrift.example.ng",
    "CSRF_TRUSTED_ORIGINS": "https://thrift.example.ng",
}


def manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_documented_production_env():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_admin_path_comes_from_the_environment():
    result = manage(
        "shell",
        "-c",
        "from django.urls import reverse; print(reverse('admin:index'))",
        THRIFT_ADMIN_PATH="/back-office/",
        DEBUG="True",
    )
    assert result.stdout.strip().splitlines()[-1] == "/back-office/"


LOGIN = "/admin/login/"


def fail_login(client, username, times):
    for _ in range(times):
        client.post(LOGIN, {"username": username, "password": "wrong"})


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_account_from_that_address(client, axes_on):
    user = make_staff(username="treasurer")
    user.set_password("right-password-123")
    user.save()

    fail_login(client, "treasurer", 3)
    response = client.post(
        LOGIN, {"username": "treasurer", "password": "right-password-123"}
    )

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    # The refused attempt with the right password counts as a fourth.
    assert AccessAttempt.objects.get(username="treasurer").failures_since_start == 4


@pytest.mark.django_db
def test_a_lock_does_not_reach_other_addresses(client, axes_on):
    user = make_staff(username="treasurer")
    user.set_password("right-password-123")
    user.save()
    fail_login(client, "treasurer", 3)

    response = client.post(
        LOGIN,
        {"username": "treasurer", "password": "right-password-123"},
        REMOTE_ADDR="127.0.0.9",
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_superuser_sees_and_clears_a_lock(client, owner, axes_on):
    user = make_staff(username="treasurer")
    user.set_password("right-password-123")
    user.save()
    fail_login(client, "treasurer", 3)
    attempt = AccessAttempt.objects.get(username="treasurer")

    client.force_login(owner)
    listing = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert "treasurer" in listing.content.decode()
    client.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    client.logout()

    assert not AccessAttempt.objects.exists()
    response = client.post(
        LOGIN, {"username": "treasurer", "password": "right-password-123"}
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_coordinator_cannot_see_locks(client, coordinator):
    client.force_login(coordinator)
    response = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert response.status_code == 403


@pytest.mark.django_db
def test_members_cannot_log_in_to_the_admin(client):
    member = make_staff(username="member", is_staff=False)
    member.set_password("right-password-123")
    member.save()
    response = client.post(
        LOGIN, {"username": "member", "password": "right-password-123"}
    )
    assert response.status_code == 200
    assert "staff account" in response.content.decode()


@pytest.mark.django_db
def test_error_page_without_debug_shows_no_traceback(client, settings, owner):
    settings.DEBUG = False
    client.raise_request_exception = False
    client.force_login(owner)
    response = client.get("/admin/thrift/contribution/not-a-number/change/")
    # The admin turns a bad id into a redirect with a message; an unknown
    # URL is a plain 404 page of ours.
    missing = client.get("/no-such-page/")
    assert response.status_code in (302, 404)
    assert missing.status_code == 404
    body = missing.content.decode()
    assert "does not exist" in body
    assert "Traceback" not in body
