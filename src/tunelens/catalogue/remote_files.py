"""The files of one catalogue version, and the local cache that holds the versions a server
downloaded from shared storage.

A catalogue directory's ``meta.json`` is its manifest. When it carries a ``files`` list (name,
size, sha256 of every file of that version) that list is the truth; a catalogue written before
such lists existed is described by the file names of its format (``tracks.jsonl``,
``features.npy``, ``index.faiss`` and, with a text model, ``text_embeddings.npy``). Nothing
else about the format is assumed here, so a new store layout only has to list its files.

The cache (:class:`CatalogueCache`) keeps each version in its own directory
``versions/<version id>`` and a ``current`` symbolic link to the one in use. A version is
downloaded into a staging directory, verified, renamed into ``versions/`` and only then is
``current`` swapped (``rename`` of a new link over the old one): a reader either sees the old
version whole or the new one whole. Versions are immutable once installed, which is why a
file already held by an older version can be hard-linked instead of downloaded again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from tunelens.catalogue.index_files import (
    FAISS_FILE,
    FEATURES_FILE,
    META_FILE,
    TEXT_FILE,
    TRACKS_FILE,
)
from tunelens.core.atomic import fsync_dir
from tunelens.core.digest import sha256_file
from tunelens.core.errors import CatalogError

__all__ = [
    "CatalogueCache",
    "CatalogueFile",
    "describe_files",
    "listed_files",
    "version_id",
]

#: versions kept in a cache besides the current one (a server still reading the previous
#: version while another process switches must not find its files gone)
KEEP_PREVIOUS = 1


@dataclass(frozen=True)
class CatalogueFile:
    """One file of a catalogue version; size and sha256 are None when the manifest lacks them."""

    name: str
    size: int | None = None
    sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


def version_id(meta_bytes: bytes) -> str:
    """The id of a version: the sha256 of its ``meta.json`` (16 hex digits).

    ``meta.json`` names the catalogue hash, the build time and every file's checksum, so two
    versions that differ in anything have different ids — whatever the store calls them.
    """
    return hashlib.sha256(meta_bytes).hexdigest()[:16]


def _bad_manifest(where: str, what: str) -> CatalogError:
    return CatalogError(
        f"the catalogue manifest at {where} is invalid ({what}); publish it again with "
        "`tunelens catalog push DIR URL`",
        code="catalog_remote_corrupt",
        details={"where": where},
    )


def _safe_name(name: object, where: str) -> str:
    """A relative path inside the catalogue: never absolute, never ``..``, never meta.json.

    Names come from a manifest someone else wrote; one such as ``../../.ssh/x`` must not
    write outside the cache.
    """
    if not isinstance(name, str) or not name or "\\" in name:
        raise _bad_manifest(where, f"file name {name!r}")
    parts = PurePosixPath(name).parts
    if PurePosixPath(name).is_absolute() or any(p in ("", ".", "..") for p in parts):
        raise _bad_manifest(where, f"file name {name!r}")
    if name == META_FILE:
        raise _bad_manifest(where, "meta.json lists itself")
    return name


def _listed(entry: object, where: str) -> CatalogueFile:
    if not isinstance(entry, Mapping):
        raise _bad_manifest(where, f"files entry {entry!r}")
    size, sha = entry.get("size"), entry.get("sha256")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise _bad_manifest(where, f"size {size!r} of {entry.get('name')!r}")
    if sha is not None and (not isinstance(sha, str) or len(sha) != 64):
        raise _bad_manifest(where, f"sha256 {sha!r} of {entry.get('name')!r}")
    return CatalogueFile(_safe_name(entry.get("name"), where), size, sha)


def listed_files(meta: Mapping[str, Any], where: str) -> list[CatalogueFile]:
    """The files of the version ``meta`` describes: its ``files`` list, else the names of
    today's format (``where`` names the manifest in errors)."""
    files = meta.get("files")
    if files is None:
        names = [TRACKS_FILE, FEATURES_FILE, FAISS_FILE]
        if meta.get("text_model_id"):
            names.append(TEXT_FILE)
        return [CatalogueFile(name) for name in names]
    if not isinstance(files, list) or not files:
        raise _bad_manifest(where, "files is not a non-empty list")
    listed = [_listed(entry, where) for entry in files]
    if len({f.name for f in listed}) != len(listed):
        raise _bad_manifest(where, "a file is listed twice")
    return listed


