"""Pictures waiting for the store: a local directory that survives crashes, flushed later.

When the store cannot take a picture (S3 down, credentials wrong), the picture goes to the
:class:`Outbox` and :meth:`Outbox.flush` delivers it later. Delivery is idempotent: a key
already in the store is not uploaded again, and an entry is removed from the outbox only after
the store has it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tunelens.core.atomic import folder_lock, write_atomic
from tunelens.storage.blobs.keys import key_digest
from tunelens.storage.blobs.store import BlobStore
from tunelens.storage.errors import BlobStoreUnavailable

__all__ = ["FlushReport", "Outbox", "OutboxEntry"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxEntry:
    """One waiting picture: its key, where its bytes are, and what the store should be told."""

    key: str
    path: Path
    content_type: str
    metadata: dict[str, str]
    created_at: datetime

    def read(self) -> bytes:
        return self.path.read_bytes()


@dataclass
class FlushReport:
    """What one flush did; ``busy`` when another process was flushing the same outbox."""

    delivered: int = 0
    already_stored: int = 0
    failed: int = 0
    remaining: int = 0
    busy: bool = False
    error: str | None = None
    keys: list[str] = field(default_factory=list)


class Outbox:
    """Pictures waiting for the store: ``root/ab/cdef…`` plus ``….json`` (written last).

    An entry exists once its JSON sidecar is in place; both files are written atomically and
    fsynced, so an entry that :meth:`add` returned for survives a crash.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _paths(self, key: str) -> tuple[Path, Path]:
        if key_digest(key) is None:
            raise ValueError(f"not a blob key: {key!r}")
        data = self.root / key
        return data, data.with_name(data.name + ".json")

    def add(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
    ) -> Path:
        data_path, meta_path = self._paths(key)
        write_atomic(data_path, data)
        meta = {
            "key": key,
            "content_type": content_type,
            "metadata": dict(metadata or {}),
            "created_at": datetime.now(UTC).isoformat(),
        }
        write_atomic(meta_path, json.dumps(meta).encode())
        return data_path

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._paths(key)[1].is_file()

    def entries(self) -> Iterator[OutboxEntry]:
        if not self.root.is_dir():
            return
        for meta_path in sorted(self.root.glob("??/*.json")):
            key = f"{meta_path.parent.name}/{meta_path.name.removesuffix('.json')}"
            if key_digest(key) is None:
                continue
            try:
                meta = json.loads(meta_path.read_text())
                created = datetime.fromisoformat(meta["created_at"])
            except (OSError, ValueError, KeyError, TypeError):
                log.warning("outbox: unreadable entry %s", meta_path)
                continue
            yield OutboxEntry(
                key=key,
                path=meta_path.with_name(meta_path.name.removesuffix(".json")),
                content_type=str(meta.get("content_type") or "application/octet-stream"),
                metadata={str(k): str(v) for k, v in (meta.get("metadata") or {}).items()},
                created_at=created,
            )

    def __len__(self) -> int:
        return sum(1 for _ in self.entries())

    def remove(self, key: str) -> bool:
        data_path, meta_path = self._paths(key)
        existed = meta_path.is_file() or data_path.is_file()
        meta_path.unlink(missing_ok=True)  # the sidecar first: the entry is gone at once
        data_path.unlink(missing_ok=True)
        with suppress(OSError):
            data_path.parent.rmdir()
        return existed

    def _lock(self) -> AbstractContextManager[bool]:
        """An exclusive, non-blocking lock across processes; yields False when held elsewhere."""
        return folder_lock(self.root, ".flush.lock", blocking=False)

    def flush(
        self,
        store: BlobStore,
        *,
        on_delivered: Callable[[OutboxEntry, str], None] | None = None,
    ) -> FlushReport:
        """Deliver every entry to ``store``; stops at the first sign the store is down.

        Per entry: if the store already has the key it is not uploaded again; then
        ``on_delivered(entry, location)`` runs (e.g. the DB row becomes ``stored``); only then
        is the entry removed. A crash anywhere in between leaves the entry for the next flush,
        which finds the key present and just finishes the bookkeeping.
        """
        report = FlushReport()
        with self._lock() as locked:
            if not locked:
                report.busy = True
                report.remaining = len(self)
                return report
            for entry in list(self.entries()):
                try:
                    if store.exists(entry.key):
                        report.already_stored += 1
                    else:
                        store.put(
                            entry.key,
                            entry.read(),
                            content_type=entry.content_type,
                            metadata=entry.metadata,
                        )
                        report.delivered += 1
                    if on_delivered is not None:
                        on_delivered(entry, store.location(entry.key))
                except BlobStoreUnavailable as exc:
                    report.error = exc.message
                    break
                except FileNotFoundError:
                    continue  # another process delivered and removed it meanwhile
                except Exception as exc:
                    log.warning("outbox: could not deliver %s: %s", entry.key, exc)
                    report.failed += 1
                    report.error = f"{type(exc).__name__}: {exc}"
                    continue
                self.remove(entry.key)
                report.keys.append(entry.key)
            report.remaining = len(self)
        return report
