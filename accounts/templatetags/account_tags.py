"""Formatting for the sign-in pages."""

import datetime

from django import template
from django.utils.translation import ngettext

register = template.Library()

UNITS = (
    (86400, "%(count)d day", "%(count)d days"),
    (3600, "%(count)d hour", "%(count)d hours"),
    (60, "%(count)d minute", "%(count)d minutes"),
    (1, "%(count)d second", "%(count)d seconds"),
)


@register.filter
def duration_words(delta) -> str:
    """A length of time as a treasurer says it: "30 minutes", "1 hour",
    "1 hour 30 minutes"; empty for no time or anything not a duration."""
    if not isinstance(delta, datetime.timedelta):
        return ""
    # Whole seconds: a cool-off set in fractions of an hour may come back a
    # hair under the minute it was meant to be.
    left = round(delta.total_seconds())
    if left <= 0:
        return ""
    parts = []
    for size, singular, plural in UNITS:
        count, left = divmod(left, size)
        if count:
            parts.append(ngettext(singular, plural, count) % {"count": count})
    return " ".join(parts)
