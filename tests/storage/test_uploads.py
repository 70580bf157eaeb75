"""Consented uploads end to end: consent → strip → store (local or S3) / outbox → DB row."""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from sqlalchemy import update

from tests.storage.conftest import MotoServer, s3_store
from tests.storage.helpers import jpeg_with_gps
from tunelens.core.errors import InvalidImage, InvalidRequest
from tunelens.storage import repository as repo
from tunelens.storage.blobs import LocalBlobStore, Outbox, blob_key
from tunelens.storage.db import Database, Upload, utcnow
from tunelens.storage.uploads import UploadService, parse_duration


def assert_no_gps(data: bytes) -> None:
    img = Image.open(io.BytesIO(data))
    assert not img.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert len(img.getexif()) == 0
    assert "icc_profile" not in img.info


def local_service(tmp_path: Path, db: Database | None) -> UploadService:
    return UploadService(LocalBlobStore(tmp_path / "store"), Outbox(tmp_path / "outbox"), db)


def test_parse_duration() -> None:
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("2w") == timedelta(weeks=2)
    assert parse_duration("45s") == timedelta(seconds=45)
    assert parse_duration("7") == timedelta(days=7)
    with pytest.raises(InvalidRequest) as caught:
        parse_duration("a month")
    assert caught.value.code == "invalid_duration"


def test_consent_decides_local(tmp_path: Path, sqlite_db: Database) -> None:
    service = local_service(tmp_path, sqlite_db)
    photo = jpeg_with_gps()

    declined = service.keep(photo, consent=False, client_id="c1")
    assert (declined.kept, declined.status) == (False, "declined")
    assert list(service.store.iter_blobs()) == []
    assert len(service.outbox) == 0
    row = repo.get_upload(sqlite_db, declined.sha256)
    assert row is not None and (row.consent, row.location, row.size_bytes) == (False, None, None)

    kept = service.keep(photo, consent=True, client_id="c1")
    assert (kept.kept, kept.status) == (True, "stored")
    assert kept.sha256 == declined.sha256
    stored = service.store.get(blob_key(kept.sha256))
    assert stored is not None
    assert_no_gps(stored)
    row = repo.get_upload(sqlite_db, kept.sha256)
    assert row is not None
    assert (row.status, row.consent, row.stored_sha256) == ("stored", True, kept.stored_sha256)
    assert row.location == str(tmp_path / "store" / blob_key(kept.sha256))

    service.keep(photo, consent=True)  # the same picture again: still one blob
    assert len(list(service.store.iter_blobs())) == 1

    with pytest.raises(InvalidImage):
        service.keep(b"not a picture", consent=True)
    assert len(list(service.store.iter_blobs())) == 1


def _age(db: Database, store_root: Path, sha256: str, days: int) -> None:
    """Pretend a picture was offered ``days`` ago (DB row and file time)."""
    with db.write() as session:
        session.execute(
            update(Upload)
            .where(Upload.sha256 == sha256)
            .values(created_at=utcnow() - timedelta(days=days))
        )
    path = store_root / blob_key(sha256)
    if path.exists():
        old = time.time() - days * 86400
        os.utime(path, (old, old))


