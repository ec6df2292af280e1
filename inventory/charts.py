"""Bar charts drawn on the server as inline SVG: no JavaScript, no CDN, nothing for the CSP to
block (presentation attributes only, no style attributes). Pure functions."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 720, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56, 12, 16, 44
COLOURS = ("#2f7d4f", "#9cc5a1")


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    text: str  # what is written above the bar
    highlight: bool = False


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest of 1, 2, 2.5, 5 x 10^n at or above `value` (an axis maximum)."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        candidate = step.scaleb(exponent)
        if candidate >= value:
            return candidate
    return Decimal(10).scaleb(exponent)  # pragma: no cover


def bar_chart(bars: list[Bar], *, title: str, maximum: Decimal | None = None, axis_suffix: str = "",
              reference: Decimal | None = None, reference_label: str = "", width: int = WIDTH) -> SafeString:
    """An accessible <svg> bar chart (role="img", a <title>, one <title> per bar for tooltips).
    Bars marked `highlight` are drawn in the light colour."""
    top = maximum if maximum is not None else nice_ceiling(max((b.value for b in bars), default=Decimal(0)))
    plot_w = width - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    slot = plot_w / max(len(bars), 1)
    bar_w = min(slot * 0.7, 64)

    def y(value: Decimal) -> float:
        return MARGIN_TOP + plot_h - float(max(min(value, top), Decimal(0)) / top) * plot_h

    grid = []
    for i in range(5):
        value = top * i / 4
        grid.append((MARGIN_LEFT, _number(y(value)), width - MARGIN_RIGHT, _number(y(value)),
                     MARGIN_LEFT - 6, _number(y(value) + 4), f"{_number(float(value))}{axis_suffix}"))
    grid_svg = format_html_join(
        "", '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#dfe5e0"/><text x="{}" y="{}" text-anchor="end">{}</text>', grid
    )
    rects = []
    for index, bar in enumerate(bars):
        x = MARGIN_LEFT + slot * index + (slot - bar_w) / 2
        top_y = y(bar.value)
        rects.append((
            _number(x), _number(top_y), _number(bar_w), _number(MARGIN_TOP + plot_h - top_y),
            COLOURS[0] if not bar.highlight else COLOURS[1], f"{bar.label}: {bar.text}",
            _number(x + bar_w / 2), _number(top_y - 4), bar.text,
            _number(x + bar_w / 2), _number(HEIGHT - MARGIN_BOTTOM + 16), bar.label,
        ))
    bars_svg = format_html_join(
        "",
        '<g><rect x="{}" y="{}" width="{}" height="{}" fill="{}" rx="2"><title>{}</title></rect>'
        '<text x="{}" y="{}" text-anchor="middle" font-weight="bold">{}</text>'
        '<text x="{}" y="{}" text-anchor="middle">{}</text></g>',
        rects,
    )
    reference_svg = ""
    if reference is not None and 0 <= reference <= top:
        ry = _number(y(reference))
        reference_svg = format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#b94a48" stroke-dasharray="6 4"/>'
            '<text x="{}" y="{}" text-anchor="end" fill="#b94a48">{}</text>',
            MARGIN_LEFT, ry, width - MARGIN_RIGHT, ry, width - MARGIN_RIGHT, _number(y(reference) - 5), reference_label,
        )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'font-family="system-ui, sans-serif" font-size="12" fill="#1d2b24"><title>{}</title>{}{}{}'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#1d2b24"/></svg>',
        width, HEIGHT, title, title, grid_svg, bars_svg, reference_svg,
        MARGIN_LEFT, MARGIN_TOP + plot_h, width - MARGIN_RIGHT, MARGIN_TOP + plot_h,
    )
