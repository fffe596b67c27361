import datetime
from decimal import Decimal

import pytest

from thrift import parsing
from thrift.models import Contribution, GroupStatus, PaymentMethod
from thrift.resources import ContributionResource


@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        ("200000", "200000.00"),
        ("200,000.00", "200000.00"),
        ("₦200,000", "200000.00"),
        ("N200,000", "200000.00"),
        ("n 1,500.5", "1500.50"),
        ("NGN 2,000", "2000.00"),
        ("  7500  ", "7500.00"),
        ("0", "0.00"),
        (200000, "200000.00"),
        (1500.5, "1500.50"),
        (Decimal("12.30"), "12.30"),
    ],
)
def test_amounts_as_people_type_them(cell, amount):
    assert parsing.parse_amount(cell) == Decimal(amount)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("", "The amount is missing."),
        ("abc", "abc is not an amount we can read."),
        ("2,00,000", "2,00,000 is not an amount we can read."),
        ("200.000,00", "200.000,00 is not an amount we can read."),
        ("1,00", "1,00 is not an amount we can read."),
        ("12.345", "12.345 is not an amount we can read."),
        ("$200", "$200 is not an amount we can read."),
        ("-500", "-500 is not an amount we can read."),
        (-500, "-500 is negative; amounts are never below zero."),
        (0.1 + 0.2, "0.30000000000000004 has more than two decimal places (kobo)."),
        (True, "True is not an amount."),
    ],
)
def test_unreadable_amounts_are_refused_never_zero(cell, message):
    with pytest.raises(ValueError) as refusal:
        parsing.parse_amount(cell)
    assert str(refusal.value).startswith(message)


@pytest.mark.parametrize(
    ("cell", "date"),
    [
        ("2026-01-31", datetime.date(2026, 1, 31)),
        ("31/01/2026", datetime.date(2026, 1, 31)),
        ("1/2/2026", datetime.date(2026, 2, 1)),
        (" 2026-1-5 ", datetime.date(2026, 1, 5)),
        (datetime.datetime(2026, 1, 31, 0, 0), datetime.date(2026, 1, 31)),
        (datetime.date(2026, 1, 31), datetime.date(2026, 1, 31)),
    ],
)
def test_dates_iso_day_first_and_xlsx_cells(cell, date):
    assert parsing.parse_date(cell) == date


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("", "The date is missing."),
        ("01/31/2026", "01/31/2026 is not a real date (day 1 of month 31)."),
        ("29/02/2026", "29/02/2026 is not a real date (day 29 of month 2)."),
        ("31-01-2026", "31-01-2026 is not a date we can read."),
        ("31/01/26", "31/01/26 is not a date we can read."),
        ("Jan 31 2026", "Jan 31 2026 is not a date we can read."),
        (46053, "46053 is not a date we can read."),
    ],
)
def test_unreadable_dates_are_refused_not_guessed(cell, message):
    with pytest.raises(ValueError) as refusal:
        parsing.parse_date(cell)
    assert str(refusal.value).startswith(message)


@pytest.mark.parametrize(
    ("cell", "choices", "value"),
    [
        ("PAID", Contribution.Status, "paid"),
        (" Pending ", Contribution.Status, "pending"),
        ("waived", Contribution.Status, "waived"),
        ("Bank transfer", PaymentMethod, "transfer"),
        ("TRANSFER", PaymentMethod, "transfer"),
        ("Active", GroupStatus, "active"),
    ],
)
def test_statuses_in_any_case(cell, choices, value):
    assert parsing.parse_choice(cell, choices, "status") == value


def test_unknown_status_names_the_allowed_ones():
    with pytest.raises(ValueError) as refusal:
        parsing.parse_choice("settled", Contribution.Status, "contribution status")
    assert str(refusal.value) == (
        "settled is not a contribution status. Use one of: pending, paid, waived."
    )


@pytest.mark.parametrize(("cell", "number"), [("3", 3), (" 12 ", 12), (4, 4), (5.0, 5)])
def test_whole_numbers(cell, number):
    assert parsing.parse_whole_number(cell) == number


@pytest.mark.parametrize("cell", ["3.5", 3.5, "three", "0", "", "-1"])
def test_unreadable_whole_numbers_are_refused(cell):
    with pytest.raises(ValueError):
        parsing.parse_whole_number(cell)


@pytest.mark.parametrize(
    ("cell", "text"),
    [(8052601815, "08052601815"), (2348052601815, "2348052601815"), (" 0805 ", "0805")],
)
def test_phone_cells_get_back_the_zero_excel_dropped(cell, text):
    assert parsing.phone_text(cell) == text


def test_a_negative_amount_exports_as_a_number_but_text_is_escaped():
    resource = ContributionResource()
    c = Contribution(amount_paid=Decimal("-500.00"), reference="-500.00")

    assert resource.export_field(resource.fields["amount_paid"], c) == "-500.00"
    assert resource.export_field(resource.fields["reference"], c) == "'-500.00"
    native = resource.export_field(
        resource.fields["amount_paid"], c, force_native_type=True
    )
    assert native == Decimal("-500.00")
