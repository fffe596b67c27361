"""Widgets of the import files: one kind of cell value each.

Values are read with `thrift.parsing`, so a cell means the same in every
file. Text is exported with formulas made inert and read back without the
apostrophe; money, dates and whole numbers stay numbers.
"""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from import_export import widgets

from accounts.validators import normalize_phone

from .. import parsing
from ..cells import escape_formula, unescape_formula


def read_text(value) -> str:
    """A text cell as typed, less the apostrophe an export put before a
    formula."""
    return unescape_formula(parsing.clean_text(value))


class TextWidget(widgets.Widget):
    def __init__(self, *, required: bool = False, max_length: int | None = None):
        super().__init__()
        self.required = required
        self.max_length = max_length

    def clean(self, value, row=None, **kwargs):
        text = read_text(value)
        if self.required and not text:
            raise ValueError("This cell is empty; it needs a value.")
        if self.max_length and len(text) > self.max_length:
            raise ValueError(
                f"{text[:20]}... is {len(text)} characters long; the most is "
                f"{self.max_length}."
            )
        return text

    def render(self, value, obj=None, **kwargs):
        return escape_formula("" if value is None else str(value))


class ParsedWidget(widgets.Widget):
    """A cell read by one `thrift.parsing` function; an optional blank cell
    is None."""

    def __init__(self, *, required: bool = True):
        super().__init__()
        self.required = required

    @staticmethod
    def parse(value):
        raise NotImplementedError

    def clean(self, value, row=None, **kwargs):
        if not self.required and parsing.is_blank(value):
            return None
        return self.parse(value)


class AmountWidget(ParsedWidget):
    parse = staticmethod(parsing.parse_amount)

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        # Money stays a number: a native Decimal in XLSX, plain digits in CSV.
        return value if kwargs.get("force_native_type") else f"{value:.2f}"


class DateWidget(ParsedWidget):
    parse = staticmethod(parsing.parse_date)

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        if isinstance(value, datetime.datetime):
            value = timezone.localdate(value)
        return value if kwargs.get("force_native_type") else value.isoformat()


class WholeNumberWidget(ParsedWidget):
    parse = staticmethod(parsing.parse_whole_number)

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return value if kwargs.get("force_native_type") else str(value)


class ChoiceWidget(widgets.Widget):
    def __init__(self, choices, what: str, *, blank: str | None = None):
        super().__init__()
        self.choices = choices
        self.what = what
        self.blank = blank

    def clean(self, value, row=None, **kwargs):
        if self.blank is not None and parsing.is_blank(value):
            return self.blank
        return parsing.parse_choice(value, self.choices, self.what)

    def render(self, value, obj=None, **kwargs):
        return value or ""


class YesNoWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return parsing.parse_yes_no(value)

    def render(self, value, obj=None, **kwargs):
        return "yes" if value else "no"


class PhoneWidget(widgets.Widget):
    """A phone in any form the product accepts; exported as 0805..., which
    needs no escaping and is how members write it."""

    def clean(self, value, row=None, **kwargs):
        text = parsing.phone_text(value)
        if not text:
            return None
        try:
            return normalize_phone(text)
        except ValidationError as e:
            raise ValueError(e.messages[0]) from None

    def render(self, value, obj=None, **kwargs):
        return local_phone(value)


def local_phone(value: str | None) -> str:
    if not value:
        return ""
    return "0" + value[4:] if value.startswith("+234") else value


NUMBER_WIDGETS = (AmountWidget, DateWidget, WholeNumberWidget)
