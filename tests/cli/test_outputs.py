"""Where ``tunelens recommend --heatmap`` writes each photo's overlay, and how it writes it."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tunelens.cli.outputs import DATA_URL_PNG, heatmap_paths, write_data_url
from tunelens.core.errors import InvalidRequest


def test_heatmap_file_names(tmp_path: Path) -> None:
    photos = [Path("a/kite.jpg"), Path("b/kite.png"), Path("c/lake.jpg")]
    assert heatmap_paths(tmp_path / "h.png", photos[:1]) == [tmp_path / "h.png"]
    assert heatmap_paths(tmp_path / "h.png", photos) == [
        tmp_path / "h-1.png",
        tmp_path / "h-2.png",
        tmp_path / "h-3.png",
    ]
    assert heatmap_paths(tmp_path, photos) == [
        tmp_path / "kite.heatmap.png",
        tmp_path / "kite-2.heatmap.png",
        tmp_path / "lake.heatmap.png",
    ]


def test_text_ending_in_a_slash_is_a_directory_even_before_it_exists(tmp_path: Path) -> None:
    given = f"{tmp_path}/new/"
    assert heatmap_paths(given, [Path("kite.jpg")]) == [tmp_path / "new" / "kite.heatmap.png"]
    assert heatmap_paths(tmp_path / "new", [Path("kite.jpg")]) == [tmp_path / "new"]


def test_write_data_url_writes_the_png_bytes_and_makes_folders(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n fake body"
    url = DATA_URL_PNG + base64.b64encode(png).decode()
    written = write_data_url(url, tmp_path / "deep" / "h.png")
    assert written == tmp_path / "deep" / "h.png"
    assert written.read_bytes() == png


def test_write_data_url_refuses_anything_but_a_png_data_url(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest) as caught:
        write_data_url("data:image/jpeg;base64,AAAA", tmp_path / "h.png")
    assert caught.value.code == "invalid_heatmap"
