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