def describe_files(directory: Path, meta: Mapping[str, Any]) -> list[CatalogueFile]:
    """Every file of the local catalogue at ``directory`` with its measured size and sha256.

    A file the manifest lists with other numbers is refused: publishing it would hand every
    server a version its own manifest contradicts.
    """
    described = []
    for listed in listed_files(meta, str(directory / META_FILE)):
        path = directory / listed.name
        if not path.is_file():
            raise CatalogError(
                f"the catalogue at {directory} lacks {listed.name}, which its meta.json names",
                code="index_corrupt",
                details={"dir": str(directory), "file": listed.name},
            )
        found = CatalogueFile(listed.name, path.stat().st_size, sha256_file(path))
        if (listed.size is not None and listed.size != found.size) or (
            listed.sha256 is not None and listed.sha256 != found.sha256
        ):
            raise CatalogError(
                f"{path} differs from the size/sha256 its meta.json records; the catalogue "
                "changed while it was read, or is corrupt",
                code="index_mismatch",
                details={"dir": str(directory), "file": listed.name},
            )
        described.append(found)
    return described


def check_file(path: Path, expected: CatalogueFile) -> str | None:
    """Why ``path`` is not the file ``expected`` describes, or None when it is."""
    size = path.stat().st_size
    if expected.size is not None and size != expected.size:
        return f"{expected.name} has {size} bytes, the manifest says {expected.size}"
    if expected.sha256 is not None and sha256_file(path) != expected.sha256:
        return f"{expected.name} does not match the sha256 in the manifest"
    return None


class CatalogueCache:
    """Downloaded versions of one remote catalogue: ``versions/<id>/`` and ``current``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.versions = root / "versions"
        self.link = root / "current"

    def current(self) -> Path | None:
        """The directory of the version in use (the link resolved once), or None."""
        if not self.link.is_symlink():
            return None
        target = self.link.resolve()
        return target if (target / META_FILE).is_file() else None

    def installed(self, vid: str) -> Path | None:
        path = self.versions / vid
        return path if (path / META_FILE).is_file() else None

    def stage(self) -> Path:
        """A new, empty staging directory beside the versions (same filesystem: renames)."""
        self.versions.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".staging-", dir=self.versions))

    def reuse(self, wanted: CatalogueFile, into: Path) -> bool:
        """Hard-link (or copy) an identical file from an installed version; True if found.

        Only a file whose sha256 the manifests agree on is reused, so an incremental version
        that keeps most files of the last one downloads only what changed.
        """
        if wanted.sha256 is None or not self.versions.is_dir():
            return False
        for version in sorted(self.versions.iterdir()):
            if version.name.startswith(".") or not (version / META_FILE).is_file():
                continue
            try:
                meta = json.loads((version / META_FILE).read_text(encoding="utf-8"))
                held = listed_files(meta, str(version))
            except (OSError, ValueError, CatalogError):
                continue
            for item in held:
                source = version / item.name
                if item.sha256 == wanted.sha256 and source.is_file():
                    target = into / wanted.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        os.link(source, target)
                    except OSError:
                        shutil.copy2(source, target)
                    return True
        return False

    def install(self, staging: Path, vid: str) -> Path:
        """Move a complete staging directory to ``versions/<vid>`` and make it current."""
        final = self.versions / vid
        if (final / META_FILE).is_file():
            shutil.rmtree(staging, ignore_errors=True)  # another process installed it first
        else:
            shutil.rmtree(final, ignore_errors=True)  # a leftover without meta.json
            staging.chmod(0o755)
            staging.replace(final)
            fsync_dir(self.versions)
        self.switch(vid)
        return final

    def switch(self, vid: str) -> None:
        """Point ``current`` at ``versions/<vid>`` in one rename (readers never see no link)."""
        fresh = self.root / f".current-{uuid.uuid4().hex}"
        fresh.symlink_to(Path("versions") / vid)
        try:
            fresh.replace(self.link)
        except BaseException:
            fresh.unlink(missing_ok=True)
            raise
        fsync_dir(self.root)

    def prune(self, keep: Sequence[str] = ()) -> list[str]:
        """Remove versions other than the current one, the ``KEEP_PREVIOUS`` newest others
        and ``keep``; also staging leftovers of crashed downloads. Returns the removed ids."""
        if not self.versions.is_dir():
            return []
        current = self.current()
        kept = set(keep) | ({current.name} if current is not None else set())
        others = [p for p in self.versions.iterdir() if p.is_dir() and not p.name.startswith(".")]
        others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        kept.update(p.name for p in [p for p in others if p.name not in kept][:KEEP_PREVIOUS])
        removed = []
        for path in self.versions.iterdir():
            if path.name in kept:
                continue
            if path.name.startswith(".staging-") and _young(path):
                continue  # another process may be downloading into it right now
            with contextlib.suppress(OSError):
                shutil.rmtree(path)
                removed.append(path.name)
        return removed


def _young(path: Path, seconds: float = 3600.0) -> bool:
    try:
        return time.time() - path.stat().st_mtime < seconds
    except OSError:
        return False
