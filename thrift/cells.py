"""Spreadsheet cells that show text rather than run it.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or with a
tab or carriage return before one) as a formula, so a member named
"=HYPERLINK(...)" could make an exported file fetch or compute things.
Every export (import files, reports, the audit log) writes such text with a
leading apostrophe, and the importers take it off again.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value):
    """Put an apostrophe before text a spreadsheet would run as a formula;
    leave numbers, dates, None and other text as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unescape_formula(text: str) -> str:
    """Undo `escape_formula` on a cell read back from an exported file."""
    if text.startswith("'") and text[1:2] in FORMULA_STARTS:
        return text[1:]
    return text
