import datetime
from decimal import Decimal

import pytest

from tests.factories import make_group, make_places, running_group
from tests.thrift.spreadsheet_files import run_import
from thrift import services
from thrift.models import Contribution
from thrift.resources import ContributionResource

pytestmark = pytest.mark.django_db

HEADER = ["group", "member", "round", "amount_paid", "paid_on", "method", "reference"]


def contribution(group, place, number) -> Contribution:
    return Contribution.objects.get(
        round__group=group, round__number=number, membership=place
    )


def snapshot():
    return list(
        Contribution.objects.order_by("pk").values_list(
            "pk", "amount_paid", "status", "paid_on", "method", "reference"
        )
    ) + [Contribution.history.count()]


@pytest.fixture
def group():
    group, places, cycle = running_group(places=4)
    group.places = places
    return group


def spaced(phone: str) -> str:
    # +2348030000012 -> "234 803 000 0012"
    digits = phone[1:]
    return f"{digits[:3]} {digits[3:6]} {digits[6:9]} {digits[9:]}"


def test_members_are_found_by_phone_in_any_form_email_or_username(group):
    a, b, c, d = (p.member for p in group.places)
    d.email = "Dayo@Example.ng"
    d.save()
    rows = [
        HEADER,
        [group.name, "0" + a.phone[4:], "1", "10000", "2026-01-31", "cash", ""],
        [group.name, spaced(b.phone), "1", "10,000.00", "31/01/2026", "transfer", "T1"],
        [group.name.upper(), c.username, "1", "₦5,000", "2026-01-30", "Cash", ""],
        [f"  {group.name} ", "dayo@example.ng", "1", "N10,000", "2026-01-29", "", ""],
    ]
    result = run_import(ContributionResource, rows, user=group.coordinator)

    assert result.error_messages() == []
    assert result.counts() == {"new": 0, "updated": 4, "unchanged": 0, "errors": 0}
    paid = {
        c.membership.member_id: (
            c.amount_paid,
            c.status,
            c.paid_on,
            c.method,
            c.reference,
        )
        for c in Contribution.objects.filter(round__number=1, group=group)
    }
    assert paid == {
        a.pk: (Decimal("10000.00"), "paid", datetime.date(2026, 1, 31), "cash", ""),
        b.pk: (
            Decimal("10000.00"),
            "paid",
            datetime.date(2026, 1, 31),
            "transfer",
            "T1",
        ),
        c.pk: (Decimal("5000.00"), "pending", datetime.date(2026, 1, 30), "cash", ""),
        d.pk: (Decimal("10000.00"), "paid", datetime.date(2026, 1, 29), "cash", ""),
    }


def test_round_is_found_by_due_date_and_both_must_agree(group):
    a = group.places[0].member
    rows = [
        ["group", "member", "due_date", "amount_paid", "paid_on"],
        [group.name, a.phone, "28/02/2026", "10000", "2026-02-27"],
    ]
    result = run_import(ContributionResource, rows, user=group.coordinator)
    assert result.error_messages() == []
    assert contribution(group, group.places[0], 2).status == "paid"

    rows = [
        ["group", "member", "round", "due_date", "amount_paid", "paid_on"],
        [group.name, a.phone, "3", "28/02/2026", "10000", "2026-02-27"],
    ]
    result = run_import(ContributionResource, rows, user=group.coordinator)
    assert result.error_messages() == [
        f"Row 2, column due_date: Round 3 of {group.name} falls due on "
        "31/03/2026, not 28/02/2026."
    ]


def test_history_names_the_importing_user_and_the_file(group):
    place = group.places[0]
    rows = [
        HEADER,
        [group.name, place.member.phone, "1", "10000", "2026-01-31", "cash", ""],
    ]
    run_import(ContributionResource, rows, user=group.coordinator, file_name="jan.csv")

    record = contribution(group, place, 1).history.first()
    assert (record.history_user, record.history_change_reason) == (
        group.coordinator,
        "import: jan.csv",
    )
    assert record.amount_paid == Decimal("10000.00")


def test_importing_the_same_file_again_changes_nothing(group):
    place = group.places[0]
    rows = [
        HEADER,
        [group.name, place.member.phone, "1", "10000", "2026-01-31", "cash", ""],
        [group.name, place.member.phone, "2", "4000", "2026-02-20", "cash", "R2"],
    ]
    first = run_import(ContributionResource, rows, user=group.coordinator)
    before = snapshot()
    again = run_import(ContributionResource, rows, user=group.coordinator)

    assert first.counts()["updated"] == 2
    assert again.counts() == {"new": 0, "updated": 0, "unchanged": 2, "errors": 0}
    assert snapshot() == before


def test_a_larger_total_pays_only_the_difference(group):
    place = group.places[0]
    services.pay_contribution(
        contribution(group, place, 1),
        by=group.coordinator,
        route="test",
        amount=Decimal("4000"),
        reference="A1",
        paid_on=datetime.date(2026, 1, 20),
    )
    rows = [
        HEADER,
        [group.name, place.member.phone, "1", "10000", "2026-01-31", "cash", "A2"],
    ]
    result = run_import(ContributionResource, rows, user=group.coordinator)

    assert result.error_messages() == []
    c = contribution(group, place, 1)
    assert (c.amount_paid, c.status, c.reference) == (Decimal("10000.00"), "paid", "A2")


