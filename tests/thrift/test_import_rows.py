from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS

from thrift import exceptions as err
from thrift import parsing
from thrift.resources import read_cells, read_text, refusal
from thrift.resources.contributions import REFUSAL_COLUMNS


def test_cells_are_read_by_column_and_blanks_skipped():
    row = {"amount": "₦1,500", "reference": "'=ref", "paid_on": "  ", "other": "x"}
    readers = {
        "amount": parsing.parse_amount,
        "reference": read_text,
        "paid_on": parsing.parse_date,
        "missing": parsing.parse_date,
    }

    values, errors = read_cells(row, readers)

    assert values == {"amount": Decimal("1500.00"), "reference": "=ref"}
    assert errors == {}


def test_every_unreadable_cell_is_an_error_under_its_column():
    row = {"amount": "lots", "paid_on": "31/02/2026", "reference": "ok"}
    readers = {
        "amount": parsing.parse_amount,
        "paid_on": parsing.parse_date,
        "reference": read_text,
    }

    values, errors = read_cells(row, readers)

    assert values == {"reference": "ok"}
    assert sorted(errors) == ["amount", "paid_on"]
    assert all(len(messages) == 1 and messages[0] for messages in errors.values())


def test_a_refusal_goes_under_the_column_its_class_maps_to():
    error = refusal(err.Overpayment("Too much."), REFUSAL_COLUMNS)

    assert error.message_dict == {"amount_paid": ["Too much."]}


def test_an_unmapped_refusal_goes_to_the_whole_row():
    error = refusal(err.CycleNotOpen("Closed."), REFUSAL_COLUMNS)

    assert error.message_dict == {NON_FIELD_ERRORS: ["Closed."]}


def test_a_refusal_under_one_column():
    error = refusal(err.JoinRefused("Full."), "position")

    assert error.message_dict == {"position": ["Full."]}
