"""Rows of offered pictures: consent, where the picture is kept, and forgetting it on request."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from tunelens.storage.db import UPLOAD_STATUSES, Database, Prediction, Upload, UploadStatus, utcnow
from tunelens.storage.repository.checks import check_client_id, check_sha256

__all__ = [
    "UploadRecord",
    "delete_upload_rows",
    "get_upload",
    "mark_upload_stored",
    "record_upload",
    "uploads_by_hash",
    "uploads_created_before",
]

#: how far along an upload is; a later record never moves a row backwards
_PROGRESS = {"declined": 0, "pending": 1, "stored": 2}


@dataclass(frozen=True)
class UploadRecord:
    """What is known about one offered picture, as its ``uploads`` row should say."""

    #: sha256 of the bytes as uploaded (the row's key)
    sha256: str
    consent: bool
    status: UploadStatus
    location: str | None = None
    #: sha256 of the metadata-stripped bytes actually kept
    stored_sha256: str | None = None
    size_bytes: int | None = None
    content_type: str | None = None
    client_id: str | None = None
    prediction_id: str | None = None


def _write_upload(db: Database, digest: str, upload: UploadRecord, client: str | None) -> None:
    with db.write() as session:
        row = session.get(Upload, digest)
        if row is None:
            row = Upload(sha256=digest, consent=upload.consent, status=upload.status)
            session.add(row)
        elif _PROGRESS[upload.status] < _PROGRESS[row.status]:
            return
        row.consent = upload.consent
        row.status = upload.status
        row.location = upload.location
        row.stored_sha256 = upload.stored_sha256
        row.size_bytes = upload.size_bytes
        row.content_type = upload.content_type
        row.client_id = client or row.client_id
        row.prediction_id = upload.prediction_id or row.prediction_id
        row.stored_at = utcnow() if upload.status == "stored" else None


def record_upload(db: Database, upload: UploadRecord) -> None:
    """Insert or update the row of one offered picture (idempotent per ``sha256``).

    A later call never downgrades a row: once a picture is ``stored`` it stays stored, and a
    declined offer does not overwrite an earlier consented one.
    """
    if upload.status not in UPLOAD_STATUSES:
        raise ValueError(f"unknown upload status {upload.status!r}")
    digest = check_sha256(upload.sha256)
    client = check_client_id(upload.client_id)
    for attempt in range(2):
        try:
            _write_upload(db, digest, upload, client)
            return
        except IntegrityError:
            # another writer inserted the same sha256 between our read and insert: retry once,
            # now as an update; a second failure is a real constraint problem.
            if attempt:
                raise


def mark_upload_stored(db: Database, sha256: str, location: str) -> bool:
    """Flip a pending upload to stored (after the outbox delivered it); False if no row."""
    with db.write() as session:
        result = session.execute(
            update(Upload)
            .where(Upload.sha256 == sha256)
            .values(status="stored", location=location, stored_at=utcnow())
        )
        return bool(getattr(result, "rowcount", 0))


def delete_upload_rows(db: Database, sha256s: Collection[str]) -> int:
    """Forget pictures: delete their upload rows and blank their hash on predictions.

    Predictions and feedback stay (they hold no picture), but no longer name the picture.
    Returns the number of upload rows deleted.
    """
    digests = sorted({check_sha256(s) for s in sha256s})
    if not digests:
        return 0
    deleted = 0
    with db.write() as session:
        for start in range(0, len(digests), 500):
            chunk = digests[start : start + 500]
            result = session.execute(delete(Upload).where(Upload.sha256.in_(chunk)))
            deleted += int(getattr(result, "rowcount", 0) or 0)
            session.execute(
                update(Prediction)
                .where(Prediction.image_sha256.in_(chunk))
                .values(image_sha256=None)
            )
    return deleted


def get_upload(db: Database, sha256: str) -> Upload | None:
    """The row of one offered picture, by the sha256 of its bytes as uploaded."""
    with db.read() as session:
        return session.get(Upload, check_sha256(sha256))


def uploads_by_hash(db: Database, digest: str) -> list[Upload]:
    """Upload rows whose original or stored (stripped) bytes have this sha256."""
    value = check_sha256(digest)
    with db.read() as session:
        return list(
            session.scalars(
                select(Upload).where((Upload.sha256 == value) | (Upload.stored_sha256 == value))
            )
        )


def uploads_created_before(db: Database, cutoff: datetime) -> list[Upload]:
    """Rows of pictures offered before ``cutoff`` (what a retention purge deletes)."""
    with db.read() as session:
        return list(session.scalars(select(Upload).where(Upload.created_at < cutoff)))
