"""The quality reports as terminal tables: every figure of a real report (of synthetic
pictures) reaches the operator."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tests.quality.conftest import synthetic_reports
from tunelens.cli.quality_render import affect_tables, moods_tables, percent, rho


def render(parts: Iterable[Table | str]) -> str:
    console = Console(width=120, record=True, file=io.StringIO())
    for part in parts:
        console.print(part, highlight=False)
    return console.export_text()


def test_rho_and_percent() -> None:
    assert rho({"estimate": 0.1712, "low": 0.07, "high": -0.2}) == "+0.17 [+0.07, -0.20]"
    assert rho({"estimate": 0.5, "low": None, "high": None}) == "+0.50"
    assert rho({"estimate": None, "low": None, "high": None}) == "–"
    assert percent(0.034) == "3 %" and percent(None) == "–"


def test_tables_show_every_figure(tmp_path: Path) -> None:
    reports = synthetic_reports(tmp_path)
    affect = render(affect_tables(reports["affect"]))
    assert "overall (6)" in affect and "Object (3)" in affect and "Scenery (3)" in affect
    assert "Valdez & Mehrabian 1994" in affect and "minus the baseline" in affect
    assert "+1.00 [+1.00, +1.00]" in affect
    moods = reports["moods"]
    text = render(moods_tables(moods))
    for row in moods["readings"]:
        assert Path(row["file"]).stem in text
    variety = moods["songs"]["diversity"]
    assert f"{variety['distinct']} distinct songs in {variety['slots']} slots" in text
    assert f"keeps {moods['songs']['exposure']['mean_kept']:.1f} of 10 songs" in text
    assert "Happy + Energetic" in text and "Calm + Sad" in text
