"""Money: two-place Decimals and how they are shown."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

CURRENCY_SYMBOLS = {
    "NGN": "₦",
    "GHS": "GH₵",
    "KES": "KSh",
    "USD": "$",
    "GBP": "£",
    "EUR": "€",
}


def to_money(value: Decimal | int | str) -> Decimal:
    """Return `value` as a Decimal rounded half-up to two places."""
    if isinstance(value, float):
        raise TypeError("Money is never a float; pass a str or Decimal.")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal | None, currency: str = "NGN") -> str:
    """Show `amount` as e.g. ₦200,000.00; an unknown currency by its code."""
    if amount is None:
        return "-"
    amount = to_money(amount)
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"
