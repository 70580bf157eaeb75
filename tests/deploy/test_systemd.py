"""The shipped systemd unit passes ``systemd-analyze verify`` (with ExecStart pointed at this
environment's ``tunelens``, since the shipped path exists only on an installed machine)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

UNIT = REPO_ROOT / "deploy" / "systemd" / "tunelens.service"
SHIPPED_BINARY = "/opt/tunelens/venv/bin/tunelens"


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    return subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, cwd=unit.parent
    )


def rendered(tmp_path: Path, text: str) -> Path:
    binary = Path(sys.executable).parent / "tunelens"
    if not binary.exists():
        pytest.skip(f"no tunelens console script beside {sys.executable}")
    assert text.count(SHIPPED_BINARY) == 1, f"the unit no longer runs {SHIPPED_BINARY}"
    unit = tmp_path / "tunelens.service"
    unit.write_text(text.replace(SHIPPED_BINARY, str(binary)))
    return unit


def test_unit_verifies_cleanly(tmp_path: Path) -> None:
    text = UNIT.read_text()
    done = verify(rendered(tmp_path, text))
    assert done.returncode == 0, done.stderr
    assert "tunelens.service" not in done.stderr, done.stderr  # no warnings about the unit
    assert "--workers" in text and "ExecReload=/bin/kill -HUP $MAINPID" in text
    # how a stop reaches the workers is said, not left to the default (issue 18)
    assert "\nKillMode=mixed\n" in text
    # nginx on this machine is trusted explicitly: the app's default trusts no proxy
    assert "\nEnvironment=TUNELENS_TRUSTED_PROXIES=127.0.0.1,::1\n" in text


def test_verify_would_catch_a_broken_unit(tmp_path: Path) -> None:
    done = verify(rendered(tmp_path, UNIT.read_text().replace("Type=exec", "Type=sometimes")))
    assert "tunelens.service" in done.stderr or done.returncode != 0
