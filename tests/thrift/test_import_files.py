"""Files as people have them: encodings, XLSX cells, and files that cannot
be imported at all."""

import datetime
from decimal import Decimal

import pytest

from accounts.models import User
from accounts.resources import MemberResource
from tests.factories import running_group
from tests.thrift.spreadsheet_files import csv_bytes, read, run_import, xlsx_bytes
from thrift.models import Contribution
from thrift.resources import ContributionResource
from thrift.spreadsheets import UnreadableFile

pytestmark = pytest.mark.django_db

MEMBERS = [
    ["first_name", "last_name", "phone", "email"],
    ["Adébáyọ̀", "Ọlálékan", "08052601815", "ade@example.ng"],
]


@pytest.mark.parametrize(
    ("encoding", "first_name"),
    [
        ("utf-8", "Adébáyọ̀"),
        ("utf-8-sig", "Adébáyọ̀"),
    ],
)
def test_csv_in_utf8_with_or_without_bom(owner, encoding, first_name):
    data = csv_bytes(MEMBERS, encoding)
    assert data.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    result = run_import(MemberResource, data, user=owner)

    assert result.error_messages() == []
    user = User.objects.get(phone="+2348052601815")
    assert (user.first_name, user.last_name) == (first_name, "Ọlálékan")


def test_csv_saved_by_excel_in_windows_1252(owner):
    rows = [["first_name", "last_name", "phone"], ["Adéolá", "Okafor", "08052601815"]]
    data = csv_bytes(rows, "cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = run_import(MemberResource, data, user=owner)

    assert result.error_messages() == []
    assert User.objects.get(phone="+2348052601815").first_name == "Adéolá"


def test_xlsx_with_real_number_and_date_cells():
    group, places, _ = running_group(places=2)
    rows = [
        ["group", "member", "round", "amount_paid", "paid_on", "method"],
        [
            group.name,
            int(places[0].member.phone[4:]),
            1,
            10000,
            datetime.datetime(2026, 1, 30),
            "cash",
        ],
        [
            group.name,
            places[1].member.phone,
            1.0,
            5000.5,
            datetime.date(2026, 1, 31),
            "Transfer",
        ],
    ]
    result = run_import(
        ContributionResource, rows, user=group.coordinator, file_name="jan.xlsx"
    )

    assert result.error_messages() == []
    paid = list(
        Contribution.objects.filter(round__number=1)
        .order_by("membership__position")
        .values_list("amount_paid", "paid_on", "method")
    )
    assert paid == [
        (Decimal("10000.00"), datetime.date(2026, 1, 30), "cash"),
        (Decimal("5000.50"), datetime.date(2026, 1, 31), "transfer"),
    ]


def test_trailing_empty_lines_are_not_rows():
    dataset = read(b"first_name,phone\r\nAda,08052601815\r\n,\r\n,,\r\n\r\n")
    assert len(dataset) == 1


@pytest.mark.parametrize(
    ("data", "file_name", "message"),
    [
        (b"", "a.csv", "The file is empty."),
        (b"\r\n\r\n", "a.csv", "The file is empty."),
        (
            b"first_name,phone\r\n",
            "a.csv",
            "The file has a header row but no data rows under it",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "photo.csv",
            "This is not a CSV text file.",
        ),
        (
            b"PK\x03\x04 not really a workbook",
            "book.csv",
            "This is an Excel workbook, not a CSV file.",
        ),
        (b"first_name,phone\r\nAda,0805,extra\r\n", "a.csv", "Row 2 has more cells"),
        (b"just some text", "a.xlsx", "This is not an Excel .xlsx workbook"),
    ],
)
def test_files_that_cannot_be_read_get_a_clear_message(data, file_name, message):
    with pytest.raises(UnreadableFile) as refusal:
        read(data, file_name)
    assert str(refusal.value).startswith(message)


def test_an_empty_xlsx_sheet_is_refused():
    with pytest.raises(UnreadableFile) as refusal:
        read(xlsx_bytes([]), "empty.xlsx")
    assert str(refusal.value).startswith("The file is empty.")


def test_unknown_columns_are_named_with_the_ones_we_know(owner):
    rows = [["First Name", "Phone", "Favourite colour"], ["Ada", "08052601815", "blue"]]
    result = run_import(MemberResource, rows, user=owner)

    assert result.error_messages() == [
        "Unknown column(s): Favourite colour. The columns of a members file are: "
        "first_name, last_name, phone, email, username, bank_name, account_number, "
        "account_name."
    ]
    assert not User.objects.filter(phone="+2348052601815").exists()


def test_a_file_for_another_model_is_refused_whole(owner):
    group, places, _ = running_group(places=1)
    rows = [["group", "member", "round", "amount_paid"], [group.name, "0803", "1", "5"]]
    result = run_import(MemberResource, rows, user=owner)

    assert result.error_messages()[0].startswith(
        "Unknown column(s): group, member, round"
    )


def test_missing_required_columns_are_named(owner):
    result = run_import(
        MemberResource, [["last_name", "email"], ["Obi", "a@b.ng"]], user=owner
    )

    assert result.error_messages() == [
        "The file has no first_name, phone column. a members file needs the columns "
        "first_name, phone in the first row."
    ]


def test_a_repeated_column_is_refused(owner):
    rows = [["first_name", "phone", "Phone"], ["Ada", "08052601815", "08052601816"]]
    result = run_import(MemberResource, rows, user=owner)

    assert result.error_messages() == ["The column(s) phone appear more than once."]


def test_files_over_the_byte_limit_are_refused(settings):
    settings.THRIFT_IMPORT_MAX_BYTES = 100
    data = csv_bytes([["first_name", "phone"]] + [["Ada", "08052601815"]] * 10)
    with pytest.raises(UnreadableFile) as refusal:
        read(data)
    assert str(refusal.value) == (
        "The file is 0.2 KB; the largest file we import is 0.1 KB. Split it into "
        "smaller files."
    )


def test_files_over_the_row_limit_are_refused(settings, owner):
    settings.THRIFT_IMPORT_MAX_ROWS = 3
    rows = [["first_name", "phone"]] + [["Ada", f"0805260181{n}"] for n in range(4)]
    with pytest.raises(UnreadableFile) as refusal:
        read(csv_bytes(rows))
    assert str(refusal.value) == (
        "The file has more than 3 rows; the most we import at once is 3. Split it "
        "into smaller files."
    )
    with pytest.raises(UnreadableFile):
        read(xlsx_bytes(rows), "big.xlsx")
    assert len(read(csv_bytes(rows[:4]))) == 3
