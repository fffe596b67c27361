"""Who sees and changes what in the admin: a coordinator only their own
groups' records however a URL is reached, an auditor everything and
nothing to change, a member nothing at all."""

import json

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import User
from tests.factories import make_group, make_user, running_group
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


def url(model, view, *args):
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def snapshot():
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (
            ThriftGroup,
            Membership,
            Cycle,
            Round,
            Contribution,
            Payout,
            PositionSwap,
        )
    }


def play(group, members, cycle):
    """A payout and a swap, so that every model has a record to reach."""
    by = group.coordinator
    services.mark_paid(cycle.rounds.get(number=1).contributions.all(), by=by, route="t")
    services.record_payout(cycle.rounds.get(number=1), by=by, route="t")
    services.swap_positions(members[1], members[2], reason="asked", by=by, route="t")


@pytest.fixture
def mine(coordinator):
    group, members, cycle = running_group(coordinator=coordinator)
    play(group, members, cycle)
    return group


@pytest.fixture
def theirs(other_coordinator):
    group, members, cycle = running_group(coordinator=other_coordinator)
    play(group, members, cycle)
    return group


def record_of(model, group):
    """One record of `model` that belongs to `group`."""
    if model is ThriftGroup:
        return group
    if model is PositionSwap:
        return PositionSwap.objects.get(cycle__group=group)
    if model is User:
        return group.memberships.order_by("pk").first().member
    return model.objects.filter(group=group).order_by("pk").first()


MODELS = [ThriftGroup, Membership, Cycle, Round, Contribution, Payout, PositionSwap]


# --- a coordinator and another coordinator's group ----------------------


@pytest.mark.parametrize("model", [*MODELS, User], ids=lambda m: m.__name__)
def test_coordinator_cannot_reach_another_groups_record(
    client, coordinator, mine, theirs, model
):
    client.force_login(coordinator)
    own, foreign = record_of(model, mine), record_of(model, theirs)
    history_id = model.history.filter(id=foreign.pk).latest("history_date").pk

    statuses = {
        "change": client.get(url(model, "change", foreign.pk)).status_code,
        "history": client.get(url(model, "history", foreign.pk)).status_code,
        "history version": client.get(
            url(model, "simple_history", foreign.pk, history_id)
        ).status_code,
        "delete": client.get(url(model, "delete", foreign.pk)).status_code,
        "own change": client.get(url(model, "change", own.pk)).status_code,
        "own history": client.get(url(model, "history", own.pk)).status_code,
    }
    listed = client.get(url(model, "changelist")).context["cl"].result_list

    assert statuses == {
        "change": 404,
        "history": 404,
        "history version": 404,
        "delete": 404,
        "own change": 200,
        "own history": 200,
    }
    assert own in listed
    assert foreign not in listed


def urls_of(model, pk, version=None):
    """Every URL of one record: its page, deletion, history and a past
    version (its latest history row unless `version` is given)."""
    if version is None:
        version = model.history.filter(id=pk).latest("history_date").pk
    return {
        "change": url(model, "change", pk),
        "delete": url(model, "delete", pk),
        "history": url(model, "history", pk),
        "history version": url(model, "simple_history", pk, version),
    }


ALL_404 = dict.fromkeys(["change", "delete", "history", "history version"], 404)


@pytest.mark.parametrize("model", [*MODELS, User], ids=lambda m: m.__name__)
def test_every_url_of_another_groups_record_answers_404(
    client, coordinator, theirs, model
):
    client.force_login(coordinator)
    foreign = record_of(model, theirs)
    urls = urls_of(model, foreign.pk)
    before = snapshot()
    users_before = list(User.objects.order_by("pk").values())

    got = {kind: client.get(u).status_code for kind, u in urls.items()}
    posted = {
        kind: client.post(u, {"post": "yes", "name": "Mine now"}).status_code
        for kind, u in urls.items()
    }

    assert got == ALL_404
    assert posted == ALL_404
    assert snapshot() == before
    assert list(User.objects.order_by("pk").values()) == users_before


