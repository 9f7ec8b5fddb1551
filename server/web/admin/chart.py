"""Stacked bar charts as inline SVG, drawn on the server: no script, no CDN, readable by screen readers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

# Dark enough for white numbers on them (contrast ≥ 4.5:1) and for the bars against white (≥ 3:1).
COLORS = {"passed": "#0b6b2f", "not_passed": "#a4161a", "unavailable": "#8a5300", "none": "#6b7280"}
WIDTH, LABEL_W, TOTAL_W, BAR_H, GAP = 720, 200, 70, 32, 14


def stacked_bars(rows: Sequence[tuple[tuple[str, str], Mapping[str, int]]], labels: Mapping[str, str], *,
                 chart_id: str, title: str, description: str) -> Markup:
    """One horizontal bar per row, split by status; each segment has a tooltip naming its status and count.

    A row's label is (Chinese, English), drawn on two lines so long English names fit.
    """
    bar_w = WIDTH - LABEL_W - TOTAL_W
    height = len(rows) * (BAR_H + GAP) + GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" focusable="false">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>',
    ]
    for index, ((label_zh, label_en), counts) in enumerate(rows):
        y = GAP + index * (BAR_H + GAP)
        total = sum(counts.values())
        label = f"{label_zh} {label_en}"
        parts.append(f'<text x="{LABEL_W - 8}" y="{y + 12}" text-anchor="end" font-size="14" fill="#1a1a1a">'
                     f'{escape(label_zh)}<tspan x="{LABEL_W - 8}" dy="16" font-size="11" fill="#444">'
                     f'{escape(label_en)}</tspan></text>')
        parts.append(f'<rect x="{LABEL_W}" y="{y}" width="{bar_w}" height="{BAR_H}" fill="#f1f3f5"/>')
        x = float(LABEL_W)
        for status, color in COLORS.items():
            count = counts.get(status, 0)
            if not count or not total:
                continue
            width = bar_w * count / total
            tip = escape(f"{label} · {labels.get(status, status)}: {count}")
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR_H}" fill="{color}">'
                         f'<title>{tip}</title></rect>')
            if width >= 8 * len(str(count)) + 8:
                parts.append(f'<text x="{x + width / 2:.1f}" y="{y + BAR_H / 2}" text-anchor="middle" '
                             f'dominant-baseline="middle" font-size="13" fill="#fff">{count}</text>')
            x += width
        parts.append(f'<text x="{WIDTH - TOTAL_W + 8}" y="{y + BAR_H / 2}" dominant-baseline="middle" '
                     f'font-size="14" fill="#1a1a1a">{total}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 -- every text in it went through escape()
