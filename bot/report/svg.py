"""Charts of the report as static inline SVG: no script, no external file, readable in any browser.

Each chart scales to the page's width (a viewBox and width="100%"); every bar carries a <title> with its exact
figures (a browser shows it on hover). All text passes through esc().
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Sequence

WIDTH = 900
MONTHS = ("янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек")


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def day_label(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]}"


def _nice_max(value: int) -> int:
    """The top of the y axis: 1, 2 or 5 times a power of ten, at least the value."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if value <= step * factor:
                return step * factor
        step *= 10


def stacked_days(days: Sequence[dt.date], series: Sequence[tuple[str, str, Sequence[int]]], *, label: str,
                 height: int = 260) -> str:
    """A bar per day, its parts stacked: series are (name, colour, one value per day), drawn bottom up."""
    left, right, top, bottom = 48, 8, 10, 28
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    totals = [sum(values[i] for _, _, values in series) for i in range(len(days))]
    peak = _nice_max(max(totals, default=0) or 1)
    slot = plot_w / max(len(days), 1)
    bar = max(slot * 0.8, 1.0)
    parts = [f'<svg class="chart" role="img" aria-label="{esc(label)}" viewBox="0 0 {WIDTH} {height}" '
             f'width="100%" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">']
    for tick in range(5):  # grid lines and the y axis' figures
        value = peak * tick // 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#555">{value}</text>')
    every = max(1, round(len(days) / 10))
    for i, day in enumerate(days):
        x = left + i * slot + (slot - bar) / 2
        base = top + plot_h
        tip = [day_label(day)] + [f"{name}: {values[i]}" for name, _, values in series]
        parts.append(f'<g><title>{esc(", ".join(tip))}</title>')
        for _, colour, values in series:
            h = plot_h * values[i] / peak
            if h > 0:
                base -= h
                parts.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}"/>')
        parts.append("</g>")
        if i % every == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - 8}" text-anchor="middle" font-size="11" '
                         f'fill="#555">{esc(day_label(day))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def share_bars(rows: Sequence[tuple[str, Sequence[int]]], colours: Sequence[str], names: Sequence[str], *,
               label: str) -> str:
    """One horizontal bar per row (e.g. a language), split by the shares of its values, its name on the left
    (names up to about 14 characters fit; the table under the chart has them in full)."""
    row_h, gap, left = 26, 8, 130
    height = max(len(rows), 1) * (row_h + gap)
    parts = [f'<svg class="chart" role="img" aria-label="{esc(label)}" viewBox="0 0 {WIDTH} {height}" '
             f'width="100%" xmlns="http://www.w3.org/2000/svg">']
    for n, (name, values) in enumerate(rows):
        total = sum(values) or 1
        x, y = float(left), n * (row_h + gap)
        parts.append(f'<text x="{left - 8}" y="{y + row_h / 2 + 5}" text-anchor="end" font-size="14" '
                     f'fill="#222">{esc(name[:14])}</text>')
        for value, colour, part in zip(values, colours, names):
            w = (WIDTH - left) * value / total
            if w <= 0:
                continue
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h}" fill="{colour}">'
                         f'<title>{esc(f"{name}: {part} {value} ({value / total:.0%})")}</title></rect>')
            if w > 60:
                parts.append(f'<text x="{x + w / 2:.1f}" y="{y + row_h / 2 + 5}" text-anchor="middle" '
                             f'font-size="13" fill="#fff">{value / total:.0%}</text>')
            x += w
    parts.append("</svg>")
    return "".join(parts)
