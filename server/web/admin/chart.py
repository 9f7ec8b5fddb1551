"""Stacked bar charts as inline SVG, drawn on the server: no script, no CDN, readable by screen readers.

Bars are laid out in percentages of the SVG's width and text in pixels, so the chart fills a phone or a
desktop screen without its text shrinking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

# Dark enough for white numbers on them (contrast ≥ 4.5:1) and for the bars against white (≥ 3:1).
COLORS = {"passed": "#0b6b2f", "not_passed": "#a4161a", "unavailable": "#8a5300", "none": "#6b7280"}
LABEL_H, BAR_H, GAP = 23, 26, 14
NARROWEST_PX = 300  # the narrowest the chart gets (a phone): decides when a count fits inside its segment


def stacked_bars(rows: Sequence[tuple[str, Mapping[str, int]]], labels: Mapping[str, str], *,
                 chart_id: str, title: str, description: str) -> Markup:
    """One horizontal bar per row under its label and total, split by status, with tooltips (every text in the
    page's language)."""
    row_h = LABEL_H + BAR_H + GAP
    height = len(rows) * row_h
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="{height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" focusable="false">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>',
    ]
    for index, (label, counts) in enumerate(rows):
        y = index * row_h
        total = sum(counts.values())
        parts.append(f'<text x="0" y="{y + 15}" font-size="15" fill="#1a1a1a">{escape(label)} · {total}</text>')
        bar_y = y + LABEL_H
        parts.append(f'<rect x="0" y="{bar_y}" width="100%" height="{BAR_H}" fill="#f1f3f5"/>')
        x = 0.0
        for status, color in COLORS.items():
            count = counts.get(status, 0)
            if not count or not total:
                continue
            width = 100 * count / total
            tip = escape(f"{label} · {labels.get(status, status)}: {count}")
            parts.append(f'<rect x="{x:.3f}%" y="{bar_y}" width="{width:.3f}%" height="{BAR_H}" fill="{color}">'
                         f'<title>{tip}</title></rect>')
            if width * NARROWEST_PX / 100 >= 8 * len(str(count)) + 8:
                parts.append(f'<text x="{x + width / 2:.3f}%" y="{bar_y + BAR_H / 2 + 5}" text-anchor="middle" '
                             f'font-size="13" fill="#fff">{count}</text>')
            x += width
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 -- every text in it went through escape()  # nosec B704
