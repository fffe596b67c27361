import pytest

from accounts.models import User
from accounts.resources import MemberResource
from tests.factories import make_group, make_places, make_user
from tests.thrift.spreadsheet_files import run_import

pytestmark = pytest.mark.django_db

HEADER = [
    "first_name",
    "last_name",
    "phone",
    "email",
    "bank_name",
    "account_number",
    "account_name",
]
ADA = [
    "Ada",
    "Obi",
    "0805 260 1815",
    "ada@example.ng",
    "GTBank",
    "0123456789",
    "OBI ADA",
]


def test_members_are_created_without_a_password_and_with_history(owner):
    result = run_import(MemberResource, [HEADER, ADA], user=owner, file_name="m.csv")

    assert result.error_messages() == []
    user = User.objects.get(phone="+2348052601815")
    assert (user.username, user.first_name, user.account_number, user.is_staff) == (
        "2348052601815",
        "Ada",
        "0123456789",
        False,
    )
    assert not user.has_usable_password()
    record = user.history.get()
    assert (record.history_user, record.history_change_reason) == (
        owner,
        "import: m.csv",
    )


def test_a_password_column_is_refused_never_read(owner):
    rows = [HEADER + ["password"], ADA + ["secret123"]]
    result = run_import(MemberResource, rows, user=owner)

    assert result.error_messages() == [
        "The file has a password column. Passwords are never imported; members are "
        "created without one. Remove the column and upload the file again."
    ]
    assert not User.objects.filter(phone="+2348052601815").exists()


@pytest.mark.parametrize(
    "phone", ["08052601815", "+2348052601815", "234 805 260 1815", "0805-260-1815"]
)
def test_a_member_is_found_by_phone_in_any_form(owner, phone):
    user = make_user(phone="08052601815", first_name="Old")
    rows = [["first_name", "phone"], ["Ada", phone]]
    result = run_import(MemberResource, rows, user=owner)

    assert result.counts() == {"new": 0, "updated": 1, "unchanged": 0, "errors": 0}
    user.refresh_from_db()
    assert user.first_name == "Ada"


def test_a_member_is_found_by_email_or_username(owner):
    by_email = make_user(email="Ada@Example.ng")
    by_username = make_user(username="bola")
    rows = [
        ["first_name", "phone", "email", "username"],
        ["Ada", by_email.phone, "ada@example.ng", ""],
        ["Bola", by_username.phone, "", "bola"],
    ]
    result = run_import(MemberResource, rows, user=owner)
    assert result.error_messages() == []
    assert result.counts()["updated"] == 2

    # Found by email, the member's new phone number replaces the old one.
    rows = [["first_name", "phone", "email"], ["Ada", "08099999999", "ada@example.ng"]]
    result = run_import(MemberResource, rows, user=owner)
    assert result.counts()["updated"] == 1
    by_email.refresh_from_db()
    assert by_email.phone == "+2348099999999"


def test_importing_the_same_members_again_changes_nothing(owner):
    run_import(MemberResource, [HEADER, ADA], user=owner)
    count = User.history.count()
    result = run_import(MemberResource, [HEADER, ADA], user=owner)

    assert result.counts() == {"new": 0, "updated": 0, "unchanged": 1, "errors": 0}
    assert User.history.count() == count


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            {2: "12345"},
            "Row 2, column phone: 12345 is not a phone number we can use. Enter a "
            "Nigerian mobile number such as 08123456789, +2348123456789 or "
            "234 812 345 6789.",
        ),
        (
            {5: "12345"},
            "Row 2, column account_number: 12345 is not an account number. Enter the "
            "10-digit NUBAN, digits only.",
        ),
        ({0: "  "}, "Row 2, column first_name: This cell is empty; it needs a value."),
    ],
)
def test_unreadable_member_values_are_row_errors(owner, cells, message):
    row = list(ADA)
    for index, value in cells.items():
        row[index] = value
    result = run_import(MemberResource, [HEADER, row], user=owner)

    assert result.error_messages() == [message]
    assert not User.objects.filter(first_name="Ada").exists()


def test_the_same_phone_twice_in_a_file_is_an_error(owner):
    result = run_import(MemberResource, [HEADER, ADA, ADA], user=owner)

    assert result.error_messages() == [
        "Row 3, column phone: +2348052601815 is also on row 2."
    ]
    assert not User.objects.filter(first_name="Ada").exists()


def test_a_coordinator_changes_only_members_of_their_own_groups(
    coordinator, other_coordinator
):
    mine = make_places(make_group(coordinator=coordinator), 1)[0].member
    theirs = make_places(make_group(coordinator=other_coordinator), 1)[0].member
    rows = [
        ["first_name", "phone"],
        ["Renamed", mine.phone],
        [theirs.first_name, theirs.phone],
        ["Newcomer", "08052601815"],
    ]
    result = run_import(MemberResource, rows, user=coordinator)
    assert result.error_messages() == []
    assert result.counts() == {"new": 1, "updated": 1, "unchanged": 1, "errors": 0}

    rows = [["first_name", "phone"], ["Renamed", theirs.phone]]
    result = run_import(MemberResource, rows, user=coordinator)
    assert result.error_messages() == [
        f"Row 2, column phone: {theirs} is not a member of your groups; ask the "
        "platform owner to change their details."
    ]
    theirs.refresh_from_db()
    assert theirs.first_name == "Member"


def test_staff_accounts_are_not_changed_by_a_coordinator(
    coordinator, other_coordinator
):
    rows = [["first_name", "phone"], ["Hacked", other_coordinator.phone]]
    result = run_import(MemberResource, rows, user=coordinator)

    assert result.error_messages() == [
        f"Row 2, column phone: {other_coordinator} is a staff account; staff are not "
        "imported."
    ]