# Groups and places show a past version (only the owner writes one back);
# money records and people never do.
OWN = {
    model: {
        "change": 200,
        "delete": 403,
        "history": 200,
        "history version": 200 if model in (ThriftGroup, Membership) else 403,
    }
    for model in [*MODELS, User]
}


@pytest.mark.parametrize("model", [*MODELS, User], ids=lambda m: m.__name__)
def test_own_records_answer_by_permission_not_404(client, coordinator, mine, model):
    # The same URLs of the coordinator's own record: found, and refused
    # only where the role may not act.
    client.force_login(coordinator)
    urls = urls_of(model, record_of(model, mine).pk)

    got = {kind: client.get(u).status_code for kind, u in urls.items()}

    assert got == OWN[model]


def test_every_url_of_another_staff_account_answers_404(
    client, coordinator, other_coordinator
):
    client.force_login(coordinator)
    urls = urls_of(User, other_coordinator.pk)

    got = {kind: client.get(u).status_code for kind, u in urls.items()}

    assert got == ALL_404


@pytest.mark.parametrize("model", [*MODELS, User], ids=lambda m: m.__name__)
@pytest.mark.parametrize("pk", ["999999", "not-a-number"])
def test_urls_of_a_record_that_never_was_answer_404(
    client, coordinator, owner, model, pk
):
    for user in (coordinator, owner):
        client.force_login(user)

        got = {
            kind: client.get(u).status_code
            for kind, u in urls_of(model, pk, version=1).items()
        }

        assert got == ALL_404, user


def test_history_of_another_groups_deleted_record_answers_404(
    client, coordinator, owner, other_coordinator
):
    group = make_group(name="Gone", coordinator=other_coordinator)
    group_id = group.pk
    services.stamp(group, owner, "test").delete()
    version = ThriftGroup.history.filter(id=group_id).latest("history_date").pk
    client.force_login(coordinator)

    history = client.get(url(ThriftGroup, "history", group_id))
    past = client.get(url(ThriftGroup, "simple_history", group_id, version))

    assert (history.status_code, past.status_code) == (404, 404)
    client.force_login(owner)
    assert client.get(url(ThriftGroup, "history", group_id)).status_code == 200


def group_of(record):
    if isinstance(record, ThriftGroup):
        return record
    if isinstance(record, PositionSwap):
        return record.cycle.group
    return record.group


def test_coordinator_lists_hold_only_their_own_groups(
    client, coordinator, mine, theirs
):
    client.force_login(coordinator)

    groups = {
        model.__name__: {
            group_of(r)
            for r in client.get(url(model, "changelist")).context["cl"].result_list
        }
        for model in MODELS
    }

    assert groups == {model.__name__: {mine} for model in MODELS}


def test_coordinator_cannot_write_back_a_past_version(client, coordinator, mine):
    client.force_login(coordinator)
    c = Contribution.objects.filter(group=mine, status="paid").first()
    first_version = c.history.earliest("history_date")
    before = snapshot()

    response = client.post(
        url(Contribution, "simple_history", c.pk, first_version.pk), {}
    )

    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("view", ["start_cycle", "record_payout"])
def test_group_pages_of_another_coordinator_answer_404(
    client, coordinator, theirs, view
):
    client.force_login(coordinator)
    before = snapshot()

    got = client.get(url(ThriftGroup, view, theirs.pk))
    posted = client.post(
        url(ThriftGroup, view, theirs.pk),
        {
            "confirm": "yes",
            "action": "start_cycle",
            "order_method": "join_order",
            "round": theirs.rounds.get(number=2).pk,
            "paid_on": "2026-03-01",
            "override_reason": "try",
        },
    )

    assert (got.status_code, posted.status_code) == (404, 404)
    assert snapshot() == before


