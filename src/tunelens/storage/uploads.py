"""Consented uploads, end to end: consent → strip metadata → store (or outbox) → DB row.

One :class:`UploadService` per process (the server builds it at start-up, the CLI per
command). The web layer calls :meth:`UploadService.keep` with the picture's bytes and the
state of the consent box; without consent nothing is stored (only a ``declined`` row, which
holds no picture, so the "uploads kept" figure can be computed).

When the store is down the stripped picture is written to the outbox and its row says
``pending``; :meth:`UploadService.flush` (``tunelens uploads flush``, or a periodic task in the
server) delivers it and flips the row to ``stored``. After a store failure, new uploads go
straight to the outbox for ``retry_after_s`` seconds instead of each waiting for a timeout.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from tunelens.core.errors import InvalidRequest
from tunelens.core.settings import Settings, get_settings
from tunelens.storage import repository as repo
from tunelens.storage.blobs import (
    BlobStore,
    FlushReport,
    Outbox,
    OutboxEntry,
    blob_key,
    key_digest,
    store_from_settings,
)
from tunelens.storage.db import Database, UploadStatus, utcnow
from tunelens.storage.strip import StrippedImage, strip_image

log = logging.getLogger(__name__)

#: what the page says next to the (unticked) consent box
CONSENT_TEXT = (
    "Keep this photo to help improve tunelens. It is stored without its location and camera "
    "details, used only to retrain tunelens's mood and genre readers, and deleted when the "
    "operator's retention period ends or whenever you ask: with the delete button shown with "
    "your results, or by quoting its fingerprint (the sha256 shown there) to the operator."
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "": 86400}


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w``, ``45s``; a bare number means days."""
    match = _DURATION.match(text)
    if not match:
        raise InvalidRequest(
            f"{text!r} is not a duration; use e.g. 30d, 12h, 90m, 2w or 45s.",
            code="invalid_duration",
        )
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()])


@dataclass(frozen=True)
class UploadResult:
    """What happened to one offered picture."""

    sha256: str
    status: UploadStatus
    kept: bool
    location: str | None = None
    stored_sha256: str | None = None
    size_bytes: int | None = None


@dataclass
class PurgeReport:
    rows: int = 0
    blobs: int = 0
    outbox: int = 0
    keys: list[str] = field(default_factory=list)


@dataclass
class DeleteReport:
    sha256: str
    rows: int = 0
    blob: bool = False
    outbox: bool = False

    @property
    def found(self) -> bool:
        return bool(self.rows or self.blob or self.outbox)


