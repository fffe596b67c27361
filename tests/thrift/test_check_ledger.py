import io

import pytest
from django.core.management import call_command

from tests.factories import running_group
from thrift.models import Contribution

pytestmark = pytest.mark.django_db


def run() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("check_ledger", stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def test_clean_ledger_passes_on_the_demo(roles):
    call_command("load_demo", stdout=io.StringIO())
    code, out, _ = run()
    assert code == 0
    assert "every invariant holds" in out


def test_each_violation_is_listed_and_fails_the_command():
    group, places, cycle = running_group(places=3)
    # Written around the services on purpose: a contribution marked paid
    # with money missing, and one gone from a round.
    first, second = Contribution.objects.filter(group=group).order_by("pk")[:2]
    Contribution.objects.filter(pk=first.pk).update(amount_paid=first.amount_due - 1)
    Contribution.objects.filter(pk=second.pk).delete()

    code, out, err = run()

    assert code == 1
    assert f"contribution {first.pk}" not in out  # pending, short: allowed
    assert f"round {second.round_id}: 2 contributions for 3 places" in out
    assert "1 violation(s) found" in err
