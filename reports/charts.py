"""Server-rendered SVG charts (pygal), drawn inline in the page.

No script is attached (`js=[]`, and pygal's inline config script is
removed), so a chart needs nothing from the network
and shows the same in a browser, a screenshot and a printout. Each bar's
value is printed on or above it, since there are no hover tooltips.
"""

from decimal import Decimal

import pygal
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

from thrift.money import format_money

from .queries import GroupArrears, MonthTotal

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#343a40",
    foreground_strong="#212529",
    foreground_subtle="#6c757d",
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
    label_font_size=12,
    major_label_font_size=12,
    value_font_size=11,
    title_font_size=14,
    colors=("#198754", "#dc3545"),
)


def _short_money(currency: str):
    """Axis labels in thousands or millions: ₦250k, ₦1.2m."""

    def show(value: float) -> str:
        symbol = format_money(Decimal("0"), currency).rstrip("0.,")
        if abs(value) >= 1_000_000:
            return f"{symbol}{value / 1_000_000:,.1f}m"
        if abs(value) >= 1_000:
            return f"{symbol}{value / 1_000:,.0f}k"
        return f"{symbol}{value:,.0f}"

    return show


def _ticks(top: Decimal, count: int = 5) -> list[float]:
    """About `count` round steps from zero past `top`, for a readable axis."""
    if top <= 0:
        return [0.0]
    raw = float(top) / count
    magnitude = 10 ** (len(str(int(raw))) - 1)
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < float(top):
        ticks.append(ticks[-1] + step)
    return ticks


def _point(amount: Decimal, link: str | None):
    """A bar: none for nothing, else its height and the page behind it."""
    if not amount:
        return None
    # Bar heights are drawing positions only; the figures in the tables
    # stay Decimals.
    if link:
        return {"value": float(amount), "xlink": {"href": link, "target": "_top"}}
    return float(amount)


def _without_scripts(root):
    """Drop the inline <script> that pygal writes for its tooltips even
    with `js=[]`: the chart needs none, and a strict content security
    policy would refuse it."""
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _render(chart) -> SafeString:
    chart.add_xml_filter(_without_scripts)
    # The SVG is serialised by pygal from our numbers and escaped labels.
    return mark_safe(chart.render(is_unicode=True))  # noqa: S308


def _config(**options) -> dict:
    return {
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "show_legend": False,
        "explicit_size": False,
        "height": 300,
        "width": 720,
        "margin": 12,
        "print_values": True,
        "print_zeroes": False,
        "show_y_guides": True,
        **options,
    }


def collections_chart(months: list[MonthTotal], currency: str, links=None):
    """Bars of the money paid in per month, oldest month on the left."""
    short = _short_money(currency)
    chart = pygal.Bar(
        **_config(
            value_formatter=short,
            x_label_rotation=0,
            no_data_text="No payments yet",
        )
    )
    chart.x_labels = [m.month.strftime("%b %y") for m in months]
    links = links or [None] * len(months)
    chart.add(
        "Collected",
        [_point(m.amount, link) for m, link in zip(months, links, strict=True)],
    )
    return _render(chart)


def arrears_chart(groups: list[GroupArrears], currency: str, links=None):
    """Horizontal bars of what each group owes on overdue contributions."""
    short = _short_money(currency)
    top = max((g.amount for g in groups), default=Decimal("0"))
    chart = pygal.HorizontalBar(
        **_config(
            value_formatter=short,
            y_labels=_ticks(top),
            style=Style(**{**STYLE.to_dict(), "colors": ("#dc3545",)}),
            width=520,
            height=max(180, 60 + 36 * len(groups)),
            no_data_text="No arrears",
            truncate_label=28,
        )
    )
    # pygal draws the first label at the bottom; list largest last so that
    # it sits on top.
    ordered = list(reversed(groups))
    chart.x_labels = [g.name for g in ordered]
    links = list(reversed(links or [None] * len(groups)))
    chart.add(
        "Arrears",
        [_point(g.amount, link) for g, link in zip(ordered, links, strict=True)],
    )
    return _render(chart)
