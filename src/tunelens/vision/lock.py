"""The lock file of a pulled model folder: what was downloaded, from where, and its checksums.

``tunelens models pull`` (and ``--encoder auto`` when it downloads) writes ``tunelens-lock.json``
into the model folder when each file first arrives: the hub repository, the revision asked for,
the commit it resolved to, and every file's size and sha256. Every load checks the files it is
about to use against it, so a file changed, truncated or corrupted on disk after the download is
refused with ``model_corrupt`` naming the file, instead of giving quietly different readings.

It lives in ``vision`` beside :mod:`tunelens.vision.layout` because the encoder verifies it
while opening a folder (whichever way the folder was found); :mod:`tunelens.modelhub.download`
writes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from tunelens.core.atomic import write_atomic
from tunelens.core.digest import sha256_file
from tunelens.core.errors import ModelUnavailable
from tunelens.vision.layout import FileEntry

LOCK_NAME = "tunelens-lock.json"
LOCK_VERSION = 1


@dataclass(frozen=True)
class DerivedEntry:
    """How a file of the folder that the hub does not publish was made here: from which
    downloaded file (and its sha256 at the time), by which recipe, with which tool."""

    source: str
    source_sha256: str
    recipe: str
    #: e.g. ``onnxruntime 1.32.0``: the same recipe in another version may give other bytes
    tool: str


@dataclass(frozen=True)
class ModelLock:
    """Where a folder's files came from and what they must hash to."""

    #: the registry name (or the repository, for a model outside the registry)
    model: str
    repo: str
    #: the revision that was asked for (a branch, tag or commit)
    revision: str
    #: the commit that revision resolved to when the files were downloaded
    commit: str
    #: repository-relative path -> size and sha256 at first download
    files: dict[str, FileEntry] = field(default_factory=dict)
    #: False for the random-weight test models; registry models are trained
    pretrained: bool = True
    #: repository-relative path -> how a locally made file (``int8-local``) was made; its
    #: size and sha256 are in ``files`` like every other file's
    derived: dict[str, DerivedEntry] = field(default_factory=dict)
    version: int = LOCK_VERSION

    def with_files(self, entries: Iterable[FileEntry]) -> ModelLock:
        """This lock plus ``entries`` (a file already locked keeps its first checksum)."""
        files = dict(self.files)
        for entry in entries:
            files.setdefault(entry.path, entry)
        return replace(self, files=files)

    def with_derived(self, entry: FileEntry, how: DerivedEntry) -> ModelLock:
        """This lock with a locally made file (replacing an earlier making of it)."""
        files = {**self.files, entry.path: entry}
        return replace(self, files=files, derived={**self.derived, entry.path: how})

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "model": self.model,
            "repo": self.repo,
            "revision": self.revision,
            "commit": self.commit,
            "pretrained": self.pretrained,
            "files": {
                path: {"sha256": e.sha256, "n_bytes": e.n_bytes}
                for path, e in sorted(self.files.items())
            },
            "derived": {path: asdict(d) for path, d in sorted(self.derived.items())},
        }

    def write(self, folder: Path) -> Path:
        path = folder / LOCK_NAME
        text = json.dumps(self.to_dict(), indent=2) + "\n"
        write_atomic(path, text.encode(), durable=True)
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelLock:
        files = {
            str(path): FileEntry(str(path), str(e["sha256"]), int(e["n_bytes"]))
            for path, e in dict(data["files"]).items()
        }
        return cls(
            model=str(data["model"]),
            repo=str(data["repo"]),
            revision=str(data["revision"]),
            commit=str(data["commit"]),
            files=files,
            pretrained=bool(data.get("pretrained", True)),
            derived={
                str(path): DerivedEntry(
                    str(d["source"]), str(d["source_sha256"]), str(d["recipe"]), str(d["tool"])
                )
                for path, d in dict(data.get("derived", {})).items()
            },
            version=int(data.get("version", LOCK_VERSION)),
        )

    @classmethod
    def load(cls, folder: Path) -> ModelLock | None:
        """The folder's lock, None when it has none; ``model_corrupt`` when unreadable."""
        path = folder / LOCK_NAME
        if not path.is_file():
            return None
        try:
            lock = cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            raise ModelUnavailable(
                f"The lock file {path} cannot be read; pull the model again "
                "(`tunelens models pull --force`).",
                code="model_corrupt",
                details={"path": str(path)},
            ) from None
        if lock.version > LOCK_VERSION:
            raise ModelUnavailable(
                f"The lock file {path} is version {lock.version}, newer than this tunelens "
                f"reads ({LOCK_VERSION}); upgrade tunelens.",
                code="model_corrupt",
                details={"path": str(path)},
            )
        return lock

    def verify(self, folder: Path, paths: Iterable[str]) -> dict[str, str]:
        """Check each of ``paths`` against the lock (size, then sha256); return their sha256s.

        A path the lock does not list is hashed and returned unchecked: the lock covers what
        was downloaded, and a folder may hold more.
        """
        digests: dict[str, str] = {}
        for rel in paths:
            path = folder / rel
            entry = self.files.get(rel)
            if not path.is_file():
                raise ModelUnavailable(
                    f"The model file {path} is missing; pull the model again.",
                    code="model_missing",
                    details={"path": str(path)},
                )
            if entry is not None and path.stat().st_size != entry.n_bytes:
                raise ModelUnavailable(
                    f"The model file {path} has {path.stat().st_size} bytes, its lock file "
                    f"says {entry.n_bytes} (truncated or replaced); pull the model again "
                    "(`tunelens models pull --force`).",
                    code="model_corrupt",
                    details={"path": str(path), "expected": entry.n_bytes},
                )
            digest = sha256_file(path)
            if entry is not None and digest != entry.sha256:
                raise ModelUnavailable(
                    f"The model file {path} does not match the sha256 recorded when it was "
                    f"downloaded ({entry.sha256[:12]}…, now {digest[:12]}…): it changed on "
                    "disk; pull the model again (`tunelens models pull --force`).",
                    code="model_corrupt",
                    details={"path": str(path)},
                )
            digests[rel] = digest
        return digests
