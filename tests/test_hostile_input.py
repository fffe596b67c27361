"""Hostile and careless input through the admin forms: a clear message and
nothing written, or the text kept exactly and shown escaped."""

import datetime

import pytest
from django.urls import reverse

from thrift.models import ThriftGroup, lagos_today

pytestmark = pytest.mark.django_db

ADD_GROUP = reverse("admin:thrift_thriftgroup_add")


def group_form(owner, **changes):
    data = {
        "name": "Oshodi Traders Ajo",
        "coordinator": owner.pk,
        "status": "draft",
        "contribution_amount": "5000.00",
        "currency": "NGN",
        "frequency": "weekly",
        "start_date": lagos_today().isoformat(),
        "fee_type": "none",
        "fee_value": "0",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "rounds-TOTAL_FORMS": "0",
        "rounds-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def errors_of(response) -> dict:
    form = response.context["adminform"].form
    return {field: list(errs) for field, errs in form.errors.items()}


@pytest.mark.parametrize(
    "amount, message",
    [
        ("-5000", "The contribution must be more than zero."),
        ("0", "The contribution must be more than zero."),
        ("12345678901.00", "Ensure that there are no more than 12 digits in total."),
        ("5000.001", "Ensure that there are no more than 2 decimal places."),
        ("five thousand", "Enter a number."),
        ("NaN", "Enter a number."),
    ],
)
def test_bad_amounts_are_refused_and_nothing_is_written(
    owner_client, owner, amount, message
):
    response = owner_client.post(
        ADD_GROUP, group_form(owner, contribution_amount=amount)
    )

    assert response.status_code == 200
    assert any(message in e for e in errors_of(response)["contribution_amount"])
    assert ThriftGroup.objects.count() == 0


@pytest.mark.parametrize(
    "start", [datetime.date(1899, 1, 1), datetime.date(2999, 1, 1)]
)
def test_dates_far_in_the_past_or_future_are_refused(owner_client, owner, start):
    response = owner_client.post(
        ADD_GROUP, group_form(owner, start_date=start.isoformat())
    )

    assert response.status_code == 200
    assert "A start date must fall between" in errors_of(response)["start_date"][0]
    assert ThriftGroup.objects.count() == 0


@pytest.mark.parametrize(
    "name",
    [
        "Ajo 🌟 Ìgbòho Ọ̀yọ́ Women",
        "مجموعة الادخار Kano",
        "'; DROP TABLE thrift_thriftgroup; --",
        'Robert"); DELETE FROM accounts_user WHERE ("1"="1',
    ],
)
def test_unusual_names_are_kept_exactly(owner_client, owner, name):
    response = owner_client.post(ADD_GROUP, group_form(owner, name=name))

    assert response.status_code == 302
    assert ThriftGroup.objects.get().name == name
    listing = owner_client.get(reverse("admin:thrift_thriftgroup_changelist"))
    assert listing.status_code == 200


def test_html_in_a_name_is_shown_escaped(owner_client, owner):
    name = '<script>alert("ajo")</script><img src=x onerror=alert(1)>'
    owner_client.post(ADD_GROUP, group_form(owner, name=name))

    listing = owner_client.get(reverse("admin:thrift_thriftgroup_changelist"))
    page = listing.content.decode()

    assert '<script>alert("ajo")</script>' not in page
    assert "&lt;script&gt;alert(&quot;ajo&quot;)&lt;/script&gt;" in page
    assert ThriftGroup.objects.get().name == name


def test_overlong_name_is_refused_with_its_limit(owner_client, owner):
    response = owner_client.post(ADD_GROUP, group_form(owner, name="A" * 121))

    assert "at most 120 characters" in errors_of(response)["name"][0]
    assert ThriftGroup.objects.count() == 0


# --- spreadsheets ----------------------------------------------------------


def upload(client, url_name: str, data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse(url_name),
        {"resource": "0", "format": "0", "import_file": SimpleUploadedFile(name, data)},
    )


def test_a_50_mb_file_is_refused_before_it_is_read(owner_client):
    data = b"group,member,round,amount_paid\r\n" + b"x" * (50 * 1024 * 1024)

    response = upload(owner_client, "admin:thrift_contribution_import", data, "big.csv")

    assert response.status_code == 200
    assert "The file is 50.0 MB; the largest file we import is 20.0 MB" in (
        response.content.decode()
    )
    assert ThriftGroup.objects.count() == 0


def test_a_picture_renamed_csv_is_refused(owner_client):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8

    response = upload(owner_client, "admin:thrift_contribution_import", png, "pay.csv")

    assert response.status_code == 200
    assert "This is not a CSV text file." in response.content.decode()


def test_headers_in_another_language_are_named_as_unknown(owner_client):
    data = "groupe,membre,tour,montant_payé\r\nAjo,08031234567,1,5000\r\n".encode()

    response = upload(owner_client, "admin:thrift_contribution_import", data, "fr.csv")

    page = response.content.decode()
    assert response.status_code == 200
    assert "groupe" in page and "montant_payé" in page
    assert "Confirm import" not in page


def test_a_cell_that_starts_with_equals_is_kept_as_text_and_exported_inert(
    owner_client,
):
    from accounts.models import User

    formula = '=HYPERLINK("http://example.invalid","Pay")'
    quoted = '"' + formula.replace('"', '""') + '"'
    data = (
        "first_name,last_name,phone,email,bank_name,account_number,account_name\r\n"
        + quoted
        + ",Okafor,08031112222,a@example.ng,GTBank,0123456789,OKAFOR A\r\n"
    ).encode()

    preview = upload(owner_client, "admin:accounts_user_import", data, "members.csv")
    confirm = preview.context["confirm_form"].initial
    owner_client.post(reverse("admin:accounts_user_process_import"), confirm)

    member = User.objects.get(phone="+2348031112222")
    assert member.first_name == formula
    from accounts.resources import MemberResource

    form = {"format": "0", "resource": "0"}
    for name in MemberResource().get_export_order():
        form[f"memberresource_{name}"] = "on"
    export = owner_client.post(
        reverse("admin:accounts_user_export") + "?q=08031112222", form
    )
    body = export.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in body
    assert "\n=HYPERLINK" not in body and ",=HYPERLINK" not in body
