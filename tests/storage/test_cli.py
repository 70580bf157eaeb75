"""``tunelens db``, ``tunelens uploads`` and ``tunelens stats``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.storage.helpers import jpeg_with_gps, make_recommendation
from tunelens.cli.app import main
from tunelens.core.settings import get_settings
from tunelens.storage import repository as repo
from tunelens.storage.blobs import blob_key
from tunelens.storage.db import Database
from tunelens.storage.uploads import UploadService


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TUNELENS_DATABASE_URL", url)
    get_settings.cache_clear()
    return url


def test_db_commands(db_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["db", "current"], capsys)
    assert code == 0 and "revision: none (empty)" in out and "needs `tunelens db upgrade`" in out
    code, out, _ = run(["db", "upgrade"], capsys)
    assert (code, out.strip()) == (0, "database at revision 0001")
    code, out, _ = run(["db", "current"], capsys)
    assert "revision: 0001" in out and "up to date" in out
    code, out, _ = run(["db", "downgrade", "base"], capsys)
    assert (code, out.strip()) == (0, "database at revision base (empty)")
    code, out, _ = run(["db", "upgrade", "--sql", "--url", "postgresql://u@h.invalid/x"], capsys)
    assert code == 0 and "CREATE TABLE uploads" in out


def test_db_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["db", "upgrade", "--url", "mysql://u@h/x"], capsys)
    assert code == 1
    assert "SQLite or PostgreSQL" in err and "Traceback" not in err


def test_uploads_flush_purge_delete(db_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    settings = get_settings()
    db = Database.from_settings(settings)
    service = UploadService.from_settings(settings, db)
    kept = service.keep(jpeg_with_gps(), consent=True)
    # a picture that waited in the outbox while the store was down
    waiting = jpeg_with_gps(colour=(5, 5, 5))
    service._store_down_until = float("inf")
    pending = service.keep(waiting, consent=True)
    assert pending.status == "pending"

    code, out, _ = run(["uploads", "flush"], capsys)
    assert code == 0
    assert "delivered 1, already stored 0, failed 0, still waiting 0" in out
    row = repo.get_upload(db, pending.sha256)
    assert row is not None and row.status == "stored"
    assert (settings.data_dir / "uploads" / blob_key(pending.sha256)).is_file()

    code, out, _ = run(["uploads", "delete", kept.sha256], capsys)
    assert code == 0 and f"deleted {kept.sha256}: 1 rows" in out
    assert not (settings.data_dir / "uploads" / blob_key(kept.sha256)).exists()
    code, out, _ = run(["uploads", "delete", kept.sha256], capsys)
    assert code == 0 and "nothing kept" in out
    code, _, err = run(["uploads", "delete", "not-a-hash"], capsys)
    assert code == 1 and "sha256" in err

    code, out, _ = run(["uploads", "purge", "--older-than", "30d", "--yes"], capsys)
    assert code == 0 and "0 rows" in out  # nothing is that old
    # everything: refused without --yes (one line, nothing deleted), counted by --dry-run
    code, out, err = run(["uploads", "purge", "--older-than", "0s"], capsys)
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert "1 rows, 1 stored pictures" in err and "--yes" in err
    code, out, _ = run(["uploads", "purge", "--older-than", "0s", "--dry-run"], capsys)
    assert code == 0 and "1 rows, 1 stored pictures" in out and "nothing deleted" in out
    assert (settings.data_dir / "uploads" / blob_key(pending.sha256)).is_file()
    code, out, _ = run(["uploads", "purge", "--older-than", "0s", "--yes"], capsys)
    assert code == 0 and "1 rows, 1 stored pictures" in out
    assert not (settings.data_dir / "uploads" / blob_key(pending.sha256)).exists()
    code, _, err = run(["uploads", "purge", "--older-than", "soon", "--yes"], capsys)
    assert code == 1 and "not a duration" in err
    db.dispose()


def test_stats(db_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["stats"], capsys)  # a fresh install: all zero, no error
    assert code == 0 and "predictions: 0" in out
    db = Database.from_settings(get_settings())
    pid = repo.record_prediction(db, make_recommendation([("a", "Band", "pop")]), client_id="c")
    repo.record_feedback(db, prediction_id=pid, track_id="a", kind="like", client_id="c")
    db.dispose()

    code, out, _ = run(["stats", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["predictions"] == 1 and data["feedback"]["like"] == 1
    assert data["most_liked"][0]["title"] == "Song a"
    code, out, _ = run(["stats"], capsys)
    assert code == 0
    assert "predictions: 1" in out and "like rate 100%" in out and "Song a" in out