def test_preview_writes_nothing(group):
    place = group.places[0]
    before = snapshot()
    rows = [
        HEADER,
        [group.name, place.member.phone, "1", "10000", "2026-01-31", "cash", ""],
    ]
    result = run_import(
        ContributionResource, rows, user=group.coordinator, dry_run=True
    )

    assert result.counts()["updated"] == 1
    assert snapshot() == before


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            {"amount_paid": "ten thousand"},
            "Row 2, column amount_paid: ten thousand is not an amount we can read. "
            "Write amounts as 200000, 200,000.00, ₦200,000 or N200,000.",
        ),
        (
            {"amount_paid": "20000"},
            "Row 2, column amount_paid: ₦20,000.00 is more than the ₦10,000.00 due "
            "for this round.",
        ),
        (
            {"paid_on": "31/02/2026"},
            "Row 2, column paid_on: 31/02/2026 is not a real date (day 31 of month "
            "2). Write dates as 2026-01-31 or 31/01/2026 (day first).",
        ),
        (
            {"paid_on": ""},
            "Row 2, column paid_on: Give the date the money was paid.",
        ),
        (
            {"method": "cheque"},
            "Row 2, column method: cheque is not a payment method. Use one of: "
            "cash, transfer, card, other.",
        ),
        ({"round": "13"}, "Row 2, column round: {group} cycle 1 has no round 13."),
        (
            {"member": "08099999999"},
            "Row 2, column member: No member has the phone number 08099999999. "
            "Import the member first, or check the number.",
        ),
        (
            {"member": "0805 260"},
            "Row 2, column member: 0805 260 is not a phone number we can use. Enter "
            "a Nigerian mobile number such as 08123456789, +2348123456789 or "
            "234 812 345 6789.",
        ),
        (
            {"member": "nobody"},
            "Row 2, column member: No member has the username nobody. Import the "
            "member first, or check the number.",
        ),
        (
            {"group": "Nowhere Ajo"},
            "Row 2, column group: There is no group called Nowhere Ajo. Check the "
            "spelling.",
        ),
    ],
)
def test_unreadable_or_refused_values_name_row_column_and_reason(group, cells, message):
    place = group.places[0]
    row = dict(
        zip(
            HEADER,
            [group.name, place.member.phone, "1", "10000", "2026-01-31", "cash", ""],
            strict=True,
        )
    )
    row.update(cells)
    before = snapshot()
    result = run_import(
        ContributionResource, [HEADER, list(row.values())], user=group.coordinator
    )

    assert result.error_messages() == [message.format(group=group.name)]
    assert snapshot() == before


def test_a_waived_contribution_is_refused_by_the_payment_rules(group):
    place = group.places[1]
    c = contribution(group, place, 1)
    c.status = Contribution.Status.WAIVED
    c.save()
    rows = [
        HEADER,
        [group.name, place.member.phone, "1", "10000", "2026-01-31", "cash", ""],
    ]
    result = run_import(ContributionResource, rows, user=group.coordinator)

    assert result.error_messages() == [
        f"Row 2, column status: {c} was waived; there is nothing to pay."
    ]


def test_a_coordinator_cannot_import_into_another_coordinators_group(
    group, other_coordinator
):
    place = group.places[0]
    rows = [
        HEADER,
        [group.name, place.member.phone, "1", "10000", "2026-01-31", "cash", ""],
    ]
    before = snapshot()
    result = run_import(ContributionResource, rows, user=other_coordinator)

    assert result.error_messages() == [
        f"Row 2, column group: {group.name} is run by another coordinator; you can "
        "import only into your own groups."
    ]
    assert snapshot() == before


def test_a_superuser_imports_into_any_group(group, owner):
    place = group.places[0]
    rows = [
        HEADER,
        [group.name, place.member.phone, "1", "10000", "2026-01-31", "cash", ""],
    ]
    result = run_import(ContributionResource, rows, user=owner)

    assert result.error_messages() == []
    record = contribution(group, place, 1).history.first()
    assert record.history_user == owner


def test_an_error_in_row_9000_of_10000_leaves_the_database_unchanged(
    django_assert_max_num_queries,
):
    group = make_group(contribution_amount=Decimal("1000.00"))
    places = make_places(group, 100)
    services.start_cycle(group, by=group.coordinator, route="test")
    rows = [HEADER]
    for number in range(1, 101):
        for place in places:
            rows.append(
                [
                    group.name,
                    place.member.phone,
                    str(number),
                    "1000",
                    "2026-01-31",
                    "cash",
                    "",
                ]
            )
    rows[9000][3] = "1,00"
    before = snapshot()

    with django_assert_max_num_queries(60):
        result = run_import(ContributionResource, rows, user=group.coordinator)

    assert result.error_messages() == [
        "Row 9001, column amount_paid: 1,00 is not an amount we can read. Write "
        "amounts as 200000, 200,000.00, ₦200,000 or N200,000."
    ]
    assert result.counts()["updated"] == 9999
    assert snapshot() == before
