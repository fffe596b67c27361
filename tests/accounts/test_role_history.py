"""A user's roles are part of their history: granting or taking one away
shows on the user's history page and in the audit log, with who did it."""

import importlib
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from accounts.roles import AUDITORS, COORDINATORS, role_group
from reports import audit
from tests.factories import make_staff
from thrift import services

pytestmark = pytest.mark.django_db


def versions(user):
    return list(User.history.filter(id=user.pk).order_by("history_date", "history_id"))


def described(user) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """(change, route, [(field, old, new)]) of each version, oldest first."""
    rows = audit.with_previous(User.history.filter(id=user.pk))
    audit.describe(rows, audit.Names())
    rows.sort(key=lambda r: (r.history_date, r.history_id))
    return [
        (r.history_type, r.route, [(c.field, c.old, c.new) for c in r.changes])
        for r in rows
    ]


def user_form(user, **changes):
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "phone": user.phone or "",
        "bank_name": user.bank_name,
        "account_number": user.account_number,
        "account_name": user.account_name,
        "is_active": "on",
        "is_staff": "on",
        "groups": [g.pk for g in user.groups.all()],
    }
    data.update(changes)
    return data


@pytest.fixture
def treasurer(roles, owner):
    return services.stamp(
        make_staff(username="treasurer", first_name="Tolu", last_name="Ade"),
        owner,
        "test",
    )


def test_granting_a_role_from_the_user_form_names_who_did_it(
    owner_client, owner, treasurer
):
    coordinators = role_group(COORDINATORS)
    change_url = reverse("admin:accounts_user_change", args=[treasurer.pk])

    response = owner_client.post(
        change_url, user_form(treasurer, groups=[coordinators.pk])
    )

    assert response.status_code == 302
    assert list(treasurer.groups.values_list("name", flat=True)) == [COORDINATORS]
    latest = versions(treasurer)[-1]
    assert (latest.history_user, latest.history_change_reason) == (
        owner,
        "admin form",
    )
    assert described(treasurer)[-1] == (
        "~",
        "admin form",
        [("Roles", "—", "Coordinators")],
    )


def test_saving_the_user_form_without_a_role_change_records_no_role_row(
    owner_client, treasurer
):
    treasurer.groups.add(role_group(AUDITORS))
    before = len(versions(treasurer))

    owner_client.post(
        reverse("admin:accounts_user_change", args=[treasurer.pk]),
        user_form(treasurer, first_name="Tolulope"),
    )

    assert len(versions(treasurer)) == before + 1
    assert described(treasurer)[-1][2] == [("First name", "Tolu", "Tolulope")]


def test_taking_a_role_away_shows_what_is_left(owner, treasurer):
    treasurer.groups.add(role_group(COORDINATORS), role_group(AUDITORS))

    services.stamp(treasurer, owner, "command: demote").groups.remove(
        role_group(COORDINATORS)
    )

    assert described(treasurer)[-2:] == [
        ("~", "test", [("Roles", "—", "Auditors, Coordinators")]),
        ("~", "command: demote", [("Roles", "Auditors, Coordinators", "Auditors")]),
    ]
    assert versions(treasurer)[-1].history_user == owner


def test_adding_a_role_already_held_records_nothing(treasurer):
    treasurer.groups.add(role_group(AUDITORS))
    before = len(versions(treasurer))

    treasurer.groups.add(role_group(AUDITORS))
    treasurer.groups.remove(role_group(COORDINATORS))

    assert len(versions(treasurer)) == before


def test_roles_changed_from_the_role_side_are_recorded_per_user(owner, treasurer):
    other = make_staff(username="other")
    auditors = role_group(AUDITORS)

    auditors.user_set.add(treasurer, other)
    auditors.user_set.clear()

    for user in (treasurer, other):
        assert [c for _, _, c in described(user)][-2:] == [
            [("Roles", "—", "Auditors")],
            [("Roles", "Auditors", "—")],
        ]


