"""The docs table's rows come from real reports (here: of synthetic pictures)."""

from __future__ import annotations

from pathlib import Path

from tests.quality.conftest import synthetic_reports
from tunelens.quality.summary import affect_rows, markdown, moods_rows


def test_rows_and_markdown(tmp_path: Path) -> None:
    reports = synthetic_reports(tmp_path)
    rows = {figure: (goal, value) for figure, goal, value in affect_rows(reports["affect"])}
    assert rows["OASIS calibration, ρ valence: reader"][0] == "≥ 0.30"
    assert rows["OASIS calibration, ρ arousal: reader"][0] == "≥ 0.20"
    assert rows["OASIS calibration, ρ valence: Valdez & Mehrabian 1994"][1] == "1.00 [1.00, 1.00]"
    moods = reports["moods"]
    rows = {figure: (goal, value) for figure, goal, value in moods_rows(moods)}
    calm = moods["agreement"]["calm_share_all"]
    assert rows["Calm songs among all slots"] == ("≥ 15 %", f"{100 * calm:.0f} %")
    assert rows["default catalogue: distinct songs in 60 slots"][1] == str(
        moods["songs"]["diversity"]["distinct"]
    )
    assert rows["calm, bright or warm photos read as fear or anger"][1] == str(
        len(moods["alarmed"])
    )
    assert len(moods_rows({**moods, "songs": None})) == len(rows) - 3
    every = affect_rows(reports["affect"]) + moods_rows(reports["moods"])
    lines = markdown(every).splitlines()
    assert lines[:2] == ["| figure | goal | value |", "|---|---|---|"]
    assert len(lines) == len(every) + 2
    assert all(line.count("|") == 4 for line in lines)
