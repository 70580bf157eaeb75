"""``python -m benchmarks.quality --affect A --moods M`` prints the docs rows from saved reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks.quality import main

from tests.quality.conftest import synthetic_reports


def test_rows_from_saved_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = synthetic_reports(tmp_path)
    affect, moods = tmp_path / "affect.json", tmp_path / "moods.json"
    affect.write_text(json.dumps(reports["affect"]))
    moods.write_text(json.dumps(reports["moods"]))
    assert main(["--affect", str(affect), "--moods", str(moods)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("| figure | goal | value |")
    assert "| OASIS calibration, ρ valence: Valdez & Mehrabian 1994 |  | 1.00 [1.00, 1.00] |" in (
        printed
    )
    with pytest.raises(SystemExit):
        main(["--affect", str(affect)])
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(reports))
    assert main(["--saved", str(saved)]) == 0
    assert capsys.readouterr().out == printed
