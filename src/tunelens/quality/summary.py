"""The headline figures of the two quality reports as rows of the ``docs/quality.md`` table.

``benchmarks/quality.py`` prints them as markdown so the table's "after" column is pasted from
a run, never typed; each row carries the goal issue 15 set, so a reader sees at once how far
off a figure is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tunelens.quality.affect import BASELINE, READER, READER_NO_FACES
from tunelens.quality.photos import BRIGHT, SERENE, SOMBRE

#: one row of the table: (figure, goal, value)
Row = tuple[str, str, str]


def _rho(block: Mapping[str, Any] | None) -> str:
    if block is None or block.get("estimate") is None:
        return "–"
    text = f"{block['estimate']:.2f}"
    if block.get("low") is not None and block.get("high") is not None:
        text += f" [{block['low']:.2f}, {block['high']:.2f}]"
    return text


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f} %"


def affect_rows(report: Mapping[str, Any]) -> list[Row]:
    """ρ valence and arousal of the reader (faces on, off) and of the 1994 baseline."""
    readers = {reader["name"]: reader for reader in report["readers"]}
    rows: list[Row] = []
    for name, label, goals in (
        (READER, "reader", ("≥ 0.30", "≥ 0.20")),
        (READER_NO_FACES, "reader, faces off", ("", "")),
        (BASELINE, "Valdez & Mehrabian 1994", ("", "")),
    ):
        overall = readers[name]["overall"] if name in readers else None
        for dim, goal in zip(("valence", "arousal"), goals, strict=True):
            value = _rho(overall[dim] if overall else None)
            rows.append((f"OASIS calibration, ρ {dim}: {label}", goal, value))
    return rows


def moods_rows(report: Mapping[str, Any]) -> list[Row]:
    """Mood agreement per group, Calm overall, diversity, exposure and alarmed readings."""
    groups = report["agreement"]["groups"]
    rows: list[Row] = [
        ("bright and happy photos: Happy + Energetic songs", "≥ 85 %",
         _percent(groups[BRIGHT]["suited_share"])),
        ("dark and sombre photos: Calm + Sad songs", "≥ 85 %",
         _percent(groups[SOMBRE]["suited_share"])),
        ("serene photos: Calm songs", "≥ 40 %", _percent(groups[SERENE]["suited_share"])),
        ("Calm songs among all slots", "≥ 15 %", _percent(report["agreement"]["calm_share_all"])),
        ("calm, bright or warm photos read as fear or anger", "0", str(len(report["alarmed"]))),
    ]  # fmt: skip
    songs = report.get("songs")
    if songs is not None:
        variety, exposure = songs["diversity"], songs["exposure"]
        rows += [
            (f"default catalogue: distinct songs in {variety['slots']} slots", "≥ 300",
             str(variety["distinct"])),
            ("default catalogue: most slots one song fills", "≤ 5", str(variety["max_times"])),
            ("±10 % exposure: songs kept of 10", "≥ 7", f"{exposure['mean_kept']:.1f}"),
        ]  # fmt: skip
    return rows


def markdown(rows: list[Row]) -> str:
    """``| figure | goal | value |`` lines, header included."""
    lines = ["| figure | goal | value |", "|---|---|---|"]
    lines += [f"| {figure} | {goal} | {value} |" for figure, goal, value in rows]
    return "\n".join(lines)
