"""The one heads store: what a version is, which one is active, activation and rollback
(by hand and through ``tunelens heads``), and listing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.feature_synth import write_synthetic_set
from tunelens.cli.app import main
from tunelens.core.errors import NotFound
from tunelens.core.settings import get_settings
from tunelens.heads.serving import FeatureHeadSlot
from tunelens.heads.store import (
    REPORT_FILE,
    Selection,
    active_version,
    list_heads,
    new_version,
    publish,
    rollback,
    select_version,
    set_active,
    staging,
    task_dir,
    versions,
)
from tunelens.vision.colour import ColourEncoder


def _version(folder: Path, name: str, *, passed: bool) -> None:
    (folder / name).mkdir(parents=True)
    (folder / name / REPORT_FILE).write_text(json.dumps({"passed": passed}))


def test_versions_active_pointer_and_rollback(tmp_path: Path) -> None:
    folder = task_dir(tmp_path, "clip/ViT-B", "emotion")
    assert folder == tmp_path / "clip_ViT-B" / "emotion"
    _version(folder, "20240101T000000Z", passed=True)
    _version(folder, "20240102T000000Z", passed=False)
    (folder / "20240103T000000Z").mkdir()  # empty: not a version
    (folder / ".staging-x").mkdir()
    (folder / ".staging-x" / REPORT_FILE).write_text("{}")  # hidden: not a version
    assert [p.name for p in versions(folder)] == ["20240102T000000Z", "20240101T000000Z"]
    # without active.json: the newest passing version
    assert active_version(folder) == "20240101T000000Z"
    assert select_version(folder) == Selection("20240101T000000Z")
    assert select_version(folder, "20240102T000000Z") == Selection("20240102T000000Z", pinned=True)
    assert select_version(folder, "mapping") == Selection(None, pinned=True)
    set_active(folder, "20240102T000000Z", reason="test")
    assert active_version(folder) == "20240102T000000Z"
    set_active(folder, None, reason="off")
    assert active_version(folder) is None
    assert rollback(folder) == (None, "20240102T000000Z")
    assert rollback(folder) == ("20240102T000000Z", "20240101T000000Z")
    with pytest.raises(NotFound):
        rollback(folder)
    rows = list_heads(tmp_path)
    assert [(r["version"], r["active"], r["passed"]) for r in rows] == [
        ("20240102T000000Z", False, False),
        ("20240101T000000Z", True, True),
    ]


def test_staging_is_removed_when_writing_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), staging(tmp_path) as staged:
        (staged / "half").write_text("x")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with staging(tmp_path) as staged:
        (staged / REPORT_FILE).write_text("{}")
        version = new_version(tmp_path)
        path = publish(staged, version)
    assert versions(tmp_path) == [path] and path.name == version


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(learnable pairs CSV, shuffled pairs CSV, catalogue dir), built once for the module."""
    root = tmp_path_factory.mktemp("synthetic")
    learnable, catalog, _ = write_synthetic_set(root, tracks=300, paired=200)
    shuffled, _, _ = write_synthetic_set(root, tracks=300, paired=200, shuffle=True, name="s.csv")
    return learnable, shuffled, catalog


def test_heads_commands_activate_rollback_and_encoder_mismatch(
    synthetic: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    learnable, shuffled, catalog = synthetic
    args = ["--catalog", str(catalog), "--encoder", "colour"]
    assert main(["train", "features", "--pairs", str(learnable), *args]) == 0
    out = capsys.readouterr().out
    assert "verdict" in out and "activated" in out and "retrieval over 300 songs" in out
    assert main(["train", "features", "--pairs", str(shuffled), *args, "--json"]) == 0
    refused = json.loads(capsys.readouterr().out)
    assert refused["passed"] is False
    assert main(["train", "features", "--pairs", str(learnable), *args, "--seed", "1"]) == 0
    capsys.readouterr()

    folder = task_dir(get_settings().heads_dir, ColourEncoder.model_id, "features")
    names = sorted(p.name for p in folder.iterdir() if p.is_dir())
    first, bad, second = names
    # the second learnable head beat the first on its own held-out pictures? either way the
    # active one is a passing head, and the refused one never is
    assert active_version(folder) in (first, second)
    assert main(["heads", "activate", second]) == 0
    assert second in capsys.readouterr().out
    assert main(["heads", "list", "--task", "features", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["version"] for r in rows if r["active"]] == [second]
    assert {r["version"]: r["passed"] for r in rows}[bad] is False
    # a head that did not pass is refused unless forced
    assert main(["heads", "activate", bad]) == 1
    assert "did not beat its baselines" in capsys.readouterr().err
    assert main(["heads", "activate", bad, "--force"]) == 0
    assert active_version(folder) == bad
    # rollback restores the previous head, then the one before
    assert main(["heads", "rollback"]) == 0
    assert active_version(folder) == second
    assert "→ " + second in capsys.readouterr().out.replace("\n", "")
    assert main(["heads", "activate", "nope"]) == 1
    assert "No saved heads match" in capsys.readouterr().err

    # a head is refused for an encoder it was not trained for (another id, another width)
    settings = get_settings()
    moved = settings.heads_dir / "clip-xyz" / "features"
    moved.mkdir(parents=True)
    (folder / second).rename(moved / second)
    (moved / "active.json").write_text(json.dumps({"version": second, "history": []}))
    slot = FeatureHeadSlot(settings.heads_dir, "clip-xyz", 14, blend=0.5)
    assert slot.head is None and "trained for encoder colour-v1" in slot.notices[0]
