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


def percent(value: float) -> str:
    return f"{value:.0%}"


@dataclass(frozen=True)
class Scale:
    """How a bar chart shows its values: their format, and the value of a full-length bar
    (None: the largest value)."""

    formatter: Callable[[float], str] = lambda v: f"{v:g}"
    maximum: float | None = None


#: values as they are, the largest one a full bar
PLAIN = Scale()
#: rates in [0, 1] as percentages, 100 % a full bar
PERCENT = Scale(formatter=percent, maximum=1.0)


@dataclass(frozen=True)
class BarLayout:
    width: int = 560
    label_width: int = 230
    bar_height: int = 20
    gap: int = 8
    #: the label (and note) on its own line above the bar, across the whole width: for long
    #: labels such as song titles, which a 230-px column beside the bar would cut off
    label_above: bool = False

    @property
    def row_height(self) -> int:
        return self.bar_height + self.gap + (LABEL_LINE if self.label_above else 0)


#: the height of a label line above its bar, and the characters that fit across the chart
LABEL_LINE = 16
LABEL_ABOVE_CHARS = 84
STANDARD_BARS = BarLayout()
#: song titles with their artists, each on its own line
SONG_BARS = BarLayout(label_above=True)


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    empty: str,
    scale: Scale = PLAIN,
    layout: BarLayout = STANDARD_BARS,
) -> str:
    """Horizontal bars, one per row: label, bar, formatted value and an optional note."""
    if not bars:
        return empty_chart(title, empty, layout.width)
    height = len(bars) * layout.row_height + layout.gap
    values = [b.value for b in bars if b.value is not None]
    top = scale.maximum if scale.maximum is not None else max(values, default=0.0)
    top = top if top > 0 else 1.0
    words = "; ".join(
        f"{b.label}: {'no data' if b.value is None else scale.formatter(b.value)}"
        + (f" ({b.note})" if b.note else "")
        for b in bars
    )
    parts = _open(layout.width, height, title, words, "bars")
    for i, bar in enumerate(bars):
        parts.extend(_bar_row(bar, i, top, scale, layout))
    parts.append("</svg>")
    return "".join(parts)


def _label_above(bar: Bar, y: int) -> str:
    """The label and note on one line across the chart (the whole text in its tooltip)."""
    full = f"{bar.label} · {bar.note}" if bar.note else bar.label
    return (
        f'<text x="0" y="{y + LABEL_LINE - 4}" font-size="12" fill="currentColor">'
        f"<title>{_text(full)}</title>{_text(_clip_label(full, LABEL_ABOVE_CHARS))}</text>"
    )


def _bar_row(bar: Bar, i: int, top: float, scale: Scale, layout: BarLayout) -> list[str]:
    """Row ``i``: the label, the bar scaled to ``top``, and the value with its note."""
    y = layout.gap + i * layout.row_height
    if layout.label_above:
        row = [_label_above(bar, y)]
        label_width, y, note = 0, y + LABEL_LINE, ""
    else:
        label_width, note = layout.label_width, f" · {bar.note}" if bar.note else ""
        row = [
            f'<text x="{label_width - 8}" y="{y + layout.bar_height / 2 + 5:.1f}" '
            f'text-anchor="end" font-size="12" fill="currentColor">'
            f"{_text(_clip_label(bar.label, 30))}</text>"
        ]
    span = layout.width - label_width - 130
    mid = y + layout.bar_height / 2 + 5
    end: float = label_width
    if bar.value is None:
        shown = "–"
    else:
        length = max(0.0, min(1.0, bar.value / top)) * span
        row.append(
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{layout.bar_height}" '
            f'rx="3" fill="{_text(bar.colour or ACCENT)}"/>'
        )
        shown = scale.formatter(bar.value)
        end = label_width + length
    row.append(
        f'<text x="{end + 6:.1f}" y="{mid:.1f}" font-size="12" fill="currentColor">'
        f"{_text(shown + note)}</text>"
    )
    return row


@dataclass(frozen=True)
class _ColumnFrame:
    """Where the columns of a stacked chart go (derived from the size and the legend)."""

    left: int
    plot_top: int
    plot_bottom: int
    slot: float
    column: float
    peak: int

    @property
    def plot_height(self) -> int:
        return self.plot_bottom - self.plot_top


