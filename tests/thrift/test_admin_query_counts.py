"""Every changelist and change page runs a fixed number of queries, however
many rows it shows: the lists below hold 50 or more rows a page, so a
foreign key fetched row by row would add 50 queries and fail."""

import datetime

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.models import User
from tests.factories import make_group, make_places
from thrift import services
from thrift.models import (
    Contribution,
    Cycle,
    Membership,
    Payout,
    PositionSwap,
    Round,
    ThriftGroup,
)

pytestmark = pytest.mark.django_db

ROUTE = "test: query counts"
MAX_QUERIES = 12
MODELS = (
    ThriftGroup,
    Membership,
    Cycle,
    Round,
    Contribution,
    Payout,
    PositionSwap,
    User,
)


@pytest.fixture
def ledger(coordinator):
    """60 groups of one coordinator: 52 of one place (paid and paid out)
    and 8 of eight places with a cycle running and seven swaps each."""
    for _ in range(52):
        group = make_group(coordinator=coordinator)
        make_places(group, 1)
        cycle = services.start_cycle(group, by=coordinator, route=ROUTE)
        services.mark_paid(
            Contribution.objects.filter(group=group),
            by=coordinator,
            route=ROUTE,
            reference=f"TRF{group.pk:06d}",
        )
        services.record_payout(cycle.rounds.get(), by=coordinator, route=ROUTE)
    for _ in range(8):
        group = make_group(coordinator=coordinator)
        places = make_places(group, 8)
        services.start_cycle(group, by=coordinator, route=ROUTE)
        for place in places[1:]:
            services.swap_positions(
                places[0],
                Membership.objects.get(pk=place.pk),
                reason="Asked to collect later.",
                by=coordinator,
                route=ROUTE,
            )
    counts = {m.__name__: m.objects.count() for m in MODELS}
    assert counts == {
        "ThriftGroup": 60,
        "Membership": 116,
        "Cycle": 60,
        "Round": 116,
        "Contribution": 564,
        "Payout": 52,
        "PositionSwap": 56,
        "User": counts["User"],
    }
    assert counts["User"] > 116
    return coordinator


def url(model, view, *args):
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def list_urls(model) -> list[str]:
    """The changelist unfiltered, filtered, searched, sorted by each column
    and on its second page."""
    base = url(model, "changelist")
    model_admin = admin.site._registry[model]
    fields = {f.name for f in model._meta.get_fields()}
    urls = [base, f"{base}?p=2"]
    if "group" in fields:
        group = ThriftGroup.objects.order_by("pk").last()
        urls.append(f"{base}?group__id__exact={group.pk}")
    if "status" in fields:
        urls.append(f"{base}?status__exact={model._meta.get_field('status').default}")
    if model is Contribution:
        urls.append(f"{base}?overdue=yes")
    search = " ".join(model_admin.search_fields)
    if "phone" in search:
        urls.append(f"{base}?q=08030000001")
    if "reference" in search:
        urls.append(f"{base}?q=TRF0")
    if "name" in search:
        urls.append(f"{base}?q=Member")
    urls += [f"{base}?o={n}" for n in range(1, len(model_admin.list_display))]
    return urls


def test_owner_lists_and_change_pages_query_count_is_bounded(
    ledger, owner_client, django_assert_max_num_queries
):
    for model in MODELS:
        for page in list_urls(model):
            with django_assert_max_num_queries(MAX_QUERIES, info=page):
                response = owner_client.get(page)
            assert response.status_code == 200, page
        obj = model.objects.order_by("pk").last()
        page = url(model, "change", obj.pk)
        with django_assert_max_num_queries(MAX_QUERIES, info=page):
            response = owner_client.get(page)
        assert response.status_code == 200, page


def test_coordinator_lists_and_change_pages_query_count_is_bounded(
    ledger, client, django_assert_max_num_queries
):
    client.force_login(ledger)
    for model in MODELS:
        for page in list_urls(model):
            with django_assert_max_num_queries(MAX_QUERIES, info=page):
                response = client.get(page)
            assert response.status_code == 200, page
        obj = model.objects.order_by("pk").last()
        page = url(model, "change", obj.pk)
        with django_assert_max_num_queries(MAX_QUERIES, info=page):
            response = client.get(page)
        assert response.status_code == 200, page


def test_a_full_page_shows_fifty_rows(ledger, owner_client):
    response = owner_client.get(url(Contribution, "changelist"))
    assert len(response.context["cl"].result_list) == 50
    assert response.context["cl"].result_count == 564


def test_phone_search_matches_the_member_in_any_written_form(owner_client, ledger):
    member = User.objects.filter(memberships__isnull=False).order_by("pk").first()
    national = "0" + member.phone[4:]
    spaced = f"234 {member.phone[4:7]} {member.phone[7:10]} {member.phone[10:]}"
    expected = sorted(
        Contribution.objects.filter(membership__member=member).values_list(
            "pk", flat=True
        )
    )
    found = {}
    for term in (member.phone, national, spaced):
        response = owner_client.get(url(Contribution, "changelist"), {"q": term})
        found[term] = sorted(c.pk for c in response.context["cl"].result_list)
    assert expected
    assert found == {member.phone: expected, national: expected, spaced: expected}


