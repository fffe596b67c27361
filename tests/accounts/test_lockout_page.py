"""The sign-in lockout page says how long the lock lasts, in words."""

import datetime

import pytest

from accounts.templatetags.account_tags import duration_words
from tests.factories import make_staff

LOGIN = "/admin/login/"


@pytest.mark.parametrize(
    "delta, words",
    [
        (datetime.timedelta(minutes=30), "30 minutes"),
        (datetime.timedelta(minutes=1), "1 minute"),
        (datetime.timedelta(hours=1), "1 hour"),
        (datetime.timedelta(minutes=90), "1 hour 30 minutes"),
        (datetime.timedelta(hours=2, minutes=1), "2 hours 1 minute"),
        (datetime.timedelta(days=1, hours=3), "1 day 3 hours"),
        (datetime.timedelta(seconds=45), "45 seconds"),
        # What django-axes makes of a cool-off given in fractions of an hour.
        (datetime.timedelta(minutes=(7 / 60) * 60), "7 minutes"),
        (datetime.timedelta(seconds=1799.6), "30 minutes"),
    ],
)
def test_durations_read_in_words(delta, words):
    assert duration_words(delta) == words


@pytest.mark.parametrize(
    "value",
    [None, "", "0:30:00", 30, datetime.timedelta(0), datetime.timedelta(minutes=-5)],
)
def test_no_duration_reads_as_nothing(value):
    assert duration_words(value) == ""


@pytest.fixture
def locked_out(settings, client, db):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    user = make_staff(username="treasurer")
    user.set_password("right-password-123")
    user.save()

    def lock():
        for _ in range(3):
            client.post(LOGIN, {"username": "treasurer", "password": "wrong"})
        response = client.post(LOGIN, {"username": "treasurer", "password": "wrong"})
        assert response.status_code == 429
        return response.content.decode()

    return lock


def test_lockout_page_gives_the_default_cool_off_in_words(settings, locked_out):
    assert settings.AXES_COOLOFF_TIME == datetime.timedelta(minutes=30)

    page = locked_out()

    assert "After 3 wrong passwords" in page
    assert "locked from this address for 30 minutes." in page
    assert "h:mm:ss" not in page
    assert "0:30:00" not in page


@pytest.mark.parametrize(
    "cooloff, words",
    [
        (datetime.timedelta(hours=1), "for 1 hour."),
        (datetime.timedelta(minutes=90), "for 1 hour 30 minutes."),
        (datetime.timedelta(minutes=5), "for 5 minutes."),
    ],
)
def test_lockout_page_follows_the_setting(settings, locked_out, cooloff, words):
    settings.AXES_COOLOFF_TIME = cooloff

    assert f"locked from this address {words}" in locked_out()


def test_lockout_page_without_a_cool_off_names_no_time(settings, locked_out):
    # No cool-off: the lock lasts until the platform owner clears it.
    settings.AXES_COOLOFF_TIME = None

    page = locked_out()

    assert "locked from this address. Try again later" in page