class UploadService:
    """Glue between consent, metadata stripping, the blob store, the outbox and the DB."""

    def __init__(
        self,
        store: BlobStore,
        outbox: Outbox,
        db: Database | None = None,
        *,
        settings: Settings | None = None,
        retry_after_s: float = 30.0,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.db = db
        self.settings = settings or get_settings()
        self.retry_after_s = retry_after_s
        self._store_down_until = 0.0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, settings: Settings | None = None, db: Database | None = None
    ) -> UploadService:
        settings = settings or get_settings()
        return cls(
            store_from_settings(settings),
            Outbox(settings.data_dir / "outbox"),
            db,
            settings=settings,
        )

    # ------------------------------------------------------------------ keep

    def keep(
        self,
        image_bytes: bytes,
        *,
        consent: bool,
        client_id: str | None = None,
        prediction_id: str | None = None,
        stripped: StrippedImage | None = None,
    ) -> UploadResult:
        """Keep the picture if and only if ``consent``; returns where it went.

        ``stripped`` is the picture already re-encoded by :func:`strip_image` (the server does
        that in its bounded work queue, where every CPU- and memory-heavy step runs); without
        it, it is stripped here. Raises :class:`~tunelens.core.errors.InvalidImage` for bytes
        that are not a picture tunelens accepts (nothing is stored then).
        """
        digest = hashlib.sha256(image_bytes).hexdigest()
        if not consent:
            self._record(
                repo.UploadRecord(
                    sha256=digest,
                    consent=False,
                    status="declined",
                    client_id=client_id,
                    prediction_id=prediction_id,
                )
            )
            return UploadResult(sha256=digest, status="declined", kept=False)
        if stripped is None:
            stripped = strip_image(image_bytes, settings=self.settings)
        status, location = self._store_or_outbox(digest, stripped)
        self._record(
            repo.UploadRecord(
                sha256=digest,
                consent=True,
                status=status,
                location=location,
                stored_sha256=stripped.sha256,
                size_bytes=len(stripped.data),
                content_type=stripped.content_type,
                client_id=client_id,
                prediction_id=prediction_id,
            )
        )
        return UploadResult(
            sha256=digest,
            status=status,
            kept=True,
            location=location,
            stored_sha256=stripped.sha256,
            size_bytes=len(stripped.data),
        )

    def _store_or_outbox(
        self, digest: str, stripped: StrippedImage
    ) -> tuple[UploadStatus, str | None]:
        """Put the stripped picture in the store, or in the outbox when the store is down."""
        key = blob_key(digest)
        metadata = {"sha256": digest, "stored-sha256": stripped.sha256}
        if time.monotonic() >= self._store_down_until:
            try:
                location = self.store.put(
                    key, stripped.data, content_type=stripped.content_type, metadata=metadata
                )
            except Exception as exc:
                # nothing may be lost: whatever went wrong, the picture waits in the outbox
                log.warning("blob store unavailable, keeping %s in the outbox: %s", key, exc)
                self._store_down_until = time.monotonic() + self.retry_after_s
            else:
                return "stored", location
        self.outbox.add(key, stripped.data, content_type=stripped.content_type, metadata=metadata)
        return "pending", None

    def _record(self, upload: repo.UploadRecord) -> None:
        if self.db is not None:
            repo.record_upload(self.db, upload)

    # ------------------------------------------------------------------ flush

    def _delivered(self, entry: OutboxEntry, location: str) -> None:
        digest = entry.metadata.get("sha256") or key_digest(entry.key)
        if self.db is not None and digest:
            repo.mark_upload_stored(self.db, digest, location)

    def flush(self) -> FlushReport:
        """Deliver the outbox to the store (safe to call from several threads or processes)."""
        with self._lock:
            report = self.outbox.flush(self.store, on_delivered=self._delivered)
        if report.error is None and not report.busy:
            self._store_down_until = 0.0
        return report

    # ------------------------------------------------------------------ privacy

    def purge(self, older_than: timedelta, *, dry_run: bool = False) -> PurgeReport:
        """Delete every kept picture (store, outbox, DB row) offered before now − older_than.

        Store objects and outbox entries older than the cutoff are deleted too even when no
        row names them (left behind by a crash between storing and recording). With
        ``dry_run`` nothing is deleted: the report counts what would be.
        """
        cutoff = utcnow() - older_than
        rows = repo.uploads_created_before(self.db, cutoff) if self.db is not None else []
        row_keys = {blob_key(row.sha256) for row in rows}
        store_keys = {key for key in row_keys if self.store.exists(key)}
        store_keys |= {info.key for info in self.store.iter_blobs() if info.modified < cutoff}
        outbox_keys = {key for key in row_keys if key in self.outbox}
        outbox_keys |= {entry.key for entry in self.outbox.entries() if entry.created_at < cutoff}
        if dry_run:
            return PurgeReport(
                rows=len(rows),
                blobs=len(store_keys),
                outbox=len(outbox_keys),
                keys=sorted(store_keys),
            )
        report = PurgeReport()
        for key in sorted(store_keys):
            if self.store.delete(key):
                report.blobs += 1
                report.keys.append(key)
        report.outbox = sum(self.outbox.remove(key) for key in sorted(outbox_keys))
        if self.db is not None:
            report.rows = repo.delete_upload_rows(self.db, [row.sha256 for row in rows])
        return report

    def delete(self, sha256: str) -> DeleteReport:
        """Forget one picture by its sha256 (as uploaded, or as stored): store, outbox, rows."""
        digest = repo.check_sha256(sha256)
        report = DeleteReport(sha256=digest)
        originals = {digest}
        if self.db is not None:
            originals |= {row.sha256 for row in repo.uploads_by_hash(self.db, digest)}
        for original in sorted(originals):
            key = blob_key(original)
            report.blob = self.store.delete(key) or report.blob
            report.outbox = self.outbox.remove(key) or report.outbox
        if self.db is not None:
            report.rows = repo.delete_upload_rows(self.db, originals)
        return report

    def pending(self) -> int:
        return len(self.outbox)