NOT_YOURS = "None of the selected {} is yours to change."
ACTIONS = [
    (
        Contribution,
        "mark_paid",
        {"paid_on": "2026-03-01", "method": "cash"},
        NOT_YOURS.format("contributions"),
    ),
    (
        ThriftGroup,
        "start_cycle",
        {"order_method": "join_order"},
        NOT_YOURS.format("groups"),
    ),
    (ThriftGroup, "close_cycle", {}, NOT_YOURS.format("groups")),
    (
        ThriftGroup,
        "record_payout",
        {},
        "Select exactly one group: each payout is confirmed on its own page.",
    ),
    (Membership, "leave_group", {"go": 1}, NOT_YOURS.format("places")),
    (
        Membership,
        "swap_positions",
        {"reason": "try", "positions": "x"},
        "Select exactly two places to swap; 0 selected.",
    ),
]


@pytest.mark.parametrize(
    "model, action, data, message", ACTIONS, ids=[a[1] for a in ACTIONS]
)
def test_actions_posted_with_another_groups_pks_change_nothing(
    client, coordinator, mine, theirs, model, action, data, message
):
    client.force_login(coordinator)
    pks = [record_of(model, theirs).pk]
    if model is Membership:
        pks = list(theirs.memberships.order_by("pk").values_list("pk", flat=True))[:2]
    before = snapshot()

    page = client.post(
        url(model, "changelist"), {"action": action, "_selected_action": pks}
    )
    client.cookies.pop("messages", None)
    confirmed = client.post(
        url(model, "changelist"),
        {"action": action, "_selected_action": pks, "confirm": "yes", **data},
    )

    assert (page.status_code, confirmed.status_code) == (302, 302)
    assert messages_of(confirmed) == [message]
    assert snapshot() == before


def test_foreign_key_choices_hold_only_their_own_records(
    client, coordinator, mine, theirs
):
    client.force_login(coordinator)
    stranger = theirs.memberships.order_by("pk").first().member
    mine.status = "draft"
    mine.save()
    before = Membership.objects.count()

    response = client.post(
        url(Membership, "add"),
        {
            "group": theirs.pk,
            "member": stranger.pk,
            "joined_at_0": "2026-01-01",
            "joined_at_1": "10:00",
        },
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"group", "member"}
    assert Membership.objects.count() == before


def autocomplete(client, model_name, field_name, term=""):
    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "thrift",
            "model_name": model_name,
            "field_name": field_name,
            "term": term,
        },
    )
    assert response.status_code == 200
    return {int(r["id"]) for r in json.loads(response.content)["results"]}


def test_autocompletes_offer_only_their_own_groups_and_members(
    client, coordinator, mine, theirs
):
    client.force_login(coordinator)
    own_members = set(mine.memberships.values_list("member", flat=True))

    assert autocomplete(client, "membership", "group") == {mine.pk}
    assert autocomplete(client, "membership", "member") == own_members | {
        coordinator.pk
    }
    assert autocomplete(client, "thriftgroup", "coordinator") == {coordinator.pk}


def test_a_member_someone_registered_is_theirs_until_placed(
    client, coordinator, theirs
):
    client.force_login(coordinator)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newbie",
            "usable_password": "false",
            "first_name": "New",
            "last_name": "Member",
            "phone": "0812 345 6789",
            "account_number": "0123456789",
            "bank_name": "Access",
            "account_name": "NEW MEMBER",
        },
    )
    newbie = User.objects.get(username="newbie")

    assert response.status_code == 302
    assert newbie.phone == "+2348123456789"
    assert newbie.pk in autocomplete(client, "membership", "member")

    theirs.cycles.update(status="closed")
    services.join_group(theirs, newbie, by=theirs.coordinator, route="t")

    assert newbie.pk not in autocomplete(client, "membership", "member")
    assert client.get(url(User, "change", newbie.pk)).status_code == 404


def test_coordinator_sees_only_their_members_among_users(
    client, coordinator, mine, theirs
):
    client.force_login(coordinator)
    stranger = record_of(User, theirs)

    listed = (
        client.get(reverse("admin:accounts_user_changelist")).context["cl"].result_list
    )
    password = client.get(
        reverse("admin:auth_user_password_change", args=[stranger.pk])
    )

    assert set(listed) == {coordinator, *[m.member for m in mine.memberships.all()]}
    assert password.status_code == 404


