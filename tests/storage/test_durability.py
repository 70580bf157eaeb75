"""Crash test: a process writing feedback is killed with SIGKILL mid-stream; every row whose
write returned (and whose id it printed) is in the database afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tunelens.storage.db import Database, Feedback
from tunelens.storage.engine import make_engine
from tunelens.storage.migrate import upgrade

REPO_ROOT = Path(__file__).resolve().parents[2]

WRITER = """
import sys
from tunelens.storage.db import Database
from tunelens.storage.repository import record_feedback

db = Database(sys.argv[1])
i = 0
while True:
    kind = ("like", "dislike", "not_interested", "played")[i % 4]
    fid = record_feedback(db, track_id=f"t{i % 97}", kind=kind, client_id=f"c{i % 5}")
    print(fid, flush=True)  # acknowledged only after the commit returned
    i += 1
"""


def _crash_writer(url: str, acknowledged: int) -> list[int]:
    """Run the writer until it acknowledged ``acknowledged`` rows, then SIGKILL it mid-write."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    printed: list[int] = []
    deadline = time.monotonic() + 60
    try:
        while len(printed) < acknowledged and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            printed.append(int(line))
        os.kill(proc.pid, signal.SIGKILL)  # while it is in the middle of its next writes
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, err
    printed.extend(int(x) for x in rest.split())
    assert len(printed) >= acknowledged, err
    return printed


def _check(url: str, printed: list[int]) -> None:
    db = Database(url)
    try:
        with db.read() as session:
            stored = set(session.scalars(select(Feedback.id)))
    finally:
        db.dispose()
    missing = sorted(set(printed) - stored)
    assert not missing, f"{len(missing)} acknowledged rows lost, e.g. {missing[:5]}"
    assert len(stored) >= len(printed)


def test_sigkill_loses_no_acknowledged_feedback_sqlite(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    printed = _crash_writer(sqlite_url, acknowledged=300)
    _check(sqlite_url, printed)
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_sigkill_loses_no_acknowledged_feedback_postgres(pg_url: str) -> None:
    upgrade(pg_url)
    printed = _crash_writer(pg_url, acknowledged=300)
    _check(pg_url, printed)
