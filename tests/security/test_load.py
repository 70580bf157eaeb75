"""The load benchmark's quick mode, as CI runs it: it starts its own server, stops by itself,
sees no error under 20 concurrent clients and writes well-formed results (no timing asserts:
the figures depend on the machine; they are reported in docs/security.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, SPOTIFY_CSV, require_shared


@pytest.mark.slow
def test_quick_load_run_has_no_errors(tmp_path: Path) -> None:
    require_shared(SPOTIFY_CSV)
    out = tmp_path / "load.json"
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.load", "--quick", "--rows", "500", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(out.read_text())
    load = result["load"]
    assert result["mode"] == "quick" and result["clients"] == 20
    assert load["requests"] > 0 and load["errors"] == 0 and load["server_errors_5xx"] == 0
    assert set(load["latency_by_kind"]) == {"recommend", "similar", "feedback"}
    for figures in [load["latency_ok"], *load["latency_by_kind"].values()]:
        assert figures["n"] > 0
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    overload = result["overload"]
    assert set(overload["statuses"]) <= {"200", "503"}, overload["statuses"]
    assert overload["server_errors_5xx"] == overload["statuses"].get("503", 0)
    assert set(overload["error_codes"]) <= {"overloaded"}
    assert "cpu" in json.dumps(result["machine"]).lower()
