"""``python -m benchmarks.e2e`` takes the options ``tunelens bench`` took, prints the same
table and exits 1 with one line for a user error. The run itself is swapped for canned
results: it needs the torch extra and minutes of CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks import e2e
from tests.benchmarks.test_e2e_report import fake_results
from tunelens.core.errors import InvalidRequest


def test_defaults_follow_the_repository_layout(tmp_path: Path) -> None:
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "docs").mkdir()
    full = e2e.BenchConfig.default(quick=False, root=tmp_path)
    quick = e2e.BenchConfig.default(quick=True, root=tmp_path)
    assert full.work_dir == tmp_path / "benchmarks" / ".work"
    assert full.results_dir == tmp_path / "benchmarks" / "results"
    assert full.docs == tmp_path / "docs" / "performance.md"
    assert (full.name, full.photos, full.passes, full.cold_runs) == ("full", 12, 3, 3)
    assert (quick.name, quick.photos, quick.passes, quick.cold_runs) == ("quick", 4, 1, 1)


def test_options_override_the_defaults(tmp_path: Path) -> None:
    args = e2e.parse_args(
        [
            "--quick",
            "--work-dir",
            str(tmp_path / "w"),
            "--photos",
            str(tmp_path / "p"),
            "--csv",
            str(tmp_path / "s.csv"),
            "--name",
            "mine",
            "--wait",
        ]
    )
    config = e2e.config_from(args)
    assert args.wait is True and config.quick is True
    assert config.work_dir == tmp_path / "w"
    assert config.photos_dir == tmp_path / "p"
    assert config.csv == tmp_path / "s.csv"
    assert config.name == "mine"
    assert e2e.parse_args(["--no-wait"]).wait is False
    assert e2e.parse_args([]).wait is False
    assert config.only is None
    only = e2e.config_from(e2e.parse_args(["--only", "a int8-local, b fp32"]))
    assert only.only == ("a int8-local", "b fp32")


def test_main_prints_the_table_and_where_the_results_are(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, Any] = {}

    def fake_run(config: e2e.BenchConfig, progress: Any, *, wait: bool) -> dict[str, Any]:
        seen.update(name=config.name, wait=wait)
        progress("machine: test")
        return fake_results()

    monkeypatch.setattr(e2e, "run", fake_run)
    assert e2e.main(["--quick", "--name", "t"]) == 0
    out, err = capsys.readouterr()
    assert seen == {"name": "t", "wait": False}
    assert "machine: test" in err
    assert "tunelens bench (t)" in out and "5.00×" in out and "mobileclip-s1 fp32" in out
    assert "random weights: speed only; results in" in out
    assert out.rstrip().endswith("t.json")


def test_a_user_error_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_photos(config: e2e.BenchConfig, progress: Any, *, wait: bool) -> dict[str, Any]:
        raise InvalidRequest("no JPEG photos in /nowhere to benchmark with")

    monkeypatch.setattr(e2e, "run", no_photos)
    assert e2e.main(["--quick"]) == 1
    assert capsys.readouterr().err.strip() == (
        "error: no JPEG photos in /nowhere to benchmark with"
    )
