"""Build real catalogues from the shared data: the TidyTuesday CSV, the moods CSV, the audio
folder, and a download from a local HTTP server. Skips when ../shared/data is absent."""

from __future__ import annotations

import csv
import functools
import re
import socket
import threading
import time
import unicodedata
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import require_shared
from tunelens.catalogue.audio_loader import load_audio_folder
from tunelens.catalogue.build import BuildOptions, build_catalog, catalog_info
from tunelens.catalogue.csv_loader import load_spotify_csv
from tunelens.catalogue.fetch import KNOWN_SOURCES, DownloadPolicy, fetch_source
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.loaders import load_source
from tunelens.core.audio import MOOD_FEATURES
from tunelens.core.errors import DownloadError

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SONGS = SHARED / "spotify_songs" / "spotify_songs.csv"
MOODS = SHARED / "spotify_moods" / "data_moods.csv"
AUDIO = SHARED / "audio"

pytestmark = pytest.mark.skipif(
    not SONGS.is_file(), reason=f"shared test data not found at {SHARED} (see DESIGN.md)"
)

ROWS = 32_833
UNIQUE_TRACKS = 26_131  # measured: 28,356 ids − 4 NA-only ids − 2,221 title+artist merges
#: rows whose track_name and track_artist are R's NA (PROVENANCE.md lists the 4 track ids)
NA_LINES = [8153, 9284, 9285, 19570, 19813]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    out = tmp_path_factory.mktemp("spotify") / "index"
    return build_catalog(SONGS, out), out


def _independent_counts() -> tuple[int, int, int]:
    """(valid rows, distinct ids, distinct songs) with plain csv + regex, no tunelens code."""

    def norm(text: str) -> str:
        return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).casefold())

    valid_rows = 0
    first: dict[str, tuple[str, str]] = {}
    with SONGS.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["track_name"] == "NA" or row["track_artist"] == "NA":
                continue
            valid_rows += 1
            first.setdefault(row["track_id"], (row["track_name"], row["track_artist"]))
    songs: set[object] = set()
    for track_id, (title, artist) in first.items():
        key = (norm(title), norm(artist))
        songs.add(key if all(key) else track_id)  # no key → never merged
    return valid_rows, len(first), len(songs)


def test_build_from_tidytuesday_csv(built: tuple[object, Path]) -> None:
    result, out = built
    assert result.rows_read == ROWS
    assert result.tracks == UNIQUE_TRACKS
    assert [p.line for p in result.problems] == NA_LINES
    assert all("track_name is missing ('NA')" in p.reason for p in result.problems)
    valid_rows, distinct_ids, songs = _independent_counts()
    assert result.merged_by_id == valid_rows - distinct_ids == 4_476
    assert result.merged_by_title_artist == distinct_ids - songs == 2_221
    assert result.tracks == songs
    assert result.duplicates_merged == 6_697
    assert set(result.genres) == {"edm", "latin", "pop", "r&b", "rap", "rock"}
    assert result.index_kind == "flat"

    info = catalog_info(out)
    assert info["count"] == UNIQUE_TRACKS and info["hash"] == result.content_hash
    index = CatalogueIndex.load(out)
    track = index.catalogue.by_id("6f807x0ima9a1j3VPbc7VN")
    assert track.title.startswith("I Don't Care") and track.genre == "pop"
    assert track.links["spotify"].endswith("/6f807x0ima9a1j3VPbc7VN")
    happy = index.vector({"valence": 0.95, "energy": 0.85, "danceability": 0.85})
    rows, _ = index.search(happy, {"valence": 4.0}, k=10)
    valence = index.raw_features()[rows, MOOD_FEATURES.index("valence")]
    assert len(rows) == 10 and float(np.min(valence)) > 0.8


def test_corrupted_copy_reports_exactly_the_bad_lines(tmp_path: Path) -> None:
    lines = SONGS.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    energy, dance, name = (header.index(c) for c in ("energy", "danceability", "track_name"))

    def edit(line_no: int, column: int, value: str) -> None:
        cells = lines[line_no - 1].rstrip("\n").split(",")
        assert len(cells) == len(header), "pick a row without quoted commas"
        cells[column] = value
        lines[line_no - 1] = ",".join(cells) + "\n"

    # A valid row whose album name spans two physical lines shifts every later line by one.
    cells = lines[99].rstrip("\n").split(",")
    assert len(cells) == len(header)
    cells[header.index("track_album_name")] = '"Album\nwith a line break"'
    lines[99] = ",".join(cells) + "\n"
    edit(1001, energy, "very")  # physical line 1002 after the break
    edit(20001, dance, "7.5")  # 20002
    edit(30001, name, "")  # 30002
    corrupted = tmp_path / "corrupted.csv"
    corrupted.write_text("".join(lines), encoding="utf-8")

    report = load_spotify_csv(corrupted)
    new = [p for p in report.problems if p.line - 1 not in NA_LINES]
    assert [p.line for p in new] == [1002, 20002, 30002]
    assert new[0].reason == "energy='very' is not a number"
    assert new[1].reason == "danceability='7.5' is outside [0, 1]"
    assert new[2].reason == "track_name is empty"
    assert len(report.problems) == len(NA_LINES) + 3
    assert report.rows_read == ROWS


