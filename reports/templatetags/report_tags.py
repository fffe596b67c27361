"""Formatting for the report templates, and the dashboard's figures."""

from django import template

from reports.report_views import dashboard_context
from thrift.money import format_money, to_money

register = template.Library()


@register.filter
def money(amount, currency="NGN"):
    """₦200,000.00; a dash for no amount."""
    return format_money(amount, currency or "NGN")


@register.filter
def amount(value):
    """12,500.00 without a currency sign, for grids whose currency is
    stated once above them; a dash for no amount."""
    if value is None:
        return "-"
    return f"{to_money(value):,.2f}"


@register.simple_tag(takes_context=True)
def dashboard(context):
    """The admin index's figures for the signed-in user (see
    `reports.report_views.dashboard_context`)."""
    return dashboard_context(context["request"])
