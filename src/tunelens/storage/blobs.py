"""Where consented pictures are kept: a local directory, or any S3-compatible store.

Blobs are content-addressed: the key of a picture is its sha256 split as ``ab/cdef…`` (the
first two hex digits name a sub-folder, so no directory grows past 1/256 of the pictures). A
key is derived from the sha256 of the bytes *as uploaded* — the hash predictions carry and a
privacy request names — while the object stored under it is the metadata-stripped picture.
The same picture offered twice lands on the same key, so it is never stored twice.

When the store cannot take a picture (S3 down, credentials wrong), the picture goes to the
:class:`Outbox`, a local directory, and :meth:`Outbox.flush` delivers it later. Delivery is
idempotent: a key already in the store is not uploaded again, and an entry is removed from the
outbox only after the store has it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from tunelens.core.atomic import folder_lock, write_atomic
from tunelens.core.errors import ConfigError
from tunelens.core.settings import Settings, get_settings
from tunelens.storage.errors import BlobStoreUnavailable

log = logging.getLogger(__name__)

_HEX = frozenset("0123456789abcdef")
#: seconds to open a connection to the S3 endpoint / to wait for its answer
S3_CONNECT_TIMEOUT = 2.0
S3_READ_TIMEOUT = 10.0
#: attempts per S3 call in all (botocore's "standard" retry mode), so a dead store fails fast
S3_MAX_ATTEMPTS = 2


def blob_key(sha256: str) -> str:
    """``ab/cdef…`` for a sha256 hex digest; refuses anything else (no path tricks)."""
    digest = sha256.strip().lower()
    if len(digest) != 64 or not set(digest) <= _HEX:
        raise ValueError(f"not a sha256 hex digest: {sha256!r}")
    return f"{digest[:2]}/{digest[2:]}"


def key_digest(key: str) -> str | None:
    """The sha256 a well-formed key stands for, or None."""
    digest = key.replace("/", "")
    if len(key) == 65 and key[2] == "/" and len(digest) == 64 and set(digest) <= _HEX:
        return digest
    return None


@dataclass(frozen=True)
class BlobInfo:
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


# --------------------------------------------------------------------------- local


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


# --------------------------------------------------------------------------- S3


def _normalise_prefix(prefix: str) -> str:
    prefix = prefix.strip().strip("/")
    return f"{prefix}/" if prefix else ""


class S3BlobStore:
    """Blobs in an S3-compatible bucket under ``prefix`` (AWS S3, MinIO, Ceph, moto, …).

    Calls time out quickly (connect 2 s, read 10 s, 2 attempts) so a dead endpoint turns
    into :class:`BlobStoreUnavailable` — and the picture into an outbox entry — within seconds.
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "uploads/",
        endpoint_url: str | None = None,
        region: str | None = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        connect_timeout: float = S3_CONNECT_TIMEOUT,
        read_timeout: float = S3_READ_TIMEOUT,
        max_attempts: int = S3_MAX_ATTEMPTS,
        client: Any = None,
    ) -> None:
        if not bucket:
            raise ConfigError("TUNELENS_S3_BUCKET is empty", code="s3_bucket_missing")
        self.bucket = bucket
        self.prefix = _normalise_prefix(prefix)
        self.endpoint_url = endpoint_url
        self.region = region
        if client is None:
            try:
                import boto3
                from botocore.config import Config
            except ModuleNotFoundError:
                raise ConfigError(
                    "The S3 blob store needs boto3: pip install 'tunelens[s3]'.",
                    code="s3_missing",
                ) from None
            config = Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"total_max_attempts": max_attempts, "mode": "standard"},
                # plain S3 semantics: some S3-compatible stores reject the newer checksums
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                s3={"addressing_style": "path"} if endpoint_url else None,
            )
            client = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                config=config,
            )
        self.client = client

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> S3BlobStore:
        settings = settings or get_settings()
        key_id = settings.s3_access_key_id
        secret = settings.s3_secret_access_key
        return cls(
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region or None,
            access_key_id=key_id.get_secret_value() if key_id else None,
            secret_access_key=secret.get_secret_value() if secret else None,
        )

    def _key(self, key: str) -> str:
        if key_digest(key) is None:
            raise ValueError(f"not a blob key: {key!r}")
        return self.prefix + key

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    @contextmanager
    def _calls(self, action: str) -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise BlobStoreUnavailable(
                f"S3 {action} failed at {self.endpoint_url or 'AWS'} bucket {self.bucket}: "
                f"{error.get('Code', '?')} {error.get('Message', '')}".strip(),
                details={"bucket": self.bucket, "s3_code": error.get("Code")},
            ) from exc
        except BotoCoreError as exc:
            raise BlobStoreUnavailable(
                f"S3 {action} failed at {self.endpoint_url or 'AWS'}: {exc}",
                details={"bucket": self.bucket},
            ) from exc

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        with self._calls("upload"):
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._key(key),
                Body=data,
                ContentType=content_type,
                Metadata=dict(metadata or {}),
            )
        return self.location(key)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        with self._calls("existence check"):
            try:
                self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            except ClientError as exc:
                if _status(exc) == 404:
                    return False
                raise
        return True

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        with self._calls("download"):
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            except ClientError as exc:
                if _status(exc) == 404:
                    return None
                raise
            body: bytes = answer["Body"].read()
        return body

    def delete(self, key: str) -> bool:
        existed = self.exists(key)
        if existed:
            with self._calls("delete"):
                self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        return existed

    def iter_blobs(self) -> Iterator[BlobInfo]:
        with self._calls("listing"):
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", ()):
                    key = str(item["Key"])[len(self.prefix) :]
                    if key_digest(key) is None:
                        continue
                    modified = item["LastModified"]
                    if modified.tzinfo is None:
                        modified = modified.replace(tzinfo=UTC)
                    yield BlobInfo(key, int(item.get("Size", 0)), modified)

    def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist yet (for first runs and tests)."""
        from botocore.exceptions import ClientError

        with self._calls("bucket check"):
            try:
                self.client.head_bucket(Bucket=self.bucket)
                return
            except ClientError as exc:
                if _status(exc) != 404:
                    raise
        extra: dict[str, Any] = {}
        if self.region and self.region != "us-east-1":
            extra["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        with self._calls("bucket creation"):
            self.client.create_bucket(Bucket=self.bucket, **extra)


def _status(error: Any) -> int | None:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status is not None else None


def probe_blob_store(store: BlobStore) -> None:
    """Raise :class:`BlobStoreUnavailable` unless ``store`` can take blobs right now.

    S3: one ``HeadBucket`` (fails fast on a dead endpoint: 2 s connect timeout; a 403 counts
    as reachable); local: the
    root directory exists or can be made. Used by the server's health watch.
    """
    if isinstance(store, S3BlobStore):
        from botocore.exceptions import ClientError

        with store._calls("bucket check"):
            try:
                store.client.head_bucket(Bucket=store.bucket)
            except ClientError as exc:
                # 403: the store answered, but least-privilege upload credentials often lack
                # s3:ListBucket (which HeadBucket needs); uploads themselves still work
                if _status(exc) != 403:
                    raise
        return
    if isinstance(store, LocalBlobStore):
        try:
            store.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BlobStoreUnavailable(
                f"The uploads directory {store.root} cannot be used: {exc.strerror or exc}.",
                details={"path": str(store.root)},
            ) from exc


def store_from_settings(settings: Settings | None = None) -> BlobStore:
    """The configured store: ``local`` (``<data_dir>/uploads``) or ``s3``."""
    settings = settings or get_settings()
    if settings.blob_backend == "s3":
        return S3BlobStore.from_settings(settings)
    return LocalBlobStore(settings.data_dir / "uploads")


# --------------------------------------------------------------------------- outbox


@dataclass(frozen=True)
class OutboxEntry:
    key: str
    path: Path
    content_type: str
    metadata: dict[str, str]
    created_at: datetime

    def read(self) -> bytes:
        return self.path.read_bytes()


@dataclass
class FlushReport:
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
