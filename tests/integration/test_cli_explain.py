"""`tunelens recommend` with --heatmap (and --export): the files it writes and what it prints."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import PHOTOS_DIR, require_shared
from tunelens.cli.app import main

KITE = "kite_blue_sky_clouds_01.jpg"
DARK = "mountains_dark_clouds_01.jpg"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_heatmap_png_is_an_overlay_on_the_photo_and_the_table_explains(
    spotify_catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the dark-clouds photo: one region carries the reading (the kite's even blue sky, read by
    # colour alone, moves the same wherever a patch hides it, so no region stands out there)
    photo = require_shared(PHOTOS_DIR / DARK)
    out = tmp_path / "h.png"
    code, stdout, stderr = run(
        [
            "recommend",
            str(photo),
            "--encoder",
            "colour",
            "--catalog",
            str(spotify_catalog),
            "--top",
            "3",
            "--heatmap",
            str(out),
        ],
        capsys,
    )
    assert code == 0, stderr
    assert f"heatmap: {out}" in stderr
    # the region that mattered most is named, and the explanation says what is there
    found = re.search(r"mattered most: ([a-z ]+): ([a-z ]+)", stdout)
    assert found is not None, stdout
    assert "why: " in stdout and f"{found[1]} ({found[2]})" in stdout
    with Image.open(out) as png:
        assert png.format == "PNG" and png.mode == "RGB"
        overlay = np.asarray(png.convert("RGB"), dtype=np.float32)
        size = png.size
    with Image.open(photo) as original:
        ratio = original.width / original.height
        reference = original.convert("RGB").resize(size)
    assert abs(size[0] / size[1] - ratio) < 0.01  # the photo's shape, not a bare grid
    # an overlay, not a replacement: it still follows the photo's light and dark
    photo_luma = np.asarray(reference.convert("L"), dtype=np.float32).ravel()
    overlay_luma = overlay.mean(axis=2).ravel()
    assert np.corrcoef(photo_luma, overlay_luma)[0, 1] > 0.5


def test_heatmaps_for_several_photos_and_json(
    spotify_catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_shared(PHOTOS_DIR)
    photos = [str(PHOTOS_DIR / KITE), str(PHOTOS_DIR / DARK)]
    code, stdout, stderr = run(
        [
            "recommend",
            *photos,
            "--encoder",
            "colour",
            "--catalog",
            str(spotify_catalog),
            "--top",
            "2",
            "--json",
            "--heatmap",
            str(tmp_path / "out.png"),
        ],
        capsys,
    )
    assert code == 0, stderr
    results = json.loads(stdout)
    assert [Path(r["explanation"]["heatmap"]).name for r in results] == ["out-1.png", "out-2.png"]
    assert all(r["explanation"]["heatmap"].startswith("file://") for r in results)
    assert (tmp_path / "out-1.png").is_file() and (tmp_path / "out-2.png").is_file()
    explanation = results[1]["explanation"]
    place, content = explanation["hot_regions"][0]["label"].split(": ", 1)
    assert f"{place} ({content})" in explanation["text"]


def test_heatmap_and_export_together(
    spotify_catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's check: `recommend <photo> --heatmap h.png --export p.m3u8` writes both."""
    from tests.playlists.helpers import parse_m3u8

    photo = require_shared(PHOTOS_DIR / KITE)
    code, _, stderr = run(
        [
            "recommend",
            str(photo),
            "--encoder",
            "colour",
            "--catalog",
            str(spotify_catalog),
            "--heatmap",
            str(tmp_path / "h.png"),
            "--export",
            str(tmp_path / "p.m3u8"),
        ],
        capsys,
    )
    assert code == 0, stderr
    assert (tmp_path / "h.png").stat().st_size > 1000
    title, entries = parse_m3u8((tmp_path / "p.m3u8").read_text(encoding="utf-8"))
    assert title == f"tunelens — {KITE}"
    assert len(entries) == 10
    assert all(url.startswith("https://open.spotify.com/track/") for _, _, url in entries)
    assert "playlist: " in stderr and "(10 songs, m3u8)" in stderr
    # several photos: one JSPF with all their songs
    code, _, stderr = run(
        [
            "recommend",
            str(photo),
            str(PHOTOS_DIR / DARK),
            "--encoder",
            "colour",
            "--top",
            "3",
            "--catalog",
            str(spotify_catalog),
            "--export",
            str(tmp_path / "p.jspf"),
        ],
        capsys,
    )
    assert code == 0, stderr
    tracks = json.loads((tmp_path / "p.jspf").read_text(encoding="utf-8"))["playlist"]["track"]
    assert len(tracks) == 6


def test_export_with_an_unknown_suffix_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, stderr = run(["recommend", "x.jpg", "--export", str(tmp_path / "p.txt")], capsys)
    assert code == 2
    assert "name it .m3u8" in stderr


def test_playlists_command_lists_and_checks_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["playlists", "--region", "khaleeji", "--genre", "rock"], capsys)
    assert code == 0
    assert "Rock — Khaleeji (youtube, playlist): https://www.youtube.com/playlist?list=" in out
    bad = tmp_path / "bad.toml"
    bad.write_text('[regions.x]\nlabel = "X"\n[[regions.x.mood.sleepy]]\ntitle = "t"\n')
    code, _, err = run(["playlists", "--file", str(bad)], capsys)
    assert code == 1
    assert f"{bad}, line 3" in err and "sleepy" in err