def test_moods_csv_loads() -> None:
    report = load_source(MOODS)
    assert (report.rows_read, len(report.catalogue), len(report.problems)) == (686, 686, 0)
    assert report.format == "spotify-moods"
    moods = {t.mood for t in report.catalogue}
    assert moods == {"Sad", "Calm", "Energetic", "Happy"}
    prince = report.catalogue.by_id("2H7PHVdQ3mXqEHXcvclTB0")
    assert prince.features["duration_ms"] == 379_266 and "mode" not in prince.features


def test_audio_folder_features() -> None:
    require_shared(AUDIO / "files")
    with (AUDIO / "tracks.csv").open(newline="", encoding="utf-8") as handle:
        expected = {Path(row["file"]).stem: row for row in csv.DictReader(handle)}
    report = load_audio_folder(AUDIO / "files", max_seconds=30)
    assert report.rows_read == 24 and not report.problems and report.format == "audio"
    tempo_ok = 0
    for track in report.catalogue:
        stem = track.id.removeprefix("audio:")
        ref = expected[stem]
        assert (track.title, track.artist) == (ref["title"], ref["artist"])
        assert track.source == "audio" and track.links["file"].startswith("file://")
        f = track.features
        for name in ("danceability", "energy", "speechiness", "acousticness", "valence"):
            assert 0.0 <= f[name] <= 1.0, (stem, name, f[name])
        assert 0.0 <= f["instrumentalness"] <= 1.0 and 0.0 <= f["liveness"] <= 1.0
        assert -60.0 <= f["loudness"] <= 0.0
        assert f["mode"] in (0.0, 1.0) and 0 <= f["key"] <= 11
        assert f["duration_ms"] == pytest.approx(float(ref["duration_s"]) * 1000, abs=100)
        ratio = f["tempo"] / float(ref["tempo_bpm"])
        if any(abs(ratio - r) <= 0.1 * r for r in (0.5, 1.0, 2.0)):
            tempo_ok += 1
    assert tempo_ok >= 18, f"only {tempo_ok}/24 tempi agree with tracks.csv"
    loud = report.catalogue.by_id("audio:singularity_enemy_unknown").features
    quiet = report.catalogue.by_id("audio:singularity_march_thee_to_dis").features
    assert loud["loudness"] > quiet["loudness"] + 10 and loud["energy"] > quiet["energy"]


def test_undecodable_audio_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "broken.ogg").write_bytes(b"OggS" + b"\x00" * 100)
    (tmp_path / "good.ogg").symlink_to(AUDIO / "files" / "supertux_chipdisko.ogg")
    report = load_audio_folder(tmp_path, max_seconds=5)
    assert [t.title for t in report.catalogue] == ["Mortimer's Chipdisko"]
    assert len(report.problems) == 1
    assert report.problems[0].file == "broken.ogg" and "broken.ogg" in report.problems[0].reason


# --------------------------------------------------------------------------- fetch


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    (root / "spotify_songs.csv").write_bytes(SONGS.read_bytes())
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_and_build_from_local_server(
    http_root: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = http_root
    monkeypatch.setenv("TUNELENS_CATALOG_URL_SPOTIFY_30K", f"{base}/spotify_songs.csv")
    downloads = tmp_path / "downloads"
    result = build_catalog(
        "spotify-30k", tmp_path / "idx", options=BuildOptions(download_dir=downloads)
    )
    assert result.tracks == UNIQUE_TRACKS and result.source_path.parent == downloads
    assert sorted(p.name for p in downloads.iterdir()) == ["spotify_songs.csv"]
    # A second fetch reuses the verified file without a request.
    monkeypatch.setenv("TUNELENS_CATALOG_URL_SPOTIFY_30K", "http://127.0.0.1:9/gone")
    assert fetch_source("spotify-30k", downloads) == downloads / "spotify_songs.csv"


def test_fetch_checksum_mismatch_removes_the_file(
    http_root: tuple[str, Path], tmp_path: Path
) -> None:
    base, _ = http_root
    dest = tmp_path / "dl"
    with pytest.raises(DownloadError) as err:
        fetch_source(
            "spotify-30k",
            dest,
            url_override=f"{base}/spotify_songs.csv",
            policy=DownloadPolicy(expected_sha256="0" * 64),
        )
    assert err.value.code == "checksum_mismatch"
    assert KNOWN_SOURCES["spotify-30k"].sha256 in err.value.message
    assert list(dest.iterdir()) == []
    with pytest.raises(DownloadError) as err:
        fetch_source(f"{base}/missing.csv", dest)
    assert err.value.code == "download_failed" and "404" in err.value.message
    assert list(dest.iterdir()) == []


def test_fetch_dead_port_fails_fast(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dest = tmp_path / "dl"
    started = time.monotonic()
    with pytest.raises(DownloadError) as err:
        fetch_source("spotify-30k", dest, url_override=f"http://127.0.0.1:{port}/x.csv")
    assert time.monotonic() - started < 5
    assert err.value.code == "download_failed" and f"127.0.0.1:{port}" in err.value.message
    assert list(dest.iterdir()) == []
