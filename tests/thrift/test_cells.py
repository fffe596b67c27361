import datetime
from decimal import Decimal

import pytest

from thrift.cells import escape_formula, unescape_formula


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+2348052601815", "'+2348052601815"),
        ("-5", "'-5"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
    ],
)
def test_text_a_spreadsheet_would_run_gets_an_apostrophe(value, shown):
    assert escape_formula(value) == shown


@pytest.mark.parametrize(
    "value",
    ["Ada Obi", "", "08052601815", "a=b", "'quoted", "O'Neil - treasurer"],
)
def test_ordinary_text_is_untouched(value):
    assert escape_formula(value) == value


@pytest.mark.parametrize(
    "value",
    [Decimal("-500.00"), -3, 0, 1.5, True, datetime.date(2026, 1, 31), None],
)
def test_numbers_dates_and_none_are_left_as_they_are(value):
    shown = escape_formula(value)

    assert shown == value
    assert type(shown) is type(value)


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("'=1+2", "=1+2"),
        ("'+234", "+234"),
        ("'-5", "-5"),
        ("'@SUM(A1)", "@SUM(A1)"),
        ("'\t=1", "\t=1"),
        ("'quoted'", "'quoted'"),
        ("'", "'"),
        ("", ""),
        ("=1+2", "=1+2"),
    ],
)
def test_unescaping_reverses_escaping_only(text, read):
    assert unescape_formula(text) == read


@pytest.mark.parametrize("value", ["=1+1", "+234", "-5", "@x", "\t=1", "plain"])
def test_escaping_then_unescaping_gives_the_text_back(value):
    assert unescape_formula(escape_formula(value)) == value
