"""The sample files in fixtures/ import cleanly into the demo, twice."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.models import User
from tests.thrift.spreadsheet_files import run_import
from thrift.models import Contribution, Payout
from thrift.resources import ContributionResource, PayoutResource

pytestmark = pytest.mark.django_db

FIXTURES = Path(settings.BASE_DIR) / "fixtures"


def test_the_sample_payment_and_payout_files_import_into_the_demo(roles):
    call_command("load_demo", stdout=io.StringIO())
    tunde = User.objects.get(username="tunde.coordinator")
    amaka = User.objects.get(username="amaka.coordinator")
    payments = (FIXTURES / "contributions.csv").read_bytes()
    payouts = (FIXTURES / "payouts.csv").read_bytes()

    first = run_import(ContributionResource, payments, user=tunde, file_name="c.csv")
    assert first.error_messages() == []
    assert first.counts() == {"new": 0, "updated": 4, "unchanged": 0, "errors": 0}
    again = run_import(ContributionResource, payments, user=tunde, file_name="c.csv")
    assert again.counts() == {"new": 0, "updated": 0, "unchanged": 4, "errors": 0}
    statuses = list(
        Contribution.objects.filter(
            group__name="Civil Servants Monthly Thrift",
            round__number=5,
            membership__position__lte=4,
        )
        .order_by("membership__position")
        .values_list("status", flat=True)
    )
    assert statuses == ["paid", "paid", "paid", "pending"]

    count = Payout.objects.count()
    first = run_import(PayoutResource, payouts, user=amaka, file_name="p.csv")
    assert first.error_messages() == []
    assert first.counts()["new"] == 1
    again = run_import(PayoutResource, payouts, user=amaka, file_name="p.csv")
    assert again.counts()["unchanged"] == 1
    assert Payout.objects.count() == count + 1
