"""Arrears: what is still owed on contributions past their due date, per
place, member and group, summed in the database. Values worked by hand."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import make_group, make_user
from tests.thrift.support import ROUTE, history_counts
from thrift import services
from thrift.models import Contribution, ThriftGroup

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 3, 1)


@pytest.fixture
def book():
    """Two groups, four members, part payments and waived shares.

    Group A, monthly from 31 Jan, 10,000 a place; Ada holds two hands:
      R1 (31 Jan)  ada/1 paid, bisi/2 paid 4,000, ada/3 nothing
      R2 (28 Feb)  ada/1 paid 2,500.50, bisi/2 paid, ada/3 nothing
      R3 (31 Mar)  bisi/2 paid 1,000 (not yet due on 1 March)
    Group B, weekly from 2 Feb, 5,000 a place; Dayo leaves on 1 Feb, so
    his shares and all of round 3 are waived:
      R1 (2 Feb)   bisi nothing, chidi paid
      R2 (9 Feb)   bisi paid 1,234.56, chidi nothing
    """
    ada, bisi, chidi, dayo = (
        make_user(first_name=n) for n in "Ada Bisi Chidi Dayo".split()
    )
    a = make_group(allow_multiple_places=True)
    b = make_group(
        frequency="weekly",
        start_date=D(2026, 2, 2),
        contribution_amount=Decimal("5000.00"),
        coordinator=a.coordinator,
    )
    by = a.coordinator
    places = {
        "ada1": services.join_group(a, ada, by=by, route=ROUTE),
        "bisi2": services.join_group(a, bisi, by=by, route=ROUTE),
        "ada3": services.join_group(a, ada, by=by, route=ROUTE),
        "bisi_b": services.join_group(b, bisi, by=by, route=ROUTE),
        "chidi_b": services.join_group(b, chidi, by=by, route=ROUTE),
        "dayo_b": services.join_group(b, dayo, by=by, route=ROUTE),
    }
    services.start_cycle(a, by=by, route=ROUTE)
    services.start_cycle(b, by=by, route=ROUTE)
    services.leave_group(places["dayo_b"], by=by, route=ROUTE, today=D(2026, 2, 1))

    def pay(place, number, amount=None):
        c = Contribution.objects.get(membership=places[place], round__number=number)
        services.pay_contribution(c, by=by, route=ROUTE, amount=amount)

    pay("ada1", 1)
    pay("bisi2", 1, Decimal("4000.00"))
    pay("ada1", 2, Decimal("2500.50"))
    pay("bisi2", 2)
    pay("bisi2", 3, Decimal("1000.00"))
    pay("chidi_b", 1)
    pay("bisi_b", 2, Decimal("1234.56"))
    return {
        "a": a,
        "b": b,
        "ada": ada,
        "bisi": bisi,
        "chidi": chidi,
        "dayo": dayo,
        **places,
    }


def test_overdue_is_pending_and_past_due(book):
    overdue = Contribution.objects.overdue(TODAY)

    rows = sorted(
        (c.membership_id, c.round.number, c.balance)
        for c in overdue.select_related("round")
    )
    assert rows == sorted(
        [
            (book["bisi2"].pk, 1, Decimal("6000.00")),
            (book["ada3"].pk, 1, Decimal("10000.00")),
            (book["ada1"].pk, 2, Decimal("7499.50")),
            (book["ada3"].pk, 2, Decimal("10000.00")),
            (book["bisi_b"].pk, 1, Decimal("5000.00")),
            (book["bisi_b"].pk, 2, Decimal("3765.44")),
            (book["chidi_b"].pk, 2, Decimal("5000.00")),
        ]
    )
    assert not overdue.filter(status=Contribution.Status.WAIVED).exists()


def test_a_contribution_due_today_is_not_yet_overdue(book):
    on_the_day = Contribution.objects.filter(group=book["a"]).overdue(D(2026, 2, 28))

    assert on_the_day.arrears_total(D(2026, 2, 28)) == Decimal("16000.00")
    assert set(on_the_day.values_list("round__number", flat=True)) == {1}


def test_the_model_and_the_queryset_agree_on_overdue(book):
    overdue = set(Contribution.objects.overdue(TODAY).values_list("pk", flat=True))

    for c in Contribution.objects.all():
        assert c.is_overdue(TODAY) == (c.pk in overdue)


def test_arrears_total_per_group_and_overall(book):
    assert Contribution.objects.arrears_total(TODAY) == Decimal("47264.94")
    assert list(Contribution.objects.arrears_by_group(TODAY)) == [
        {"group": book["a"].pk, "arrears": Decimal("33499.50"), "overdue_count": 4},
        {"group": book["b"].pk, "arrears": Decimal("13765.44"), "overdue_count": 3},
    ]


def test_arrears_per_place(book):
    rows = {
        r["membership"]: (r["arrears"], r["overdue_count"])
        for r in Contribution.objects.arrears_by_place(TODAY)
    }

    assert rows == {
        book["ada1"].pk: (Decimal("7499.50"), 1),
        book["bisi2"].pk: (Decimal("6000.00"), 1),
        book["ada3"].pk: (Decimal("20000.00"), 2),
        book["bisi_b"].pk: (Decimal("8765.44"), 2),
        book["chidi_b"].pk: (Decimal("5000.00"), 1),
    }


def test_arrears_per_member_adds_up_two_hands_and_two_groups(book):
    rows = list(Contribution.objects.arrears_by_member(TODAY))

    assert rows == [
        {
            "membership__member": book["ada"].pk,
            "arrears": Decimal("27499.50"),
            "overdue_count": 3,
        },
        {
            "membership__member": book["bisi"].pk,
            "arrears": Decimal("14765.44"),
            "overdue_count": 3,
        },
        {
            "membership__member": book["chidi"].pk,
            "arrears": Decimal("5000.00"),
            "overdue_count": 1,
        },
    ]


def test_nothing_owed_is_zero_not_none(book):
    nobody = Contribution.objects.filter(membership=book["dayo_b"])

    assert nobody.arrears_total(TODAY) == Decimal("0.00")
    assert list(nobody.arrears_by_place(TODAY)) == []


def test_each_arrears_query_is_one_query(book, django_assert_num_queries):
    with django_assert_num_queries(1):
        Contribution.objects.arrears_total(TODAY)
    with django_assert_num_queries(1):
        list(Contribution.objects.arrears_by_member(TODAY))


def test_arrears_write_nothing(book):
    before = history_counts()
    states = list(Contribution.objects.values_list("pk", "status", "amount_paid"))

    Contribution.objects.arrears_total(TODAY)
    list(Contribution.objects.arrears_by_place(TODAY))
    list(Contribution.objects.arrears_by_member(TODAY))
    list(Contribution.objects.arrears_by_group(TODAY))

    assert history_counts() == before
    assert (
        list(Contribution.objects.values_list("pk", "status", "amount_paid")) == states
    )


@pytest.mark.parametrize(
    ("utc_now", "overdue_in_round_2"),
    [
        # 23:59 in Lagos on 28 Feb: round 2 is due today, not overdue.
        (datetime.datetime(2026, 2, 28, 22, 59, tzinfo=datetime.UTC), False),
        # 00:30 in Lagos on 1 March, still 28 Feb in UTC: overdue.
        (datetime.datetime(2026, 2, 28, 23, 30, tzinfo=datetime.UTC), True),
    ],
)
def test_overdue_counts_the_day_in_lagos(
    book, monkeypatch, utc_now, overdue_in_round_2
):
    monkeypatch.setattr(timezone, "now", lambda: utc_now)

    overdue = Contribution.objects.filter(group=book["a"]).overdue()

    assert overdue.filter(round__number=2).exists() is overdue_in_round_2


# --- totals of a list of contributions ------------------------------------


def test_totals_per_currency_leave_out_waived_shares(book):
    ThriftGroup.objects.filter(pk=book["b"].pk).update(currency="GHS")

    rows = list(Contribution.objects.totals_by_currency())

    # B: Dayo's three shares and round 3 are waived; four shares of 5,000
    # remain, of which 5,000 and 1,234.56 are paid.
    assert rows == [
        {
            "currency": "GHS",
            "count": 9,
            "due": Decimal("20000.00"),
            "paid": Decimal("6234.56"),
            "outstanding": Decimal("13765.44"),
        },
        {
            "currency": "NGN",
            "count": 9,
            "due": Decimal("90000.00"),
            "paid": Decimal("27500.50"),
            "outstanding": Decimal("62499.50"),
        },
    ]


def test_totals_of_waived_shares_alone_are_zero(book):
    waived = Contribution.objects.filter(status=Contribution.Status.WAIVED)

    assert list(waived.totals_by_currency()) == [
        {
            "currency": "NGN",
            "count": 5,
            "due": Decimal("0"),
            "paid": Decimal("0"),
            "outstanding": Decimal("0"),
        }
    ]


def test_totals_follow_the_filter_and_take_one_query(book, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = list(
            Contribution.objects.filter(membership=book["bisi2"]).totals_by_currency()
        )

    assert [(r["count"], r["due"], r["paid"], r["outstanding"]) for r in rows] == [
        (3, Decimal("30000.00"), Decimal("15000.00"), Decimal("15000.00"))
    ]


def test_no_contributions_have_no_totals(db):
    assert list(Contribution.objects.none().totals_by_currency()) == []
    assert list(Contribution.objects.all().totals_by_currency()) == []
