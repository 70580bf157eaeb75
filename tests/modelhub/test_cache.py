"""The cache layout: snapshots by commit, refs for branches, and what counts as pulled."""

from __future__ import annotations

from pathlib import Path

from tunelens.core.settings import Settings
from tunelens.modelhub.cache import (
    cached_snapshot,
    is_commit,
    read_ref,
    safe,
    snapshot_dir,
    write_ref,
)
from tunelens.modelhub.registry import choose
from tunelens.vision.layout import FileEntry
from tunelens.vision.lock import ModelLock

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_refs_map_branches_to_commits(tmp_path: Path) -> None:
    assert read_ref(tmp_path, "a/b", "main") is None
    write_ref(tmp_path, "a/b", "main", COMMIT)
    assert read_ref(tmp_path, "a/b", "main") == COMMIT
    assert (tmp_path / "a--b" / "refs" / "main").read_text().strip() == COMMIT
    assert read_ref(tmp_path, "a/b", COMMIT) == COMMIT  # a commit is its own ref
    write_ref(tmp_path, "a/b", "v1/rc", "not-a-commit")
    assert read_ref(tmp_path, "a/b", "v1/rc") is None  # garbage is ignored
    assert is_commit(COMMIT) and not is_commit("main") and not is_commit(COMMIT.upper())
    assert safe("a/b:c") == "a--b--c"
    assert snapshot_dir(tmp_path, "a/b", COMMIT) == tmp_path / "a--b" / COMMIT


def test_a_snapshot_counts_only_with_every_file_locked(tmp_path: Path) -> None:
    settings = Settings(model_repo="someone/clip", model_precision="int8")
    choice = choose(settings)
    assert cached_snapshot(tmp_path, choice) is None
    write_ref(tmp_path, "someone/clip", "main", COMMIT)
    folder = snapshot_dir(tmp_path, "someone/clip", COMMIT)
    folder.mkdir(parents=True)
    assert cached_snapshot(tmp_path, choice) is None  # no lock
    paths = [f.path for f in choice.model.files_for("int8")]
    lock = ModelLock("clip", "someone/clip", "main", COMMIT)
    lock.with_files(FileEntry(p, "0" * 64, 1) for p in paths[:-1]).write(folder)
    assert cached_snapshot(tmp_path, choice) is None  # one file short
    lock.with_files(FileEntry(p, "0" * 64, 1) for p in paths).write(folder)
    assert cached_snapshot(tmp_path, choice) == folder
    fp32 = choose(settings.model_copy(update={"model_precision": "fp32"}))
    assert cached_snapshot(tmp_path, fp32) is None  # another precision: other graphs