def test_a_new_user_with_a_role_reads_as_created_then_granted(owner, roles):
    user = make_staff(username="newcomer")
    services.stamp(user, owner, "import: staff.csv").groups.add(
        role_group(COORDINATORS)
    )

    history = described(user)

    assert history[0][0] == "+"
    assert ("Roles", "—", "Coordinators") not in history[0][2]
    assert history[1] == ("~", "import: staff.csv", [("Roles", "—", "Coordinators")])


def test_role_change_shows_in_the_audit_log_and_its_export(
    client, auditor, owner, treasurer
):
    services.stamp(treasurer, owner, "admin form").groups.add(role_group(COORDINATORS))
    client.force_login(auditor)

    response = client.get(reverse("audit_log"), {"model": "accounts.user"})
    export = client.get(
        reverse("audit_log"), {"model": "accounts.user", "export": "csv"}
    )

    entry = response.context["entries"][0]
    assert (entry.record_id, entry.change, entry.route, entry.user) == (
        treasurer.pk,
        "changed",
        "admin form",
        owner,
    )
    assert [(c.field, c.old, c.new) for c in entry.changes] == [
        ("Roles", "—", "Coordinators")
    ]
    assert entry.changes_text() == "Roles: — -> Coordinators"
    assert (
        '<strong>Roles:</strong> <span class="audit-old">—</span> &rarr; '
        '<span class="audit-new">Coordinators</span>'
    ) in response.content.decode()
    assert "Roles: — -> Coordinators" in export.content.decode()


def test_role_change_shows_on_the_users_history_page(owner_client, owner, treasurer):
    services.stamp(treasurer, owner, "admin form").groups.add(role_group(AUDITORS))

    page = owner_client.get(reverse("admin:accounts_user_history", args=[treasurer.pk]))

    content = page.content.decode()
    assert page.status_code == 200
    assert "<strong>Roles:</strong>" in content
    assert '<span class="audit-new">Auditors</span>' in content


def test_a_deleted_role_is_named_as_deleted(owner, treasurer):
    temporary = role_group("Temporary")
    treasurer.groups.add(temporary)
    role_id = temporary.pk
    temporary.delete()

    assert described(treasurer)[-1][2] == [
        ("Roles", "—", f"group #{role_id} (deleted)")
    ]


def test_migration_records_the_roles_held_before_tracking(owner, treasurer):
    migration = importlib.import_module("accounts.migrations.0006_record_current_roles")
    treasurer.groups.add(role_group(AUDITORS))
    # As before roles were tracked: versions without their roles.
    audit.role_history().objects.all().delete()
    before = len(versions(treasurer))

    migration.record_current_roles(apps, None)
    services.stamp(treasurer, owner, "admin form").groups.add(role_group(COORDINATORS))

    assert len(versions(treasurer)) == before + 2
    assert described(treasurer)[-2:] == [
        ("~", migration.ROUTE, [("Roles", "—", "Auditors")]),
        ("~", "admin form", [("Roles", "Auditors", "Auditors, Coordinators")]),
    ]
    assert not User.history.filter(
        id=owner.pk, history_change_reason=migration.ROUTE
    ).exists()

    migration.forget_recorded_roles(apps, None)

    assert not User.history.filter(history_change_reason=migration.ROUTE).exists()


def test_demo_staff_roles_are_granted_by_the_acting_user(owner, roles):
    call_command("load_demo", "--user", owner.username, stdout=io.StringIO())
    amaka = User.objects.get(username="amaka.coordinator")
    rows = len(versions(amaka))

    call_command("load_demo", "--user", owner.username, stdout=io.StringIO())

    assert described(amaka)[-1] == (
        "~",
        "command: load_demo",
        [("Roles", "—", "Coordinators")],
    )
    assert versions(amaka)[-1].history_user == owner
    # Loading again grants nothing new and records nothing.
    assert len(versions(amaka)) == rows
