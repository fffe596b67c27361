import io

import pytest
from django.core.management import call_command

from accounts.roles import AUDITORS, COORDINATORS, role_group
from tests.factories import make_staff, make_user


@pytest.fixture(autouse=True)
def _no_login_lockouts(settings):
    # django-axes needs the request at authenticate(), which the test
    # client's login() does not pass; tests of the lockout turn it on.
    settings.AXES_ENABLED = False


@pytest.fixture
def roles(db):
    call_command("setup_roles", stdout=io.StringIO())


@pytest.fixture
def owner(db):
    return make_user(username="owner", is_staff=True, is_superuser=True)


@pytest.fixture
def coordinator(roles):
    user = make_staff(username="coord")
    user.groups.add(role_group(COORDINATORS))
    return user


@pytest.fixture
def other_coordinator(roles):
    user = make_staff(username="coord2")
    user.groups.add(role_group(COORDINATORS))
    return user


@pytest.fixture
def auditor(roles):
    user = make_staff(username="auditor")
    user.groups.add(role_group(AUDITORS))
    return user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("mysql"):
        return
    skip = pytest.mark.skip(reason="needs MariaDB/MySQL: run with DB_ENGINE=mysql")
    for item in items:
        if "mysql_only" in item.keywords:
            item.add_marker(skip)
