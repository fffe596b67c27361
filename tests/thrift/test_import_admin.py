"""Import (preview, then confirm) and export from the admin changelists."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import make_user, running_group
from tests.thrift.spreadsheet_files import csv_bytes
from thrift.models import Contribution, ThriftGroup
from thrift.resources import ContributionResource, ThriftGroupResource

pytestmark = pytest.mark.django_db

HEADER = ["group", "member", "round", "amount_paid", "paid_on", "method", "reference"]


@pytest.fixture
def group(coordinator):
    group, places, _ = running_group(places=2, coordinator=coordinator)
    group.places = places
    return group


def upload(client, data: bytes, name: str = "march.csv", fmt: str = "0"):
    return client.post(
        reverse("admin:thrift_contribution_import"),
        {
            "resource": "0",
            "format": fmt,
            "import_file": SimpleUploadedFile(name, data),
        },
    )


def paid():
    return sorted(
        Contribution.objects.exclude(amount_paid=0).values_list(
            "round__number", "amount_paid"
        )
    )


def test_preview_then_confirm_writes_the_file_once(client, group, coordinator):
    client.force_login(coordinator)
    rows = [HEADER] + [
        [group.name, p.member.phone, "1", "10,000", "2026-01-31", "cash", ""]
        for p in group.places
    ]
    response = upload(client, csv_bytes(rows))

    assert response.status_code == 200
    page = response.content.decode()
    assert "2 updated" in page and "Confirm import" in page
    assert page.count("pays ₦10,000.00; paid in full") == 2
    assert paid() == []

    confirm = response.context["confirm_form"]
    response = client.post(
        reverse("admin:thrift_contribution_process_import"), confirm.initial
    )
    assert response.status_code == 302
    assert paid() == [(1, Decimal("10000.00")), (1, Decimal("10000.00"))]
    c = Contribution.objects.filter(round__number=1).first()
    record = c.history.first()
    assert (record.history_user, record.history_change_reason) == (
        coordinator,
        "import: march.csv",
    )
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Import finished: 0 new, 2 updated, 0 unchanged contributions."]


def test_preview_lists_errors_with_row_column_and_reason(client, group, coordinator):
    client.force_login(coordinator)
    rows = [
        HEADER,
        [
            group.name,
            group.places[0].member.phone,
            "1",
            "10,000",
            "2026-01-31",
            "cash",
            "",
        ],
        [
            group.name,
            group.places[1].member.phone,
            "1",
            "lots",
            "2026-01-31",
            "cash",
            "",
        ],
    ]
    response = upload(client, csv_bytes(rows))

    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "Row 3, column amount_paid: lots is not an amount we can read." in page
    assert (
        "confirm_form" not in response.context or not response.context["confirm_form"]
    )
    assert paid() == []


def test_a_confirm_that_meets_an_error_writes_nothing(client, group, coordinator):
    client.force_login(coordinator)
    place = group.places[0]
    rows = [
        HEADER,
        [group.name, place.member.phone, "1", "10,000", "2026-01-31", "cash", ""],
    ]
    response = upload(client, csv_bytes(rows))
    confirm = response.context["confirm_form"]
    # Between preview and confirm, someone waives the contribution.
    Contribution.objects.filter(round__number=1, membership=place).update(
        status="waived"
    )

    response = client.post(
        reverse("admin:thrift_contribution_process_import"), confirm.initial
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:thrift_contribution_import")
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages[0].startswith("Nothing was imported: Row 2, column status:")
    assert paid() == []


@pytest.mark.parametrize(
    ("data", "name", "fmt", "message"),
    [
        (b"\x00\x01\x02garbage", "pay.csv", "0", "This is not a CSV text file."),
        (b"just text", "pay.xlsx", "1", "This is not an Excel .xlsx workbook"),
        (b"group,member\r\n", "pay.csv", "0", "The file has a header row but no data"),
    ],
)
def test_unreadable_uploads_get_a_message_not_a_server_error(
    client, coordinator, data, name, fmt, message
):
    client.force_login(coordinator)
    response = upload(client, data, name, fmt)

    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "<code>group, member, round, due_date, amount_paid, status" in page


def test_an_upload_over_the_byte_limit_is_refused(client, coordinator, settings):
    settings.THRIFT_IMPORT_MAX_BYTES = 10
    client.force_login(coordinator)
    response = upload(client, b"group,member\r\nA,B\r\n")

    assert "the largest file we import is 0.0 KB" in response.content.decode()


def test_auditors_may_export_but_not_import(client, auditor, group):
    client.force_login(auditor)
    assert client.get(reverse("admin:thrift_contribution_import")).status_code == 403
    response = export(client, "contribution")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"


RESOURCES = {
    "contribution": ContributionResource,
    "thriftgroup": ThriftGroupResource,
}


def export(client, model: str, query: str = "", fmt: str = "0"):
    """Post the export form with every column ticked, as it opens."""
    resource = RESOURCES[model]
    data = {"format": fmt, "resource": "0"}
    for name in resource().get_export_order():
        data[f"{resource.__name__.lower()}_{name}"] = "on"
    return client.post(reverse(f"admin:thrift_{model}_export") + query, data)


def test_export_follows_the_changelist_filters_and_search(client, owner, group):
    other, places, _ = running_group(places=1)
    client.force_login(owner)
    response = export(client, "contribution", f"?group__id__exact={group.pk}")
    text = response.content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0] == (
        "group,member,member_name,round,due_date,amount_due,amount_paid,status,"
        "paid_on,method,reference"
    )
    assert len(lines) == 1 + 2 * 2
    assert all(line.startswith(group.name + ",") for line in lines[1:])

    # The changelist's search box: part of a member's phone.

    phone = places[0].member.phone
    response = export(client, "contribution", f"?q={phone[1:]}")
    lines = response.content.decode("utf-8-sig").strip().splitlines()[1:]
    assert len(lines) == 1
    assert lines[0].startswith(f"{other.name},0{phone[4:]},")


def test_export_xlsx_writes_money_as_numbers_and_escapes_formulas(client, owner):
    group, _, _ = running_group(places=1, name='=HYPERLINK("http://x")')
    member = make_user(first_name="@Ada", last_name="-Obi")
    group.memberships.update(member=member)
    client.force_login(owner)
    response = export(client, "contribution", fmt="1")

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    first = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert first["group"] == '\'=HYPERLINK("http://x")'
    assert first["member_name"] == "'@Ada -Obi"
    assert first["amount_due"] == Decimal("10000.00") or first["amount_due"] == 10000
    assert sheet.cell(row=2, column=header.index("amount_due") + 1).data_type == "n"
    assert sheet.cell(row=2, column=header.index("due_date") + 1).is_date


def test_export_then_import_back_changes_nothing(client, owner, group):
    client.force_login(owner)
    response = export(client, "contribution")
    before = list(Contribution.history.values_list("pk", flat=True))

    response = upload(client, response.content, "export.csv")
    result = response.context["result"]
    assert result.error_messages() == []
    assert result.counts() == {"new": 0, "updated": 0, "unchanged": 4, "errors": 0}
    page = response.content.decode()
    assert "Every row already matches the books" in page
    assert 'value="Confirm import"' not in page
    assert list(Contribution.history.values_list("pk", flat=True)) == before


def test_group_export_lists_only_a_coordinators_own_groups(client, coordinator, group):
    running_group(places=1)
    client.force_login(coordinator)
    response = export(client, "thriftgroup")
    lines = response.content.decode("utf-8-sig").strip().splitlines()

    assert len(lines) == 2
    assert lines[1].startswith(f"{group.name},10000.00,NGN,monthly,2026-01-31,coord,")
    assert ThriftGroup.objects.count() == 2