def test_reference_search_matches_by_prefix_only(owner_client, ledger):
    contribution = Contribution.objects.exclude(reference="").order_by("pk").first()
    prefix = contribution.reference[:-1]
    response = owner_client.get(url(Contribution, "changelist"), {"q": prefix})
    found = {c.pk for c in response.context["cl"].result_list}
    assert contribution.pk in found
    assert found == set(
        Contribution.objects.filter(reference__startswith=prefix).values_list(
            "pk", flat=True
        )
    )

    inner = contribution.reference[1:]
    response = owner_client.get(url(Contribution, "changelist"), {"q": inner})
    assert list(response.context["cl"].result_list) == []


def test_name_search_matches_the_start_of_a_name(owner_client, ledger):
    member = User.objects.filter(memberships__isnull=False).order_by("pk").first()
    response = owner_client.get(
        url(Membership, "changelist"), {"q": member.last_name[:5]}
    )
    found = {p.member_id for p in response.context["cl"].result_list}
    assert member.pk in found
    response = owner_client.get(
        url(Membership, "changelist"), {"q": member.last_name[1:]}
    )
    assert list(response.context["cl"].result_list) == []


def test_keys_first_pages_match_plain_slices(owner_client, ledger):
    expected = list(
        Contribution.objects.order_by(
            "due_date", "round_id", "membership_id"
        ).values_list("pk", flat=True)[50:100]
    )
    response = owner_client.get(url(Contribution, "changelist"), {"p": 2})
    assert [c.pk for c in response.context["cl"].result_list] == expected


def test_sorting_breaks_ties_in_the_column_direction(owner_client, ledger):
    # Column 0 is the action checkbox.
    amount_column = (
        admin.site._registry[Contribution].list_display.index("amount_due_money") + 1
    )
    ascending = owner_client.get(
        url(Contribution, "changelist"), {"o": str(amount_column)}
    )
    descending = owner_client.get(
        url(Contribution, "changelist"), {"o": f"-{amount_column}"}
    )
    assert ascending.context["cl"].get_ordering(
        ascending.wsgi_request, Contribution.objects.all()
    ) == ["amount_due", "pk"]
    assert descending.context["cl"].get_ordering(
        descending.wsgi_request, Contribution.objects.all()
    ) == ["-amount_due", "-pk"]
    pks = [c.pk for c in ascending.context["cl"].result_list]
    assert pks == sorted(pks)  # every amount is the same: ties by pk, ascending


def test_date_years_walk_finds_the_same_years_as_distinct(owner_client, ledger):
    from thrift.admin_lists import with_index_walk_dates

    group = ThriftGroup.objects.order_by("pk").first()
    Contribution.objects.filter(group=group).update(due_date=datetime.date(2020, 3, 31))
    rows = Contribution.objects.all()
    walked = with_index_walk_dates(rows)
    assert walked.dates("due_date", "year") == list(rows.dates("due_date", "year"))
    assert walked.dates("due_date", "year", "DESC") == list(
        rows.dates("due_date", "year", "DESC")
    )
    assert walked.dates("due_date", "month", "DESC") == list(
        rows.dates("due_date", "month", "DESC")
    )
    one_year = with_index_walk_dates(rows.filter(due_date__year=2026))
    assert one_year.dates("due_date", "month") == list(
        rows.filter(due_date__year=2026).dates("due_date", "month")
    )
    assert datetime.date(2020, 1, 1) in walked.dates("due_date", "year")


def test_group_filter_lists_groups_only_while_few(owner_client, ledger, monkeypatch):
    from thrift import admin_lists

    page = url(Contribution, "changelist")
    response = owner_client.get(page)
    spec = next(
        s
        for s in response.context["cl"].filter_specs
        if getattr(s, "field_path", None) == "group"
    )
    assert len(spec.lookup_choices) == 60

    monkeypatch.setattr(admin_lists, "GROUP_CHOICES_MAX", 10)
    group = ThriftGroup.objects.order_by("pk").last()
    response = owner_client.get(page, {"group__id__exact": group.pk})
    spec = next(
        s
        for s in response.context["cl"].filter_specs
        if getattr(s, "field_path", None) == "group"
    )
    assert spec.lookup_choices == [(group.pk, group.name)]
    assert {c.group_id for c in response.context["cl"].result_list} == {group.pk}

    response = owner_client.get(page)
    paths = [
        getattr(s, "field_path", None) for s in response.context["cl"].filter_specs
    ]
    assert "group" not in paths


def test_joined_columns_are_not_sortable_on_large_tables(
    owner_client, ledger, monkeypatch
):
    from thrift import admin_lists

    model_admin = admin.site._registry[Contribution]
    request = owner_client.get(url(Contribution, "changelist")).wsgi_request
    assert model_admin.get_sortable_by(request) == model_admin.list_display

    monkeypatch.setattr(admin_lists, "cached_row_estimate", lambda model: 10**6)
    assert model_admin.get_sortable_by(request) == [
        "due_date",
        "amount_due_money",
        "amount_paid_money",
        "status_badge",
        "paid_on",
        "method",
        "reference",
    ]
