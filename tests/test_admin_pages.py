"""Every admin page a superuser can open renders, on the demo data."""

import io

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from thrift.models import ThriftGroup

pytestmark = pytest.mark.django_db

MODEL_ADMINS = sorted(
    admin.site._registry.items(), key=lambda item: item[0]._meta.label
)


@pytest.fixture
def demo(roles):
    call_command("load_demo", stdout=io.StringIO())


def url(model, view, *args):
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


# Ledger rows are created by the product's rules, never by a bare form.
OUR_APPS = {"accounts", "thrift", "reports"}
NO_ADD_FORM = {"cycle", "round", "contribution", "payout", "positionswap"}


def test_every_changelist_change_and_add_page_renders(owner_client, demo):
    # One demo load for all pages: loading it per page would dominate the run.
    statuses = {}
    for model, _ in MODEL_ADMINS:
        name = model._meta.label
        statuses[f"{name} list"] = owner_client.get(
            url(model, "changelist")
        ).status_code
        obj = model.objects.order_by("pk").first()
        if obj is not None:
            statuses[f"{name} change"] = owner_client.get(
                url(model, "change", obj.pk)
            ).status_code
        statuses[f"{name} add"] = owner_client.get(url(model, "add")).status_code

    expected = {}
    for model, _ in MODEL_ADMINS:
        name = model._meta.label
        expected[f"{name} list"] = 200
        if model._meta.app_label in OUR_APPS:
            # The demo has at least one row of each of our models.
            expected[f"{name} change"] = 200
        no_add = model._meta.model_name in NO_ADD_FORM or name.startswith("axes.")
        expected[f"{name} add"] = 403 if no_add else 200
    assert statuses == expected


def test_root_redirects_to_admin(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_group_list_shows_money_and_places(owner_client, demo):
    response = owner_client.get(url(ThriftGroup, "changelist"))
    content = response.content.decode()
    assert "₦50,000.00" in content
    assert "Civil Servants Monthly Thrift" in content