COLUMNS_WIDTH = 640
COLUMNS_HEIGHT = 240


def stacked_columns(
    days: Sequence[Mapping[str, object]],
    series: Sequence[str],
    *,
    title: str,
    empty: str,
    colours: Mapping[str, str] | None = None,
) -> str:
    """One column per day, stacked by series (e.g. pictures per top emotion), with a legend.

    ``days`` is ``[{"day": "2025-01-31", "counts": {"sadness": 3, …}}, …]`` in date order.
    """
    width, height = COLUMNS_WIDTH, COLUMNS_HEIGHT
    if not days:
        return empty_chart(title, empty, width)
    colours = colours or {}
    legend_rows = (len(series) + 3) // 4
    totals = [sum(int(v) for v in _counts(d).values()) for d in days]
    slot = (width - 40 - 10) / len(days)
    frame = _ColumnFrame(
        left=40,
        plot_top=12,
        plot_bottom=height - 40 - 18 * legend_rows,
        slot=slot,
        column=max(2.0, min(28.0, slot * 0.7)),
        peak=max(totals) or 1,
    )
    words = "; ".join(
        f"{d['day']}: "
        + ", ".join(f"{name} {n}" for name, n in _counts(d).items() if n)
        + f" (total {total})"
        for d, total in zip(days, totals, strict=True)
    )
    parts = _open(width, height, title, words, "columns")
    parts.append(
        f'<line x1="{frame.left}" y1="{frame.plot_bottom}" x2="{width - 10}" '
        f'y2="{frame.plot_bottom}" stroke="{MUTED}" stroke-width="1"/>'
        f'<text x="{frame.left - 6}" y="{frame.plot_top + 10}" text-anchor="end" font-size="11" '
        f'fill="currentColor">{frame.peak}</text>'
        f'<text x="{frame.left - 6}" y="{frame.plot_bottom}" text-anchor="end" font-size="11" '
        f'fill="currentColor">0</text>'
    )
    label_every = max(1, len(days) // 8)
    for i, day in enumerate(days):
        parts.extend(_day_column(day, i, series, colours, frame))
        if i % label_every == 0:
            x = frame.left + i * frame.slot + (frame.slot - frame.column) / 2
            parts.append(
                f'<text x="{x + frame.column / 2:.1f}" y="{frame.plot_bottom + 14}" '
                f'text-anchor="middle" font-size="10" fill="currentColor">'
                f"{_text(str(day['day'])[5:])}</text>"
            )
    parts.extend(_legend(series, colours, frame, width))
    parts.append("</svg>")
    return "".join(parts)


def _day_column(
    day: Mapping[str, object],
    i: int,
    series: Sequence[str],
    colours: Mapping[str, str],
    frame: _ColumnFrame,
) -> list[str]:
    """Day ``i``'s stacked segments, bottom up in ``series`` order (empty ones left out)."""
    x = frame.left + i * frame.slot + (frame.slot - frame.column) / 2
    y = float(frame.plot_bottom)
    counts = _counts(day)
    segments = []
    for name in series:
        n = int(counts.get(name, 0))
        if not n:
            continue
        h = n / frame.peak * frame.plot_height
        y -= h
        segments.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{frame.column:.1f}" height="{h:.1f}" '
            f'fill="{_text(colours.get(name, ACCENT))}"><title>{_text(day["day"])}: '
            f"{_text(name)} {n}</title></rect>"
        )
    return segments


def _legend(
    series: Sequence[str], colours: Mapping[str, str], frame: _ColumnFrame, width: int
) -> list[str]:
    """A swatch and a name per series, four to a row, under the plot."""
    items = []
    for j, name in enumerate(series):
        lx = frame.left + (j % 4) * ((width - frame.left) / 4)
        ly = frame.plot_bottom + 32 + (j // 4) * 18
        items.append(
            f'<rect x="{lx:.1f}" y="{ly - 10}" width="12" height="12" rx="2" '
            f'fill="{_text(colours.get(name, ACCENT))}"/>'
            f'<text x="{lx + 17:.1f}" y="{ly}" font-size="12" fill="currentColor">'
            f"{_text(name)}</text>"
        )
    return items


def _counts(day: Mapping[str, object]) -> dict[str, int]:
    raw = day.get("counts")
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): int(v) for k, v in raw.items()}


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