# --- an auditor --------------------------------------------------------


@pytest.mark.parametrize("model", [*MODELS, User], ids=lambda m: m.__name__)
def test_auditor_sees_every_record_and_changes_none(
    client, auditor, mine, theirs, model
):
    client.force_login(auditor)
    record = record_of(model, theirs)

    change = client.get(url(model, "change", record.pk))
    history = client.get(url(model, "history", record.pk))
    add = client.get(url(model, "add"))
    listed = client.get(url(model, "changelist"))

    assert (change.status_code, history.status_code, add.status_code) == (
        200,
        200,
        403,
    )
    assert change.context["has_change_permission"] is False
    assert record in listed.context["cl"].result_list
    assert record_of(model, mine) in listed.context["cl"].result_list
    assert listed.context["action_form"] is None


def test_auditor_cannot_post_a_change_or_an_action(client, auditor, theirs):
    client.force_login(auditor)
    before = snapshot()
    c = Contribution.objects.filter(group=theirs, status="pending").first()

    edited = client.post(url(ThriftGroup, "change", theirs.pk), {"name": "Mine now"})
    action = client.post(
        url(Contribution, "changelist"),
        {
            "action": "mark_paid",
            "_selected_action": [c.pk],
            "confirm": "yes",
            "paid_on": "2026-03-01",
            "method": "cash",
        },
    )
    pages = [
        client.get(url(ThriftGroup, view, theirs.pk)).status_code
        for view in ("start_cycle", "record_payout")
    ]

    assert edited.status_code == 403
    assert action.status_code == 200
    assert pages == [403, 403]
    assert snapshot() == before


# --- members and the owner --------------------------------------------


def test_a_member_cannot_sign_in_to_the_admin(client, db):
    member = make_user(username="ada")
    member.set_password("a-long-password-1")
    member.save()

    signed_in = client.post(
        reverse("admin:login"),
        {"username": "ada", "password": "a-long-password-1", "next": "/admin/"},
    )
    client.force_login(member)
    index = client.get(reverse("admin:index"))

    assert signed_in.status_code == 200
    assert "staff account" in signed_in.content.decode()
    assert index.status_code == 302
    assert index["Location"].startswith(reverse("admin:login"))


def test_owner_acts_on_every_group(client, owner, theirs):
    client.force_login(owner)

    response = client.get(url(ThriftGroup, "record_payout", theirs.pk))

    assert response.status_code == 200
    assert response.context["round"] == theirs.rounds.get(number=2)


def test_group_pages_answer_404_to_a_malformed_or_foreign_round(
    client, coordinator, mine, theirs
):
    client.force_login(coordinator)
    before = snapshot()

    statuses = [
        client.get(url(ThriftGroup, "start_cycle", "abc")).status_code,
        client.get(url(ThriftGroup, "record_payout", "999999")).status_code,
        client.post(
            url(ThriftGroup, "record_payout", mine.pk),
            {"round": "x1", "paid_on": "2026-03-01"},
        ).status_code,
        client.post(
            url(ThriftGroup, "record_payout", mine.pk),
            {
                "round": theirs.rounds.get(number=2).pk,
                "paid_on": "2026-03-01",
                "override_reason": "try",
            },
        ).status_code,
    ]

    assert statuses == [404, 404, 404, 404]
    assert snapshot() == before


def test_a_contribution_form_writes_no_money(client, coordinator, mine):
    client.force_login(coordinator)
    c = Contribution.objects.filter(group=mine, status="pending").first()
    before = snapshot()

    page = client.get(url(Contribution, "change", c.pk))
    response = client.post(
        url(Contribution, "change", c.pk),
        {"amount_paid": "10000.00", "status": "paid", "amount_due": "1.00"},
    )

    assert page.context["has_change_permission"] is False
    assert "₦10,000.00" in page.content.decode()
    assert response.status_code == 403
    assert snapshot() == before
