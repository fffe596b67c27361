"""Normal forms for the identifiers members give us: phone and NUBAN."""

import re

from django.core.exceptions import ValidationError

PHONE_HELP = (
    "A Nigerian mobile number such as 08123456789, +2348123456789 or 234 812 345 6789."
)
NUBAN_HELP = "The 10-digit NUBAN account number, digits only."

_SEPARATORS = re.compile(r"[\s\-().]")
# Mobile numbers: 070x, 080x, 081x, 090x, 091x after the trunk 0.
_NATIONAL = re.compile(r"[789][01]\d{8}")


def normalize_phone(value: str) -> str:
    """Return `value` as E.164 (+234XXXXXXXXXX); refuse anything else."""
    raw = _SEPARATORS.sub("", str(value or ""))
    if raw.startswith("+234"):
        national = raw[4:]
    elif raw.startswith("234"):
        national = raw[3:]
    elif raw.startswith("0"):
        national = raw[1:]
    else:
        national = None
    # "+2340812..." keeps the trunk 0 after the country code; it is still
    # unambiguous, so it is accepted.
    if national and len(national) == 11 and national.startswith("0"):
        national = national[1:]
    if national is None or not _NATIONAL.fullmatch(national):
        raise ValidationError(
            "%(value)s is not a phone number we can use. Enter a Nigerian "
            "mobile number such as 08123456789, +2348123456789 or "
            "234 812 345 6789.",
            code="invalid_phone",
            params={"value": value},
        )
    return "+234" + national


def validate_nuban(value: str) -> None:
    """Refuse an account number that is not exactly ten digits."""
    if not re.fullmatch(r"\d{10}", value or ""):
        raise ValidationError(
            "%(value)s is not an account number. Enter the 10-digit NUBAN, "
            "digits only.",
            code="invalid_nuban",
            params={"value": value},
        )
