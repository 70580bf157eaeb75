"""Blob stores (local directory and a real S3-compatible server on loopback) and the outbox."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.storage.conftest import MotoServer, free_port, s3_store
from tunelens.storage.blobs import (
    BlobStore,
    LocalBlobStore,
    Outbox,
    S3BlobStore,
    blob_key,
    key_digest,
)
from tunelens.storage.errors import BlobStoreUnavailable


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_keys_are_content_addresses_and_nothing_else() -> None:
    d = digest(b"x")
    assert blob_key(d) == f"{d[:2]}/{d[2:]}"
    assert key_digest(blob_key(d)) == d
    assert blob_key(d.upper()) == blob_key(d)
    for bad in ("", "../../etc/passwd", "ab/cd", d[:-1] + "g"):
        with pytest.raises(ValueError):
            blob_key(bad)
    assert key_digest("../" + d[3:]) is None


def exercise_store(store: BlobStore) -> None:
    data = b"a picture"
    key = blob_key(digest(data))
    assert not store.exists(key)
    assert store.get(key) is None
    location = store.put(key, data, content_type="image/jpeg", metadata={"sha256": digest(data)})
    assert location == store.location(key)
    assert store.exists(key)
    assert store.get(key) == data
    store.put(key, data)  # same content, same key: still one blob
    blobs = list(store.iter_blobs())
    assert [b.key for b in blobs] == [key]
    assert blobs[0].size == len(data)
    assert abs(blobs[0].modified - datetime.now(UTC)) < timedelta(minutes=5)
    assert store.delete(key)
    assert not store.delete(key)
    assert not store.exists(key)
    assert list(store.iter_blobs()) == []


def test_local_store(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "uploads")
    exercise_store(store)
    key = blob_key(digest(b"y"))
    store.put(key, b"y")
    assert (tmp_path / "uploads" / key).read_bytes() == b"y"
    assert not list((tmp_path / "uploads").glob("**/.tmp-*"))  # atomic writes leave no temp
    with pytest.raises(ValueError):
        store.put("../escape", b"no")


@pytest.mark.s3
def test_s3_store(moto_server: MotoServer) -> None:
    store = s3_store(moto_server.endpoint, prefix="/kept/photos/")
    store.ensure_bucket()
    store.ensure_bucket()  # idempotent
    assert store.prefix == "kept/photos/"
    exercise_store(store)
    key = blob_key(digest(b"z"))
    assert store.location(key) == f"s3://{store.bucket}/kept/photos/{key}"
    store.put(key, b"z", content_type="image/png", metadata={"sha256": "abc"})
    head = store.client.head_object(Bucket=store.bucket, Key=f"kept/photos/{key}")
    assert head["ContentType"] == "image/png"
    assert head["Metadata"] == {"sha256": "abc"}


@pytest.mark.s3
def test_s3_settings_and_secret_keys(
    monkeypatch: pytest.MonkeyPatch, moto_server: MotoServer
) -> None:
    from tunelens.core.settings import get_settings
    from tunelens.storage.blobs import store_from_settings

    monkeypatch.setenv("TUNELENS_BLOB_BACKEND", "s3")
    monkeypatch.setenv("TUNELENS_S3_ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("TUNELENS_S3_BUCKET", "from-settings")
    monkeypatch.setenv("TUNELENS_S3_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("TUNELENS_S3_SECRET_ACCESS_KEY", "wJalrXUtnFEMI")
    get_settings.cache_clear()
    settings = get_settings()
    assert "wJalrXUtnFEMI" not in repr(settings)  # SecretStr
    store = store_from_settings(settings)
    assert isinstance(store, S3BlobStore)
    assert store.bucket == "from-settings" and store.prefix == "uploads/"
    store.ensure_bucket()
    exercise_store(store)


@pytest.mark.s3
def test_dead_s3_endpoint_fails_fast() -> None:
    pytest.importorskip("boto3")
    store = s3_store(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    started = time.monotonic()
    with pytest.raises(BlobStoreUnavailable) as caught:
        store.put(blob_key(digest(b"q")), b"q")
    elapsed = time.monotonic() - started
    assert caught.value.code == "blob_store_unavailable"
    assert elapsed < 5, f"a refused connection took {elapsed:.1f}s to report"


def test_outbox_entries_survive_and_flush_idempotently(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    store = LocalBlobStore(tmp_path / "store")
    keys = []
    for data in (b"one", b"two", b"three"):
        key = blob_key(digest(data))
        outbox.add(key, data, content_type="image/png", metadata={"sha256": digest(data)})
        keys.append(key)
    assert len(outbox) == 3
    assert keys[0] in outbox
    store.put(keys[0], b"one")  # delivered earlier by a flush that crashed before cleaning up

    delivered: list[tuple[str, str]] = []
    report = outbox.flush(store, on_delivered=lambda e, loc: delivered.append((e.key, loc)))
    assert (report.delivered, report.already_stored, report.remaining) == (2, 1, 0)
    assert sorted(k for k, _ in delivered) == sorted(keys)
    assert len(list(store.iter_blobs())) == 3
    assert len(outbox) == 0
    again = outbox.flush(store)
    assert (again.delivered, again.already_stored, again.remaining) == (0, 0, 0)


class FlakyStore(LocalBlobStore):
    """A local store that is down until told otherwise."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.down = True

    def exists(self, key: str) -> bool:
        if self.down:
            raise BlobStoreUnavailable("store down")
        return super().exists(key)

    def put(self, key: str, data: bytes, **kwargs: Any) -> str:
        if self.down:
            raise BlobStoreUnavailable("store down")
        return super().put(key, data, **kwargs)


def test_outbox_keeps_everything_while_the_store_is_down(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    store = FlakyStore(tmp_path / "store")
    key = blob_key(digest(b"pic"))
    outbox.add(key, b"pic")
    report = outbox.flush(store)
    assert report.error == "store down" and report.remaining == 1
    store.down = False
    assert outbox.flush(store).delivered == 1
    assert store.get(key) == b"pic"


def test_a_failing_callback_keeps_the_entry(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    store = LocalBlobStore(tmp_path / "store")
    key = blob_key(digest(b"pic"))
    outbox.add(key, b"pic")

    def broken(entry: object, location: str) -> None:
        raise RuntimeError("database down")

    report = outbox.flush(store, on_delivered=broken)
    assert report.failed == 1 and report.remaining == 1
    report = outbox.flush(store)
    assert (report.already_stored, report.remaining) == (1, 0)


@pytest.mark.parametrize(("status", "reachable"), [(403, True), (404, False), (500, False)])
def test_probe_counts_a_403_as_reachable(status: int, reachable: bool) -> None:
    """Upload-only credentials (no s3:ListBucket) get 403 from HeadBucket although the store
    works; a missing bucket or a failing store is unavailable."""
    pytest.importorskip("boto3", reason="boto3 is not installed (tunelens[s3])")
    from botocore.stub import Stubber

    from tunelens.storage.blobs import S3BlobStore, probe_blob_store
    from tunelens.storage.errors import BlobStoreUnavailable

    store = S3BlobStore(
        "bucket",
        endpoint_url="http://127.0.0.1:9",
        access_key_id="k",
        secret_access_key="s",
        max_attempts=1,
    )
    with Stubber(store.client) as stub:
        stub.add_client_error(
            "head_bucket", service_error_code=str(status), http_status_code=status
        )
        if reachable:
            probe_blob_store(store)
        else:
            with pytest.raises(BlobStoreUnavailable):
                probe_blob_store(store)
