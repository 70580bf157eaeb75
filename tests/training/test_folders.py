"""Labelled folders: every sub-folder must name a vocabulary term, and two labels at least."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tunelens.core.errors import InvalidRequest
from tunelens.training.folders import infer_task, scan_folder


def test_folder_errors(tmp_path: Path) -> None:
    (tmp_path / "f" / "happy").mkdir(parents=True)
    with pytest.raises(InvalidRequest) as info:
        scan_folder(tmp_path / "f", "emotion")
    assert info.value.code == "unknown_label" and "happy" in info.value.message
    with pytest.raises(InvalidRequest) as info:
        scan_folder(tmp_path / "missing", "emotion")
    assert info.value.code == "images_dir_missing"
    one = tmp_path / "one" / "awe"
    one.mkdir(parents=True)
    Image.new("RGB", (32, 32)).save(one / "a.png")
    with pytest.raises(InvalidRequest) as info:
        scan_folder(tmp_path / "one", "emotion")
    assert info.value.code == "too_few_labels"


def test_pictures_are_listed_in_order_and_other_files_ignored(tmp_path: Path) -> None:
    for label in ("Sadness", "amusement"):
        (tmp_path / label / "deeper").mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(tmp_path / label / "b.png")
        Image.new("RGB", (8, 8)).save(tmp_path / label / "deeper" / "a.jpg")
        (tmp_path / label / "notes.txt").write_text("x")
    folder = scan_folder(tmp_path, "emotion")
    assert folder.paths == [
        "Sadness/b.png",
        "Sadness/deeper/a.jpg",
        "amusement/b.png",
        "amusement/deeper/a.jpg",
    ]
    assert folder.labels == ["sadness", "sadness", "amusement", "amusement"]
    assert folder.ignored == ["Sadness/notes.txt", "amusement/notes.txt"]
    assert infer_task(tmp_path) == "emotion"
