import io

import pytest
from django.core.management import call_command
from django.db.models import Count

from accounts.models import User
from thrift.models import (
    Contribution,
    Frequency,
    Membership,
    Payout,
    Round,
    ThriftGroup,
    lagos_today,
)

pytestmark = pytest.mark.django_db


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (User, ThriftGroup, Membership, Round, Contribution, Payout)
    }


def test_load_demo_builds_a_consistent_data_set(roles):
    out = io.StringIO()
    call_command("load_demo", stdout=out)

    assert "40 members, 4 groups, 45 places" in out.getvalue()
    assert User.objects.filter(is_staff=False).count() == 40
    assert set(ThriftGroup.objects.values_list("frequency", flat=True)) >= {
        Frequency.DAILY,
        Frequency.WEEKLY,
        Frequency.MONTHLY,
    }
    statuses = dict(
        Contribution.objects.values_list("status").annotate(n=Count("pk")).order_by()
    )
    overdue = Contribution.objects.filter(
        status="pending", due_date__lt=lagos_today()
    ).count()
    assert statuses["paid"] > overdue > 0
    assert statuses["pending"] > overdue  # some are not yet due
    assert Payout.objects.count() > 0
    # Each round has exactly one contribution per place of its cycle.
    for r in Round.objects.annotate(n=Count("contributions")):
        assert r.n == r.cycle.rounds.count()


def test_load_demo_twice_creates_nothing_new(roles):
    call_command("load_demo", stdout=io.StringIO())
    before = counts()
    out = io.StringIO()
    call_command("load_demo", stdout=out)

    assert counts() == before
    assert "0 staff, 0 members, 0 groups" in out.getvalue()
