"""The CLI as an operator meets it (issue 18): each mistake gets the right exit code and one
clear line, nothing loads before a usage error is found, and start-up says only what matters.

Exit codes (tunelens.cli.app): 1 a user error, 2 a usage error (a bad command line)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PHOTOS_DIR, REPO_ROOT, require_shared
from tests.security.conftest import write_small_csv
from tunelens.catalogue.build import build_catalog
from tunelens.cli.app import main
from tunelens.cli.common import notice, say_error

KITE = "kite_blue_sky_clouds_01.jpg"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def serve_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT / "src"),
        "TUNELENS_DATA_DIR": str(tmp_path / "data"),
        "TUNELENS_CACHE_DIR": str(tmp_path / "cache"),
        "TUNELENS_ALLOW_DOWNLOAD": "0",
        "HF_HUB_OFFLINE": "1",
        "TUNELENS_FACES": "0",
    }


def test_install_hints_keep_their_extras(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """rich read ``[torch]`` as a style tag and printed ``pip install 'tunelens'``."""
    for hint in ("pip install 'tunelens[torch]'", "pip install 'tunelens[ray]'"):
        notice(f"needs the extra: {hint}")
        say_error(f"missing: {hint}")
        err = capsys.readouterr().err
        assert err.count(hint) == 2, err
    code, _, err = run(["catalog", "info", str(tmp_path / "songs[faces]")], capsys)
    assert code == 1 and "songs[faces]" in one_line(err)


@pytest.mark.parametrize("top", ["0", "1000"])
def test_recommend_top_out_of_range_is_a_usage_error_before_loading(
    top: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the catalogue does not exist: had anything loaded first, this would be exit 1
    start = time.perf_counter()
    code, out, err = run(
        ["recommend", str(tmp_path / "p.jpg"), "--top", top, "--catalog", str(tmp_path / "no")],
        capsys,
    )
    assert code == 2 and out == ""
    assert f"--top must be between 1 and 50, got {top}" in one_line(err)
    assert time.perf_counter() - start < 2


def test_db_upgrade_to_an_unknown_revision_is_one_line_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    code, _, err = run(["db", "upgrade", "9999", "--url", url], capsys)
    line = one_line(err)
    assert code == 1 and "'9999'" in line and "0001" in line
    assert "internal error" not in line


def test_serve_on_a_busy_port_is_one_line_exit_1(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "tunelens.cli", "serve", "--port", str(port)],
            env=serve_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1, done.stderr
    line = one_line(done.stderr)
    assert f"127.0.0.1:{port}" in line and "already in use" in line
    assert done.stdout == ""  # no "serving on …" before the failure


@pytest.mark.parametrize(("option", "value"), [("--genre", "metal"), ("--mood", "grumpy")])
def test_playlists_with_an_unknown_genre_or_mood_is_a_usage_error(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["playlists", option, value], capsys)
    assert code == 2 and out == ""
    assert repr(value) in one_line(err)


def test_recommend_heatmap_into_a_new_directory(
    spotify_catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = require_shared(PHOTOS_DIR / KITE)
    target = tmp_path / "newdir"
    code, _, err = run(
        [
            "recommend",
            str(photo),
            "--encoder",
            "colour",
            "--catalog",
            str(spotify_catalog),
            "--top",
            "1",
            "--heatmap",
            f"{target}/",
        ],
        capsys,
    )
    assert code == 0, err
    assert target.is_dir()
    assert [p.name for p in target.iterdir()] == ["kite_blue_sky_clouds_01.heatmap.png"]


def test_uploads_purge_needs_yes(capsys: pytest.CaptureFixture[str]) -> None:
    # a fresh data dir of its own (tests/conftest.py isolated_settings)
    code, out, err = run(["uploads", "purge", "--older-than", "0d"], capsys)
    assert code == 1 and out == "" and "--yes" in one_line(err)
    code, out, _ = run(["uploads", "purge", "--older-than", "0d", "--dry-run"], capsys)
    assert code == 0 and "nothing deleted" in one_line(out)


def test_stats_on_an_empty_database_prints_no_none(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["stats"], capsys)  # a fresh data dir: an empty database
    assert code == 0 and "predictions: 0" in out
    assert "None" not in out


def test_catalog_info_prints_readable_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog"
    build_catalog(write_small_csv(tmp_path / "songs.csv", rows=50), catalog)
    code, out, _ = run(["catalog", "info", str(catalog)], capsys)
    assert code == 0
    assert "{" not in out and "['" not in out and "None" not in out
    assert "count: " in out and "features: valence, energy" in out


def test_serve_start_up_is_quiet(tmp_path: Path) -> None:
    """No faiss "Could not load library" and no alembic narration before useful lines."""
    catalog = tmp_path / "catalog"
    build_catalog(write_small_csv(tmp_path / "songs.csv", rows=50), catalog)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "tunelens.cli", "serve", "--port", str(port)]
    command += ["--catalog", str(catalog), "--encoder", "colour"]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=serve_env(tmp_path), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while "Application startup complete" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=20)
    text = log.read_text()
    assert "engine ready" in text and "database ready" in text
    assert "Could not load library" not in text and "faiss.loader" not in text
    assert "alembic" not in text
