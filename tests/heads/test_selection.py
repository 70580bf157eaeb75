"""Which reading head a reader uses: the active (or newest passing) version, a pinned one,
never one trained for another encoder width; and what may be activated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.labelled_pictures import labelled_folder, settings_for
from tunelens.core.errors import InvalidRequest
from tunelens.heads.linear import LinearHead
from tunelens.heads.selection import check_activatable, select_head
from tunelens.heads.store import task_dir
from tunelens.training.linear import train_head
from tunelens.training.run import TrainingRun
from tunelens.vision.colour import ColourEncoder


def test_pinned_versions_and_newest_passing_wins(tmp_path: Path) -> None:
    learnable = labelled_folder(tmp_path / "learnable")
    settings = settings_for(tmp_path / "home")
    run = TrainingRun(settings, encoder="colour")
    first = train_head(learnable, "emotion", run)
    second = train_head(learnable, "emotion", run)
    assert second.path.name > first.path.name  # same second → "-2" suffix
    dim = ColourEncoder.dim
    head, _ = select_head(settings.heads_dir, "colour-v1", "emotion", dim)
    assert head is not None and head.version == second.path.name
    pinned, notices = select_head(settings.heads_dir, "colour-v1", "emotion", dim, first.path.name)
    assert pinned is not None and pinned.version == first.path.name and notices == []
    missing, notices = select_head(settings.heads_dir, "colour-v1", "emotion", dim, "nope")
    assert missing is None and "cannot be used" in notices[0]
    wrong, notices = select_head(settings.heads_dir, "colour-v1", "emotion", 512)
    assert wrong is None  # trained for another width: never used


def _save(root: Path, version: str, *, passed: bool, dim: int = 2) -> Path:
    folder = task_dir(root, "m", "genre")
    LinearHead(
        task="genre",
        model_id="m",
        classes=("jazz", "rock"),
        weights=np.ones((2, dim), dtype=np.float32),
        bias=np.zeros(2, dtype=np.float32),
        report={"passed": passed, "verdict": "test"},
    ).save(folder / version)
    return folder


def test_without_active_json_the_newest_passing_version_is_the_one(tmp_path: Path) -> None:
    _save(tmp_path, "20240101T000000Z", passed=True)
    _save(tmp_path, "20240102T000000Z", passed=False)
    head, notices = select_head(tmp_path, "m", "genre", 2)
    assert head is not None and head.version == "20240101T000000Z" and notices == []
    # a pinned head that did not pass is used, with a notice; "none" turns heads off
    pinned, notices = select_head(tmp_path, "m", "genre", 2, "20240102T000000Z")
    assert pinned is not None and "because it is pinned" in notices[0]
    assert select_head(tmp_path, "m", "genre", 2, " None ") == (None, [])


def test_check_activatable(tmp_path: Path) -> None:
    folder = _save(tmp_path, "20240101T000000Z", passed=False)
    with pytest.raises(InvalidRequest) as info:
        check_activatable(folder, "20240101T000000Z", force=False)
    assert info.value.code == "head_not_passed"
    check_activatable(folder, "20240101T000000Z", force=True)
    (folder / "20240103T000000Z").mkdir()
    with pytest.raises(InvalidRequest) as info:
        check_activatable(folder, "20240103T000000Z", force=True)
    assert info.value.code == "head_invalid"