def test_purge_older_than_and_delete_by_hash(tmp_path: Path, sqlite_db: Database) -> None:
    service = local_service(tmp_path, sqlite_db)
    old = service.keep(jpeg_with_gps(colour=(10, 10, 10)), consent=True)
    new = service.keep(jpeg_with_gps(colour=(250, 250, 250)), consent=True)
    declined = service.keep(jpeg_with_gps(colour=(90, 90, 90)), consent=False)
    _age(sqlite_db, tmp_path / "store", old.sha256, days=40)
    _age(sqlite_db, tmp_path / "store", declined.sha256, days=40)
    # an orphan: stored, but its row never written (crash between the two)
    orphan_key = blob_key("e" * 64)
    service.store.put(orphan_key, b"orphan")
    stamp = time.time() - 40 * 86400
    os.utime(tmp_path / "store" / orphan_key, (stamp, stamp))

    report = service.purge(parse_duration("30d"))
    assert (report.rows, report.blobs) == (2, 2)
    assert repo.get_upload(sqlite_db, old.sha256) is None
    assert repo.get_upload(sqlite_db, declined.sha256) is None
    assert {b.key for b in service.store.iter_blobs()} == {blob_key(new.sha256)}

    # a privacy request may quote the hash of the stored (stripped) bytes
    assert new.stored_sha256 is not None
    deleted = service.delete(new.stored_sha256)
    assert deleted.found and deleted.rows == 1 and deleted.blob
    assert list(service.store.iter_blobs()) == []
    assert repo.get_upload(sqlite_db, new.sha256) is None
    assert not service.delete(new.sha256).found


@pytest.mark.s3
def test_s3_consent_strip_and_outage(
    tmp_path: Path, sqlite_db: Database, own_moto_server: MotoServer
) -> None:
    """Consented → stored without GPS; unconsented → not stored; server stopped → outbox →
    server started → flush → exactly one object, row ``stored``."""
    store = s3_store(own_moto_server.endpoint)
    store.ensure_bucket()
    service = UploadService(store, Outbox(tmp_path / "outbox"), sqlite_db, retry_after_s=30)

    def objects() -> list[str]:
        answer = store.client.list_objects_v2(Bucket=store.bucket)
        return [item["Key"] for item in answer.get("Contents", [])]

    first = service.keep(jpeg_with_gps(colour=(1, 2, 3)), consent=True)
    assert first.status == "stored"
    assert first.location == f"s3://{store.bucket}/uploads/{blob_key(first.sha256)}"
    body = store.client.get_object(Bucket=store.bucket, Key=f"uploads/{blob_key(first.sha256)}")
    assert_no_gps(body["Body"].read())
    assert body["ContentType"] == "image/jpeg"

    refused = service.keep(jpeg_with_gps(colour=(4, 5, 6)), consent=False)
    assert refused.status == "declined"
    assert objects() == [f"uploads/{blob_key(first.sha256)}"]

    own_moto_server.stop()
    photo = jpeg_with_gps(colour=(7, 8, 9))
    started = time.monotonic()
    waiting = service.keep(photo, consent=True)
    first_failure = time.monotonic() - started
    assert waiting.status == "pending" and waiting.location is None
    assert first_failure < 5
    # while the store is known to be down, uploads go straight to the outbox
    started = time.monotonic()
    again = service.keep(photo, consent=True)
    assert again.status == "pending"
    assert time.monotonic() - started < 1
    assert len(service.outbox) == 1
    row = repo.get_upload(sqlite_db, waiting.sha256)
    assert row is not None and row.status == "pending"
    report = service.flush()
    assert report.remaining == 1 and report.error

    own_moto_server.start()
    report = service.flush()
    assert (report.delivered, report.remaining, report.error) == (1, 0, None)
    assert sorted(objects()) == sorted(
        f"uploads/{blob_key(s)}" for s in (first.sha256, waiting.sha256)
    )
    row = repo.get_upload(sqlite_db, waiting.sha256)
    assert row is not None and row.status == "stored"
    assert row.location == store.location(blob_key(waiting.sha256))
    assert service.flush().delivered == 0  # nothing stored twice
    assert len(objects()) == 2
    stored = store.get(blob_key(waiting.sha256))
    assert stored is not None
    assert_no_gps(stored)

    # after the outage, new uploads go to the store directly again
    direct = service.keep(jpeg_with_gps(colour=(11, 12, 13)), consent=True)
    assert direct.status == "stored"

    deleted = service.delete(waiting.sha256)
    assert deleted.blob and deleted.rows == 1
    assert f"uploads/{blob_key(waiting.sha256)}" not in objects()
