"""Blobs as files under one directory: the default store, and the one tests use."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from tunelens.core.atomic import write_atomic
from tunelens.storage.blobs.keys import key_digest
from tunelens.storage.blobs.store import BlobInfo
from tunelens.storage.errors import BlobStoreUnavailable

__all__ = ["LocalBlobStore"]


class LocalBlobStore:
    """Blobs as files: ``root/ab/cdef…`` (content type and hashes live in the DB row)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if key_digest(key) is None:
            raise ValueError(f"not a blob key: {key!r}")
        return self.root / key

    def location(self, key: str) -> str:
        return str(self._path(key))

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        path = self._path(key)
        if not path.is_file():
            try:
                write_atomic(path, data)
            except OSError as exc:
                raise BlobStoreUnavailable(
                    f"Cannot write {path}: {exc.strerror or exc}", details={"path": str(path)}
                ) from exc
        return str(path)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> bool:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        with suppress(OSError):
            path.parent.rmdir()  # only succeeds when the fan-out folder is now empty
        return True

    def iter_blobs(self) -> Iterator[BlobInfo]:
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if not folder.is_dir() or len(folder.name) != 2:
                continue
            for path in sorted(folder.iterdir()):
                key = f"{folder.name}/{path.name}"
                if key_digest(key) is None or not path.is_file():
                    continue
                stat = path.stat()
                yield BlobInfo(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))

    def probe(self) -> None:
        """Raise :class:`BlobStoreUnavailable` unless the root directory exists or can be made."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BlobStoreUnavailable(
                f"The uploads directory {self.root} cannot be used: {exc.strerror or exc}.",
                details={"path": str(self.root)},
            ) from exc
