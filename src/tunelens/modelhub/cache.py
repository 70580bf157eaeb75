"""Where pulled models live on disk, and finding one there without the network.

::

    <cache_dir>/models/<owner>--<name>/<commit>/   a snapshot in the repository's own layout
                                                  (onnx/…, tokenizer.json, …) + tunelens-lock.json
    <cache_dir>/models/<owner>--<name>/refs/<revision>   the commit a branch or tag resolved to

A snapshot is keyed by commit, so pinning a revision never mixes files of two commits, and a
later pull of a moved branch lands beside the old snapshot instead of over it. The refs let an
offline start find the commit ``main`` meant at the last pull.
"""

from __future__ import annotations

import re
from pathlib import Path

from tunelens.core.atomic import write_atomic
from tunelens.modelhub.registry import Choice
from tunelens.vision.lock import LOCK_NAME, ModelLock

_COMMIT = re.compile(r"[0-9a-f]{40}")


def safe(part: str) -> str:
    """A repository id or revision as one path component."""
    return part.replace("/", "--").replace("\\", "--").replace(":", "--")


def repo_dir(models_dir: Path, repo: str) -> Path:
    return models_dir / safe(repo)


def snapshot_dir(models_dir: Path, repo: str, commit: str) -> Path:
    return repo_dir(models_dir, repo) / safe(commit)


def is_commit(revision: str) -> bool:
    return _COMMIT.fullmatch(revision) is not None


def read_ref(models_dir: Path, repo: str, revision: str) -> str | None:
    """The commit ``revision`` resolved to at the last pull (a commit resolves to itself)."""
    if is_commit(revision):
        return revision
    path = repo_dir(models_dir, repo) / "refs" / safe(revision)
    try:
        commit = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return commit if is_commit(commit) else None


def write_ref(models_dir: Path, repo: str, revision: str, commit: str) -> None:
    if revision != commit:
        path = repo_dir(models_dir, repo) / "refs" / safe(revision)
        write_atomic(path, (commit + "\n").encode(), durable=True)


def cached_snapshot(models_dir: Path, choice: Choice, *, downloaded: bool = False) -> Path | None:
    """The snapshot holding every file of ``choice`` per its lock file, or None.

    With ``downloaded``, every file a pull downloads is enough (graphs made locally from them,
    ``int8-local``, may still be missing). Only presence is checked here; the checksums are
    verified when the folder is opened (:func:`tunelens.vision.clip_spec.open_spec`), on every
    load.
    """
    commit = read_ref(models_dir, choice.model.repo, choice.revision)
    if commit is None:
        return None
    folder = snapshot_dir(models_dir, choice.model.repo, commit)
    if not (folder / LOCK_NAME).is_file():
        return None
    lock = ModelLock.load(folder)
    files = choice.model.files_for if downloaded else choice.model.load_files
    needed = [f.path for f in files(choice.precision)]
    if lock is None or any(path not in lock.files for path in needed):
        return None
    return folder
