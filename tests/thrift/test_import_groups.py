import datetime
from decimal import Decimal

import pytest

from tests.factories import make_group, make_places, make_user, running_group
from tests.thrift.spreadsheet_files import run_import
from thrift.models import Membership, ThriftGroup
from thrift.resources import MembershipResource, ThriftGroupResource

pytestmark = pytest.mark.django_db

GROUPS = [
    "name",
    "contribution_amount",
    "frequency",
    "start_date",
    "coordinator",
    "fee_type",
    "fee_value",
    "allow_multiple_places",
    "status",
]


def test_groups_are_created_and_found_again_by_name(coordinator):
    rows = [
        GROUPS,
        [
            "Ojota Ajo",
            "₦20,000",
            "Monthly",
            "31/01/2027",
            "coord",
            "Percent",
            "2.5",
            "Yes",
            "draft",
        ],
        ["Ikeja Esusu", "5000", "weekly", "2027-01-04", "coord", "", "", "no", ""],
    ]
    first = run_import(ThriftGroupResource, rows, user=coordinator, file_name="g.csv")
    again = run_import(ThriftGroupResource, rows, user=coordinator, file_name="g.csv")

    assert first.error_messages() == []
    assert first.counts() == {"new": 2, "updated": 0, "unchanged": 0, "errors": 0}
    assert again.counts() == {"new": 0, "updated": 0, "unchanged": 2, "errors": 0}
    ojota = ThriftGroup.objects.get(name="Ojota Ajo")
    assert (
        ojota.contribution_amount,
        ojota.frequency,
        ojota.start_date,
        ojota.coordinator,
        ojota.fee_type,
        ojota.fee_value,
        ojota.allow_multiple_places,
        ojota.currency,
    ) == (
        Decimal("20000.00"),
        "monthly",
        datetime.date(2027, 1, 31),
        coordinator,
        "percent",
        Decimal("2.50"),
        True,
        "NGN",
    )
    record = ojota.history.get()
    assert (record.history_user, record.history_change_reason) == (
        coordinator,
        "import: g.csv",
    )


def test_a_changed_amount_updates_the_group(coordinator):
    group = make_group(coordinator=coordinator, name="Ojota Ajo")
    rows = [GROUPS[:5], ["ojota ajo", "12,500", "monthly", "2026-01-31", "coord"]]
    result = run_import(ThriftGroupResource, rows, user=coordinator)

    assert result.counts()["updated"] == 1
    assert [row.note for row in result.rows] == ["changes contribution_amount"]
    group.refresh_from_db()
    assert group.contribution_amount == Decimal("12500.00")


def test_unreadable_group_values_are_row_errors(coordinator):
    rows = [
        GROUPS,
        [
            "Ojota Ajo",
            "twenty",
            "fortnightly",
            "2027-13-01",
            "coord",
            "fixed",
            "",
            "maybe",
            "asleep",
        ],
    ]
    result = run_import(ThriftGroupResource, rows, user=coordinator)

    assert sorted(result.error_messages()) == [
        "Row 2, column allow_multiple_places: maybe is not yes or no.",
        "Row 2, column contribution_amount: twenty is not an amount we can read. "
        "Write amounts as 200000, 200,000.00, ₦200,000 or N200,000.",
        "Row 2, column fee_value: The amount is missing. Write amounts as 200000, "
        "200,000.00, ₦200,000 or N200,000.",
        "Row 2, column frequency: fortnightly is not a frequency. Use one of: "
        "daily, weekly, biweekly, monthly.",
        "Row 2, column start_date: 2027-13-01 is not a real date (day 1 of month "
        "13). Write dates as 2026-01-31 or 31/01/2026 (day first).",
        "Row 2, column status: asleep is not a group status. Use one of: draft, "
        "active, paused, completed.",
    ]
    assert not ThriftGroup.objects.exists()


def test_a_coordinator_cannot_create_or_change_another_coordinators_group(
    coordinator, other_coordinator
):
    make_group(coordinator=other_coordinator, name="Their Ajo")
    rows = [
        GROUPS[:5],
        ["Their Ajo", "9000", "monthly", "2026-01-31", "coord"],
        ["New Ajo", "9000", "monthly", "2026-01-31", "coord2"],
    ]
    result = run_import(ThriftGroupResource, rows, user=coordinator)

    assert result.error_messages() == [
        "Row 2, column name: Their Ajo is run by another coordinator; you can import "
        "only into your own groups.",
        "Row 3, column coordinator: You can import only groups you coordinate; New "
        "Ajo names coord2.",
    ]
    assert list(ThriftGroup.objects.values_list("name", "contribution_amount")) == [
        ("Their Ajo", Decimal("10000.00"))
    ]


MEMBERSHIPS = ["group", "member", "position", "joined_on"]


def test_places_join_through_the_service_and_import_again_unchanged(coordinator):
    group = make_group(coordinator=coordinator, allow_multiple_places=True)
    ada, bola = make_user(), make_user(email="bola@example.ng")
    rows = [
        MEMBERSHIPS,
        [group.name, ada.phone, "2", "2026-01-05"],
        [group.name, "BOLA@example.ng", "1", "05/01/2026"],
        [group.name, ada.username, "", ""],
    ]
    first = run_import(MembershipResource, rows, user=coordinator, file_name="p.csv")
    again = run_import(MembershipResource, rows, user=coordinator, file_name="p.csv")

    assert first.error_messages() == []
    assert first.counts()["new"] == 3
    assert again.counts() == {"new": 0, "updated": 0, "unchanged": 3, "errors": 0}
    places = list(Membership.objects.order_by("pk").values_list("member", "position"))
    assert places == [(ada.pk, 2), (bola.pk, 1), (ada.pk, None)]
    place = Membership.objects.get(member=bola)
    assert timezone_date(place.joined_at) == datetime.date(2026, 1, 5)
    assert {(h.history_user, h.history_change_reason) for h in place.history.all()} == {
        (coordinator, "import: p.csv")
    }


def timezone_date(value):
    from django.utils import timezone

    return timezone.localdate(value)


def test_joining_a_running_group_is_refused_by_the_service():
    group, _, _ = running_group(places=2)
    newcomer = make_user()
    rows = [MEMBERSHIPS, [group.name, newcomer.phone, "", ""]]
    result = run_import(MembershipResource, rows, user=group.coordinator)

    assert result.error_messages() == [
        f"Row 2, column position: {group} has a cycle running; {newcomer} can join "
        "when it closes."
    ]
    assert not Membership.objects.filter(member=newcomer).exists()


def test_places_in_another_coordinators_group_are_refused(other_coordinator):
    group = make_group()
    make_places(group, 1)
    rows = [MEMBERSHIPS, [group.name, make_user().phone, "", ""]]
    result = run_import(MembershipResource, rows, user=other_coordinator)

    assert result.error_messages() == [
        f"Row 2, column group: {group.name} is run by another coordinator; you can "
        "import only into your own groups."
    ]


def test_an_error_in_the_last_row_rolls_back_the_places_before_it(coordinator):
    group = make_group(coordinator=coordinator)
    members = [make_user() for _ in range(3)]
    rows = [MEMBERSHIPS] + [[group.name, m.phone, "", ""] for m in members]
    rows.append([group.name, "08099999999", "", ""])
    result = run_import(MembershipResource, rows, user=coordinator)

    assert result.error_messages() == [
        "Row 5, column member: No member has the phone number 08099999999. Import "
        "the member first, or check the number."
    ]
    assert not Membership.objects.exists()
    assert not Membership.history.exists()
