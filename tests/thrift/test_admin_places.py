"""Places added from the admin go through the joining rule, wherever they
are added."""

import datetime

import pytest
from django.urls import reverse

from tests.factories import make_group, make_places, make_user, running_group
from thrift.models import Membership, ThriftGroup, lagos_today

pytestmark = pytest.mark.django_db

ADD_PLACE = reverse("admin:thrift_membership_add")


def place_form(group, member, position=""):
    now = datetime.datetime(2026, 12, 1, 9, 0)
    return {
        "group": group.pk,
        "member": member.pk,
        "position": position,
        "joined_at_0": now.date().isoformat(),
        "joined_at_1": now.time().isoformat(),
    }


def test_a_place_added_on_its_page_joins_with_history(owner_client, owner):
    group = make_group()
    member = make_user()

    response = owner_client.post(ADD_PLACE, place_form(group, member, 1))

    assert response.status_code == 302
    place = Membership.objects.get(group=group)
    assert (place.member, place.position) == (member, 1)
    row = place.history.get()
    assert (row.history_user, row.history_change_reason) == (owner, "admin form")


def test_joining_while_a_cycle_runs_is_refused_on_the_form(owner_client):
    group, places, cycle = running_group(places=2)
    newcomer = make_user()

    response = owner_client.post(ADD_PLACE, place_form(group, newcomer))

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert errors == [
        f"{group} has a cycle running; {newcomer} can join when it closes."
    ]
    assert group.memberships.count() == 2


def test_a_second_place_needs_two_hands(owner_client):
    group = make_group()
    member = make_places(group, 1)[0].member

    response = owner_client.post(ADD_PLACE, place_form(group, member))

    assert response.status_code == 200
    assert "does not allow two hands" in str(
        response.context["adminform"].form.non_field_errors()
    )
    assert group.memberships.count() == 1

    ThriftGroup.objects.filter(pk=group.pk).update(allow_multiple_places=True)
    response = owner_client.post(ADD_PLACE, place_form(group, member))
    assert response.status_code == 302
    assert group.memberships.filter(member=member).count() == 2


def test_position_cannot_be_edited_while_a_cycle_runs(owner_client):
    group, places, cycle = running_group(places=2)
    first = group.memberships.get(position=1)
    url = reverse("admin:thrift_membership_change", args=[first.pk])

    page = owner_client.get(url)
    assert "position" not in page.context["adminform"].form.fields


def group_form(owner, members, **changes):
    data = {
        "name": "Ojota Traders Ajo",
        "coordinator": owner.pk,
        "status": "draft",
        "contribution_amount": "5000.00",
        "currency": "NGN",
        "frequency": "weekly",
        "start_date": lagos_today().isoformat(),
        "fee_type": "none",
        "fee_value": "0",
        "memberships-TOTAL_FORMS": str(len(members)),
        "memberships-INITIAL_FORMS": "0",
    }
    for n, member in enumerate(members):
        data[f"memberships-{n}-member"] = member.pk
        data[f"memberships-{n}-position"] = ""
        data[f"memberships-{n}-joined_at_0"] = "2026-12-01"
        data[f"memberships-{n}-joined_at_1"] = "09:00:00"
    data.update(changes)
    return data


def test_places_added_with_a_new_group_join_through_the_rule(owner_client, owner):
    first, second = make_user(), make_user()

    response = owner_client.post(
        reverse("admin:thrift_thriftgroup_add"), group_form(owner, [first, second])
    )

    assert response.status_code == 302
    group = ThriftGroup.objects.get(name="Ojota Traders Ajo")
    assert set(group.memberships.values_list("member", flat=True)) == {
        first.pk,
        second.pk,
    }
    routes = {r.history_change_reason for r in Membership.history.all()}
    assert routes == {"admin form"}


def test_the_same_member_twice_in_one_save_is_refused(owner_client, owner):
    member = make_user()

    response = owner_client.post(
        reverse("admin:thrift_thriftgroup_add"), group_form(owner, [member, member])
    )

    assert response.status_code == 200
    assert ThriftGroup.objects.count() == 0
    assert Membership.objects.count() == 0
    page = response.content.decode()
    assert "is listed twice, and this group does not allow two hands." in page
