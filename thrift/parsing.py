"""Read the values people type into spreadsheets.

Each parser takes a cell as a CSV string or an XLSX cell value (number,
date) and returns a clean Python value, or raises `ValueError` with a
message a treasurer understands. A value that cannot be read is refused,
never turned into zero or a guess.
"""

import datetime
import re
from decimal import Decimal, InvalidOperation

from .money import to_money

# "200000", "200,000.00", "₦200,000", "N200,000", "NGN 200,000.50".
_CURRENCY_PREFIX = re.compile(r"^(₦|NGN|N)\s*", re.IGNORECASE)
_PLAIN_AMOUNT = re.compile(r"^\d+(\.\d{1,2})?$")
_GROUPED_AMOUNT = re.compile(r"^\d{1,3}(,\d{3})+(\.\d{1,2})?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_FIRST_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")

AMOUNT_HELP = "Write amounts as 200000, 200,000.00, ₦200,000 or N200,000."
DATE_HELP = "Write dates as 2026-01-31 or 31/01/2026 (day first)."

TRUE_WORDS = {"yes", "y", "true", "1"}
FALSE_WORDS = {"no", "n", "false", "0"}


def clean_text(value) -> str:
    """The cell as text with surrounding spaces removed; empty for a blank."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def is_blank(value) -> bool:
    return clean_text(value) == ""


def parse_amount(value) -> Decimal:
    """Read a money amount of at most two decimal places, zero or more."""
    if isinstance(value, bool):
        raise ValueError(f"{value} is not an amount. {AMOUNT_HELP}")
    if isinstance(value, int | Decimal):
        amount = Decimal(value)
    elif isinstance(value, float):
        # An XLSX number cell: its shortest decimal form is what the sheet shows.
        amount = Decimal(repr(value))
    else:
        text = clean_text(value)
        if not text:
            raise ValueError(f"The amount is missing. {AMOUNT_HELP}")
        digits = _CURRENCY_PREFIX.sub("", text).replace(" ", "")
        if not (_PLAIN_AMOUNT.match(digits) or _GROUPED_AMOUNT.match(digits)):
            raise ValueError(f"{text} is not an amount we can read. {AMOUNT_HELP}")
        amount = Decimal(digits.replace(",", ""))
    try:
        exact = amount == amount.quantize(Decimal("0.01"))
    except InvalidOperation:
        exact = False
    if not exact:
        raise ValueError(f"{value} has more than two decimal places (kobo).")
    if amount < 0:
        raise ValueError(f"{value} is negative; amounts are never below zero.")
    return to_money(amount)


def parse_date(value) -> datetime.date:
    """Read a date: an XLSX date cell, 2026-01-31, or 31/01/2026 (day first)."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = clean_text(value)
    if not text:
        raise ValueError(f"The date is missing. {DATE_HELP}")
    if match := _ISO_DATE.match(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DAY_FIRST_DATE.match(text):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise ValueError(f"{text} is not a date we can read. {DATE_HELP}")
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise ValueError(
            f"{text} is not a real date (day {day} of month {month}). {DATE_HELP}"
        ) from None


def parse_whole_number(value, *, minimum: int = 1) -> int:
    """Read a whole number such as a position or round number."""
    if isinstance(value, bool):
        raise ValueError(f"{value} is not a whole number.")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{value} is not a whole number.")
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        text = clean_text(value)
        if not re.fullmatch(r"\d+", text):
            raise ValueError(f"{text or 'An empty cell'} is not a whole number.")
        number = int(text)
    if number < minimum:
        raise ValueError(f"{number} is too small; the lowest allowed is {minimum}.")
    return number


def parse_choice(value, choices, what: str) -> str:
    """Match `value` to one of `choices` (a TextChoices), by value or label,
    in any case; return the stored value."""
    text = clean_text(value)
    wanted = " ".join(text.lower().replace("_", " ").split())
    for stored, label in choices.choices:
        if wanted in {stored.lower().replace("_", " "), str(label).lower()}:
            return stored
    allowed = ", ".join(stored for stored, _ in choices.choices)
    raise ValueError(
        f"{text or 'An empty cell'} is not a {what}. Use one of: {allowed}."
    )


def parse_yes_no(value) -> bool:
    """Read yes/no, true/false or 1/0 in any case."""
    if isinstance(value, bool):
        return value
    text = clean_text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"{clean_text(value) or 'An empty cell'} is not yes or no.")


def phone_text(value) -> str:
    """A phone cell as text. Excel drops the leading 0 of a number typed
    into a number cell (8052601815); a 10-digit Nigerian mobile number is
    unambiguous without it, so the 0 is put back."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = clean_text(value)
        if re.fullmatch(r"[789][01]\d{8}", text):
            return "0" + text
        return text
    return clean_text(value)
