"""What every blob store offers (:class:`BlobStore`), so the outbox and uploads need not care
whether pictures go to a directory or to S3."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

__all__ = ["BlobInfo", "BlobStore"]


@dataclass(frozen=True)
class BlobInfo:
    """One stored blob, as a listing shows it (purges compare ``modified`` with a cutoff)."""

    key: str
    size: int
    modified: datetime


@runtime_checkable
class BlobStore(Protocol):
    """A place blobs can be put, checked, read, listed and deleted by key."""

    def location(self, key: str) -> str:
        """A human-readable address of ``key`` (path or ``s3://bucket/…`` URL)."""
        ...

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        """Store ``data`` under ``key`` (overwriting is harmless: keys are content hashes)."""
        ...

    def exists(self, key: str) -> bool: ...

    def get(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> bool:
        """Remove ``key``; True when something was there."""
        ...

    def iter_blobs(self) -> Iterator[BlobInfo]: ...
