"""The database going away in the middle of a money operation leaves
nothing half-written, and the next attempt succeeds."""

import pytest
from django.db import OperationalError, connection
from django.db.models.signals import post_save

from tests.factories import make_group, make_places, running_group
from thrift import services
from thrift.models import Contribution, Cycle, Payout, Round


def kill_own_connection() -> None:
    """Cut this connection from the server side, as a crash or a network
    failure would; the open transaction dies with it."""
    if connection.vendor != "mysql":
        # SQLite has no server to lose; an error mid-transaction is the
        # nearest fault and must roll back the same way.
        raise OperationalError("database went away (simulated)")
    import MySQLdb

    victim = connection.connection.thread_id()
    params = connection.get_connection_params()
    killer = MySQLdb.connect(
        host=params.get("host", "127.0.0.1"),
        port=params.get("port", 3306),
        user=params.get("user"),
        password=params.get("password", ""),
    )
    try:
        killer.cursor().execute(f"KILL CONNECTION {int(victim)}")
    finally:
        killer.close()


class FaultAfter:
    """Kill the connection once `count` rows of `model` have been saved."""

    def __init__(self, model, count: int = 1):
        self.model, self.count, self.seen = model, count, 0

    def __enter__(self):
        post_save.connect(self.receive, sender=self.model, weak=False)
        return self

    def __exit__(self, *exc):
        post_save.disconnect(self.receive, sender=self.model)

    def receive(self, **kwargs):
        self.seen += 1
        if self.seen == self.count:
            kill_own_connection()


def reconnect() -> None:
    connection.close()
    connection.ensure_connection()


@pytest.mark.django_db(transaction=True)
def test_payout_interrupted_is_not_half_written_and_retry_succeeds():
    group, places, cycle = running_group(places=3)
    r = cycle.rounds.get(number=1)
    services.mark_paid(r.contributions.all(), by=group.coordinator, route="test")

    with pytest.raises(OperationalError), FaultAfter(Payout):
        services.record_payout(r, by=group.coordinator, route="test")
    reconnect()

    assert Payout.objects.count() == 0
    assert Round.objects.get(pk=r.pk).status == Round.Status.OPEN

    payout = services.record_payout(r, by=group.coordinator, route="test")
    assert payout.amount == r.group.contribution_amount * 3
    assert Round.objects.get(pk=r.pk).status == Round.Status.PAID_OUT


@pytest.mark.django_db(transaction=True)
def test_start_cycle_interrupted_leaves_no_cycle_and_retry_succeeds():
    group = make_group()
    make_places(group, 4)

    # Cut once the cycle row is saved: positions are set, rounds not yet made.
    with pytest.raises(OperationalError), FaultAfter(Cycle):
        services.start_cycle(group, by=group.coordinator, route="test")
    reconnect()

    assert Cycle.objects.count() == 0
    assert Round.objects.count() == 0
    assert Contribution.objects.count() == 0
    assert group.memberships.exclude(position=None).count() == 0

    cycle = services.start_cycle(group, by=group.coordinator, route="test")
    assert cycle.rounds.count() == 4
    assert Contribution.objects.filter(round__cycle=cycle).count() == 16


@pytest.mark.django_db(transaction=True)
def test_payment_interrupted_is_not_recorded_and_retry_succeeds():
    group, places, cycle = running_group(places=2)
    c = Contribution.objects.filter(group=group).order_by("pk").first()

    with pytest.raises(OperationalError), FaultAfter(Contribution):
        services.pay_contribution(c, by=group.coordinator, route="test")
    reconnect()

    c.refresh_from_db()
    assert c.status == Contribution.Status.PENDING
    assert c.amount_paid == 0
    assert c.history.count() == 1  # only its creation

    c, changed = services.pay_contribution(c, by=group.coordinator, route="test")
    assert changed
    assert c.status == Contribution.Status.PAID


class FaultOnSQL:
    """Kill the connection the first time a statement containing `text` is
    about to run: the fault lands in the middle of a request's writes."""

    def __init__(self, text: str):
        self.text, self.fired = text, False

    def __call__(self, execute, sql, params, many, context):
        if not self.fired and self.text in sql:
            self.fired = True
            kill_own_connection()
        return execute(sql, params, many, context)

    def __enter__(self):
        self.wrapper = connection.execute_wrapper(self)
        self.wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        self.wrapper.__exit__(*exc)


@pytest.mark.django_db(transaction=True)
def test_an_import_cut_off_writes_nothing_and_a_second_try_succeeds(
    client, settings, roles
):
    from django.urls import reverse

    from tests.factories import make_staff
    from tests.thrift.spreadsheet_files import csv_bytes

    settings.DEBUG = False
    owner = make_staff(username="boss", is_superuser=True)
    group, places, cycle = running_group(places=2, coordinator=owner)
    client.force_login(owner)
    client.raise_request_exception = False
    rows = [["group", "member", "round", "amount_paid", "paid_on", "method"]] + [
        [group.name, p.member.phone, "1", "10000", "2026-11-30", "cash"] for p in places
    ]

    def confirm():
        from django.core.files.uploadedfile import SimpleUploadedFile

        preview = client.post(
            reverse("admin:thrift_contribution_import"),
            {
                "resource": "0",
                "format": "0",
                "import_file": SimpleUploadedFile("nov.csv", csv_bytes(rows)),
            },
        )
        return client.post(
            reverse("admin:thrift_contribution_process_import"),
            preview.context["confirm_form"].initial,
        )

    with FaultOnSQL("thrift_historicalcontribution"):
        failed = confirm()
    reconnect()

    # The import catches the failure and says so on the import page.
    assert failed.status_code == 302
    said = [str(m) for m in failed.wsgi_request._messages]
    assert said and said[0].startswith("Nothing was imported")
    assert Contribution.objects.filter(group=group).exclude(amount_paid=0).count() == 0

    client.force_login(owner)
    assert confirm().status_code == 302
    assert Contribution.objects.filter(group=group, status="paid").count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_action_cut_off_shows_our_error_page_and_writes_nothing(
    client, settings, roles
):
    from django.urls import reverse

    from tests.factories import make_staff

    settings.DEBUG = False
    owner = make_staff(username="boss", is_superuser=True)
    group, places, cycle = running_group(places=2, coordinator=owner)
    chosen = list(
        Contribution.objects.filter(round__number=1, group=group).values_list(
            "pk", flat=True
        )
    )
    client.force_login(owner)
    client.raise_request_exception = False
    form = {
        "action": "mark_paid",
        "_selected_action": chosen,
        "confirm": "1",
        "paid_on": "2026-11-30",
        "method": "cash",
        "reference": "CUT-1",
    }
    url = reverse("admin:thrift_contribution_changelist")

    with FaultOnSQL("thrift_historicalcontribution"):
        failed = client.post(url, form)
    reconnect()

    assert failed.status_code == 500
    assert "Traceback" not in failed.content.decode()
    assert Contribution.objects.filter(pk__in=chosen, status="paid").count() == 0

    client.force_login(owner)
    client.post(url, form)
    assert Contribution.objects.filter(pk__in=chosen, status="paid").count() == 2
