import pytest
from django.urls import reverse

from tests.factories import running_group
from thrift import services
from thrift.ledger import find_violations
from thrift.models import Contribution, Payout

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_out():
    group, places, cycle = running_group(places=2)
    r = cycle.rounds.get(number=1)
    services.mark_paid(r.contributions.all(), by=group.coordinator, route="test")
    return services.record_payout(r, by=group.coordinator, route="test")


@pytest.mark.parametrize("model", [Payout, Contribution])
def test_the_owner_cannot_delete_money_records(owner_client, paid_out, model):
    obj = model.objects.order_by("pk").first()
    name = model._meta.model_name
    page = owner_client.get(reverse(f"admin:thrift_{name}_delete", args=[obj.pk]))
    bulk = owner_client.post(
        reverse(f"admin:thrift_{name}_changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )

    assert page.status_code == 403
    assert bulk.status_code in (200, 302)
    assert model.objects.filter(pk=obj.pk).exists()
    assert find_violations() == []
