"""Every route leaves history with the acting user and the route; history
pages show readable diffs; revert is for groups and places only."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import User
from tests.factories import make_group, make_places, make_user, running_group
from thrift import services
from thrift.models import (
    Contribution,
    Cycle,
    Membership,
    Payout,
    PositionSwap,
    Round,
    ThriftGroup,
)

pytestmark = pytest.mark.django_db

AUDITED = [User, ThriftGroup, Membership, Cycle, Round, Contribution, Payout]
AUDITED += [PositionSwap]


def history_url(obj, *args):
    meta = obj._meta
    return reverse(
        f"admin:{meta.app_label}_{meta.model_name}_history", args=[obj.pk, *args]
    )


def revert_url(obj, history_id):
    meta = obj._meta
    return reverse(
        f"admin:{meta.app_label}_{meta.model_name}_simple_history",
        args=[obj.pk, history_id],
    )


def latest(obj):
    return obj.history.order_by("-history_date", "-history_id").first()


# --- routes -------------------------------------------------------------


def group_form(group: ThriftGroup, **changes) -> dict:
    data = {
        "name": group.name,
        "coordinator": group.coordinator_id,
        "status": group.status,
        "contribution_amount": str(group.contribution_amount),
        "currency": group.currency,
        "frequency": group.frequency,
        "start_date": group.start_date.isoformat(),
        "fee_type": group.fee_type,
        "fee_value": str(group.fee_value),
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "rounds-TOTAL_FORMS": "0",
        "rounds-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_admin_form_save_records_user_and_route(owner_client, owner):
    group = make_group(contribution_amount=Decimal("10000.00"))
    url = reverse("admin:thrift_thriftgroup_change", args=[group.pk])

    response = owner_client.post(url, group_form(group, contribution_amount="12500"))

    assert response.status_code == 302
    row = latest(group)
    assert (row.history_type, row.history_user, row.history_change_reason) == (
        "~",
        owner,
        "admin form",
    )
    assert row.contribution_amount == Decimal("12500.00")


def test_admin_delete_records_user_and_route_and_keeps_history(owner_client, owner):
    group = make_group()
    place = services.join_group(group, make_user(), by=owner, route="test")
    url = reverse("admin:thrift_membership_delete", args=[place.pk])

    response = owner_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=place.pk).exists()
    rows = list(Membership.history.filter(id=place.pk).order_by("history_date"))
    assert [
        (r.history_type, r.history_user, r.history_change_reason) for r in rows
    ] == [
        ("+", owner, "test"),
        ("-", owner, "admin form"),
    ]


def test_admin_bulk_delete_action_names_the_action(owner_client, owner):
    group = make_group()
    places = [
        services.join_group(group, make_user(), by=owner, route="test") for _ in "ab"
    ]
    url = reverse("admin:thrift_membership_changelist")

    response = owner_client.post(
        url,
        {
            "action": "delete_selected",
            "_selected_action": [p.pk for p in places],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    deleted = Membership.history.filter(history_type="-").order_by("id")
    assert [(r.id, r.history_user, r.history_change_reason) for r in deleted] == [
        (p.pk, owner, "admin action: delete_selected") for p in places
    ]


def test_service_call_records_admin_action_route(coordinator):
    group, _, cycle = running_group(places=2, coordinator=coordinator)
    contribution = Contribution.objects.filter(round__cycle=cycle).first()

    services.pay_contribution(
        contribution, by=coordinator, route="admin action: mark_paid"
    )

    row = latest(contribution)
    assert (row.history_user, row.history_change_reason, row.status) == (
        coordinator,
        "admin action: mark_paid",
        "paid",
    )


def test_import_route_string_is_recorded(coordinator):
    group = make_group(coordinator=coordinator)
    member = make_user()

    place = services.join_group(
        group, member, by=coordinator, route="import: memberships-2026-12.xlsx"
    )

    row = latest(place)
    assert (row.history_type, row.history_user, row.history_change_reason) == (
        "+",
        coordinator,
        "import: memberships-2026-12.xlsx",
    )


def test_load_demo_records_the_user_given(roles, owner):
    call_command("load_demo", user=owner.username, stdout=io.StringIO())

    for model in AUDITED:
        rows = model.history.exclude(id=owner.pk) if model is User else model.history
        assert rows.exists(), model
        # The sample files go in through the importer, which names its file.
        assert set(rows.values_list("history_user", "history_change_reason")) <= {
            (owner.pk, "command: load_demo"),
            (owner.pk, "import: members.csv"),
            (owner.pk, "import: groups.csv"),
            (owner.pk, "import: memberships.csv"),
        }, model


@pytest.mark.parametrize(
    ("username", "message"),
    [("nobody", "No user named 'nobody'."), ("member", "is not an active superuser")],
)
def test_load_demo_refuses_an_unknown_or_ordinary_user(roles, username, message):
    make_user(username="member")

    with pytest.raises(CommandError, match=message):
        call_command("load_demo", user=username, stdout=io.StringIO())

    assert ThriftGroup.objects.count() == 0
    assert Contribution.history.count() == 0


def test_login_writes_no_history(client, owner):
    before = User.history.count()

    client.force_login(owner)

    assert User.history.count() == before


# --- no write around history --------------------------------------------


def snapshot() -> dict:
    """Every row of every audited table, by (model, pk)."""
    rows = {}
    for model in AUDITED:
        names = [f.attname for f in model._meta.concrete_fields]
        for values in model.objects.values_list(*names):
            rows[model, values[0]] = values
    return rows


def history_marks() -> dict:
    return {
        model: model.history.order_by("-history_id")
        .values_list("history_id", flat=True)
        .first()
        or 0
        for model in AUDITED
    }


def assert_history_covers(before: dict, marks: dict, by: User, route: str) -> int:
    """Each row the operation wrote has history naming `by` and `route`,
    whose latest version equals the row; no history without a change."""
    after = snapshot()
    changed = {key for key, values in after.items() if before.get(key) != values}
    new_history = []
    for model in AUDITED:
        new_history += [
            (model, r)
            for r in model.history.filter(history_id__gt=marks[model]).order_by(
                "history_id"
            )
        ]
    assert {(model, r.id) for model, r in new_history} == changed
    assert {(r.history_user_id, r.history_change_reason) for _, r in new_history} == {
        (by.pk, route)
    }
    for model, pk in changed:
        names = [f.attname for f in model._meta.concrete_fields]
        last = model.history.filter(id=pk).order_by("-history_id").first()
        excluded = set(model.history.model._history_excluded_fields or [])
        for i, name in enumerate(names):
            if name not in excluded:
                assert getattr(last, name) == after[model, pk][i], (model, pk, name)
    return len(new_history)


def run_checked(operation, by, route="admin action: test"):
    before, marks = snapshot(), history_marks()
    operation()
    return assert_history_covers(before, marks, by, route)


def test_join_group_writes_through_history(coordinator):
    group = make_group(coordinator=coordinator)
    member = make_user()

    count = run_checked(
        lambda: services.join_group(
            group, member, by=coordinator, route="admin action: test"
        ),
        coordinator,
    )

    assert count == 1


def test_start_cycle_writes_through_history(coordinator):
    group = make_group(coordinator=coordinator)
    make_places(group, 3)

    count = run_checked(
        lambda: services.start_cycle(group, by=coordinator, route="admin action: test"),
        coordinator,
    )

    # 3 positions set, the cycle, 3 rounds, 9 contributions, the group's status.
    assert count == 3 + 1 + 3 + 9 + 1


def test_mark_paid_and_record_payout_write_through_history(coordinator):
    group, _, cycle = running_group(places=2, coordinator=coordinator)
    first = cycle.rounds.get(number=1)
    contributions = list(first.contributions.all())

    paid = run_checked(
        lambda: services.mark_paid(
            contributions, by=coordinator, route="admin action: test"
        ),
        coordinator,
    )
    paid_out = run_checked(
        lambda: services.record_payout(
            first, by=coordinator, route="admin action: test"
        ),
        coordinator,
    )

    assert (paid, paid_out) == (2, 2)


def test_swap_positions_writes_through_history(coordinator):
    group, places, cycle = running_group(places=3, coordinator=coordinator)

    count = run_checked(
        lambda: services.swap_positions(
            places[1],
            places[2],
            reason="agreed",
            by=coordinator,
            route="admin action: test",
        ),
        coordinator,
    )

    # The swap, three saves of places and three of rounds (through empty).
    assert count == 1 + 3 + 3


def test_leave_group_writes_through_history(coordinator):
    group, places, cycle = running_group(places=3, coordinator=coordinator)

    count = run_checked(
        lambda: services.leave_group(
            places[2],
            by=coordinator,
            route="admin action: test",
            today=datetime.date(2026, 1, 1),
        ),
        coordinator,
    )

    # The place, its round cancelled, its three shares and the others' two
    # shares of its round waived.
    assert count == 1 + 1 + 3 + 2


def test_close_cycle_writes_through_history(coordinator):
    group, places, cycle = running_group(places=2, coordinator=coordinator)
    for r in cycle.rounds.order_by("number"):
        services.mark_paid(r.contributions.all(), by=coordinator, route="test")
        services.record_payout(r, by=coordinator, route="test")

    count = run_checked(
        lambda: services.close_cycle(cycle, by=coordinator, route="admin action: test"),
        coordinator,
    )

    assert count == 2


# --- history pages ------------------------------------------------------


def test_history_page_shows_money_change_in_naira(owner_client, owner):
    group, _, cycle = running_group(places=2, contribution_amount=Decimal("50000"))
    contribution = Contribution.objects.filter(round__cycle=cycle).first()
    services.pay_contribution(
        contribution,
        by=owner,
        route="admin action: mark_paid",
        amount=Decimal("20000"),
        paid_on=datetime.date(2026, 2, 1),
    )

    response = owner_client.get(history_url(contribution))

    content = response.content.decode()
    assert response.status_code == 200
    assert (
        '<strong>Amount paid:</strong> <span class="audit-old">'
        '₦0.00</span> &rarr; <span class="audit-new">₦20,000.00</span>'
    ) in " ".join(content.split())
    assert "admin action: mark_paid" in content
    assert "Platform" not in content  # the owner fixture has no such name
    assert owner.display_name in content


def test_history_page_shows_foreign_key_change_by_name(owner_client, owner):
    group, places, cycle = running_group(places=3)
    first_name = places[1].member.display_name
    second_name = places[2].member.display_name
    services.swap_positions(
        places[1], places[2], reason="agreed", by=owner, route="admin action: swap"
    )
    round_two = cycle.rounds.get(number=2)

    response = owner_client.get(history_url(round_two))

    content = response.content.decode()
    assert (
        f'<span class="audit-old">{first_name}</span> &rarr; '
        '<span class="audit-new">—</span>'
    ) in content
    assert (
        '<span class="audit-old">—</span> &rarr; '
        f'<span class="audit-new">{second_name}</span>'
    ) in content
    assert f"Membership #{places[1].pk}" not in content


def test_history_page_of_a_left_place_shows_when_it_left(owner_client, owner):
    group = make_group()
    (place,) = make_places(group, 1)
    services.leave_group(place, by=owner, route="admin action: leave_group")

    content = owner_client.get(history_url(place)).content.decode()

    assert "<strong>Left at:</strong>" in content


def test_another_groups_history_is_not_found(client, coordinator, other_coordinator):
    group, _, cycle = running_group(places=2, coordinator=other_coordinator)
    contribution = Contribution.objects.filter(round__cycle=cycle).first()
    client.force_login(coordinator)

    assert client.get(history_url(contribution)).status_code == 404
    assert client.get(history_url(group)).status_code == 404


def test_history_page_query_count_does_not_grow(
    owner_client, owner, django_assert_max_num_queries
):
    group = make_group()
    for n in range(60):
        group.name = f"Renamed {n}"
        services.stamp(group, owner, "test").save()

    with django_assert_max_num_queries(20):
        response = owner_client.get(history_url(group))

    assert response.status_code == 200
    assert response.content.decode().count('class="history-~"') == 50


# --- reverting ----------------------------------------------------------


def test_superuser_reverts_a_group(owner_client, owner):
    group = make_group(name="Market Women")
    first = latest(group)
    group.name = "Market Women Renamed"
    services.stamp(group, owner, "test").save()

    response = owner_client.post(
        revert_url(group, first.history_id), group_form(first.instance)
    )

    assert response.status_code == 302
    group.refresh_from_db()
    assert group.name == "Market Women"
    row = latest(group)
    assert (row.history_user, row.history_change_reason) == (
        owner,
        "admin form: revert",
    )


def test_superuser_reverts_a_membership(owner_client, owner):
    group = make_group()
    place = services.join_group(group, make_user(), by=owner, route="test")
    first = latest(place)
    place.position = 3
    services.stamp(place, owner, "test").save()
    joined = first.joined_at.astimezone(datetime.UTC)

    response = owner_client.post(
        revert_url(place, first.history_id),
        {
            "group": group.pk,
            "member": place.member_id,
            "position": "",
            "joined_at_0": joined.date().isoformat(),
            "joined_at_1": joined.time().isoformat(),
        },
    )

    assert response.status_code == 302
    place.refresh_from_db()
    assert place.position is None
    assert latest(place).history_change_reason == "admin form: revert"


def test_coordinator_may_not_revert_their_own_group(client, coordinator):
    group = make_group(name="Before", coordinator=coordinator)
    first = latest(group)
    group.name = "After"
    services.stamp(group, coordinator, "test").save()
    client.force_login(coordinator)

    page = client.get(history_url(group))
    response = client.post(
        revert_url(group, first.history_id), group_form(first.instance)
    )

    assert "revert to this" not in page.content.decode()
    assert response.status_code == 403
    group.refresh_from_db()
    assert group.name == "After"


@pytest.mark.parametrize("model", [Contribution, Payout, Cycle, Round])
def test_money_records_cannot_be_reverted(owner_client, owner, model):
    group, _, cycle = running_group(places=2)
    first_round = cycle.rounds.get(number=1)
    services.mark_paid(first_round.contributions.all(), by=owner, route="test")
    services.record_payout(first_round, by=owner, route="test")
    obj = model.objects.order_by("pk").first()
    version = obj.history.order_by("history_id").first()
    before = model.objects.filter(pk=obj.pk).values().get()

    page = owner_client.get(history_url(obj))
    view = owner_client.get(revert_url(obj, version.history_id))
    post = owner_client.post(revert_url(obj, version.history_id), {})

    assert "revert to this" not in page.content.decode()
    assert (view.status_code, post.status_code) == (403, 403)
    assert model.objects.filter(pk=obj.pk).values().get() == before


def test_history_page_of_every_audited_model_renders(owner_client, owner):
    group, places, cycle = running_group(places=3)
    first = cycle.rounds.get(number=1)
    services.mark_paid(first.contributions.all(), by=owner, route="test")
    services.record_payout(first, by=owner, route="test")
    services.swap_positions(places[1], places[2], reason="agreed", by=owner, route="t")

    statuses = {}
    for model in AUDITED:
        obj = model.objects.order_by("pk").first()
        response = owner_client.get(history_url(obj))
        statuses[model.__name__] = (
            response.status_code,
            'class="history-+"' in response.content.decode(),
        )

    assert statuses == {model.__name__: (200, True) for model in AUDITED}


def test_admin_saves_without_their_own_route_are_named_admin_form(owner_client, owner):
    member = make_user()
    url = reverse("admin:auth_user_password_change", args=[member.pk])

    response = owner_client.post(
        url,
        {
            "password1": "a-Long-pass-2026",
            "password2": "a-Long-pass-2026",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302
    row = latest(member)
    assert (row.history_type, row.history_user, row.history_change_reason) == (
        "~",
        owner,
        "admin form",
    )
