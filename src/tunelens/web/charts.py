"""Server-drawn SVG charts for the admin page: no JavaScript, no chart library.

Each function returns one self-contained ``<svg>`` string with a ``<title>`` and a ``<desc>``
that states the numbers in words (screen readers read those; the bars are decoration).
Colours are presentation attributes, not ``style``, so the page's Content-Security-Policy
(``style-src 'self'``) allows them; text uses ``currentColor`` so both themes work. Every label
is XML-escaped: track titles come from catalogues and must never become markup.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

#: one colour per Mikels emotion (warm for pleasant and aroused, cool for sad and calm)
EMOTION_COLOURS: dict[str, str] = {
    "amusement": "#f2b134",
    "awe": "#5aa9e6",
    "contentment": "#7cc47f",
    "excitement": "#ff7f50",
    "anger": "#d7263d",
    "disgust": "#8d7b4f",
    "fear": "#7b5ea7",
    "sadness": "#3b6ea5",
}
ACCENT = "#4f8cc9"
MUTED = "#8a8f98"
_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _clip_label(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _open(width: int, height: int, title: str, desc: str, prefix: str) -> list[str]:
    tid, did = _id(prefix), _id(prefix + "-desc")
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{tid} {did}">',
        f'<title id="{tid}">{_text(title)}</title>',
        f'<desc id="{did}">{_text(desc)}</desc>',
    ]


def empty_chart(title: str, message: str, width: int = 560) -> str:
    parts = _open(width, 48, title, message, "empty")
    parts.append(
        f'<text x="8" y="28" fill="currentColor" font-size="14" opacity="0.7">'
        f"{_text(message)}</text></svg>"
    )
    return "".join(parts)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    note: str = ""
    colour: str | None = None


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    empty: str,
    value_format: Callable[[float], str] = lambda v: f"{v:g}",
    max_value: float | None = None,
    width: int = 560,
    label_width: int = 230,
    bar_height: int = 20,
) -> str:
    """Horizontal bars, one per row: label, bar, formatted value and an optional note."""
    if not bars:
        return empty_chart(title, empty, width)
    gap = 8
    height = len(bars) * (bar_height + gap) + gap
    values = [b.value for b in bars if b.value is not None]
    top = max_value if max_value is not None else max(values, default=0.0)
    top = top if top > 0 else 1.0
    span = width - label_width - 130
    words = "; ".join(
        f"{b.label}: {'no data' if b.value is None else value_format(b.value)}"
        + (f" ({b.note})" if b.note else "")
        for b in bars
    )
    parts = _open(width, height, title, words, "bars")
    for i, bar in enumerate(bars):
        y = gap + i * (bar_height + gap)
        mid = y + bar_height / 2 + 5
        parts.append(
            f'<text x="{label_width - 8}" y="{mid:.1f}" text-anchor="end" font-size="12" '
            f'fill="currentColor">{_text(_clip_label(bar.label, 30))}</text>'
        )
        end: float = label_width
        if bar.value is None:
            shown = "–"
        else:
            length = max(0.0, min(1.0, bar.value / top)) * span
            parts.append(
                f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
                f'rx="3" fill="{_text(bar.colour or ACCENT)}"/>'
            )
            shown = value_format(bar.value)
            end = label_width + length
        note = f" · {bar.note}" if bar.note else ""
        parts.append(
            f'<text x="{end + 6:.1f}" y="{mid:.1f}" font-size="12" fill="currentColor">'
            f"{_text(shown + note)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_columns(
    days: Sequence[Mapping[str, object]],
    series: Sequence[str],
    *,
    title: str,
    empty: str,
    colours: Mapping[str, str] | None = None,
    width: int = 640,
    height: int = 240,
) -> str:
    """One column per day, stacked by series (e.g. pictures per top emotion), with a legend.

    ``days`` is ``[{"day": "2025-01-31", "counts": {"sadness": 3, …}}, …]`` in date order.
    """
    if not days:
        return empty_chart(title, empty, width)
    colours = colours or {}
    legend_rows = (len(series) + 3) // 4
    plot_top, plot_bottom, left = 12, height - 40 - 18 * legend_rows, 40
    plot_height = plot_bottom - plot_top
    totals = [sum(int(v) for v in _counts(d).values()) for d in days]
    peak = max(totals) or 1
    slot = (width - left - 10) / len(days)
    column = max(2.0, min(28.0, slot * 0.7))
    words = "; ".join(
        f"{d['day']}: "
        + ", ".join(f"{name} {n}" for name, n in _counts(d).items() if n)
        + f" (total {total})"
        for d, total in zip(days, totals, strict=True)
    )
    parts = _open(width, height, title, words, "columns")
    parts.append(
        f'<line x1="{left}" y1="{plot_bottom}" x2="{width - 10}" y2="{plot_bottom}" '
        f'stroke="{MUTED}" stroke-width="1"/>'
        f'<text x="{left - 6}" y="{plot_top + 10}" text-anchor="end" font-size="11" '
        f'fill="currentColor">{peak}</text>'
        f'<text x="{left - 6}" y="{plot_bottom}" text-anchor="end" font-size="11" '
        f'fill="currentColor">0</text>'
    )
    label_every = max(1, len(days) // 8)
    for i, day in enumerate(days):
        x = left + i * slot + (slot - column) / 2
        y = float(plot_bottom)
        counts = _counts(day)
        for name in series:
            n = int(counts.get(name, 0))
            if not n:
                continue
            h = n / peak * plot_height
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{column:.1f}" height="{h:.1f}" '
                f'fill="{_text(colours.get(name, ACCENT))}"><title>{_text(day["day"])}: '
                f"{_text(name)} {n}</title></rect>"
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + column / 2:.1f}" y="{plot_bottom + 14}" text-anchor="middle" '
                f'font-size="10" fill="currentColor">{_text(str(day["day"])[5:])}</text>'
            )
    for j, name in enumerate(series):
        lx = left + (j % 4) * ((width - left) / 4)
        ly = plot_bottom + 32 + (j // 4) * 18
        parts.append(
            f'<rect x="{lx:.1f}" y="{ly - 10}" width="12" height="12" rx="2" '
            f'fill="{_text(colours.get(name, ACCENT))}"/>'
            f'<text x="{lx + 17:.1f}" y="{ly}" font-size="12" fill="currentColor">'
            f"{_text(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _counts(day: Mapping[str, object]) -> dict[str, int]:
    raw = day.get("counts")
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): int(v) for k, v in raw.items()}


def percent(value: float) -> str:
    return f"{value:.0%}"


def rate_bars(
    rates: Mapping[str, Mapping[str, Any]], colours: Mapping[str, str] | None = None
) -> list[Bar]:
    """Bars of like rates (``{"key": {"likes", "dislikes", "rate"}}``), most votes first."""
    colours = colours or {}

    def votes(row: Mapping[str, Any]) -> int:
        return int(row.get("likes", 0)) + int(row.get("dislikes", 0))

    return [
        Bar(
            label=key,
            value=None if row.get("rate") is None else float(row["rate"]),
            note=f"{int(row.get('likes', 0))}/{votes(row)}",
            colour=colours.get(key),
        )
        for key, row in sorted(rates.items(), key=lambda kv: (-votes(kv[1]), kv[0]))
    ]
