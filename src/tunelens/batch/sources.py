"""Where a batch run reads its photos: a local folder or an S3 prefix.

Batch lines name each photo by a path relative to the source, so resuming, error lines and
the album work the same whichever store holds the pictures. A source is picklable (only the
location and the connection settings travel), so pool workers and Ray actors open their own
clients instead of sharing one across processes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from tunelens.core.errors import InvalidRequest
from tunelens.core.settings import Settings
from tunelens.storage.blobs import S3BlobStore

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".mpo"}
)


class PhotoMissing(Exception):
    """The photo was listed but is gone now (deleted between listing and reading)."""


class PhotoSource(Protocol):
    @property
    def label(self) -> str:
        """How the source is named in messages."""
        ...

    def list_photos(self) -> list[str]:
        """Photo names relative to the source, sorted, chosen by suffix."""
        ...

    def read(self, name: str) -> bytes | Path:
        """The photo's bytes (or its local path); PhotoMissing when it has gone."""
        ...


def _is_photo_name(name: str) -> bool:
    return not name.startswith(".") and PurePosixPath(name).suffix.lower() in IMAGE_SUFFIXES


@dataclass(frozen=True)
class LocalFolder:
    """A folder walked recursively; hidden files and folders are skipped.

    Files are chosen by suffix: a file with a photo suffix that is not a photo becomes an
    error line, which is the point — the user learns which files were skipped and why.
    """

    root: Path

    @property
    def label(self) -> str:
        return str(self.root)

    def list_photos(self) -> list[str]:
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in filenames:
                if _is_photo_name(name):
                    found.append((Path(dirpath) / name).relative_to(self.root).as_posix())
        return sorted(found)

    def read(self, name: str) -> Path:
        path = self.root / name
        if not path.is_file():
            raise PhotoMissing(name)
        return path


@dataclass
class S3Prefix:
    """Every photo under ``s3://bucket/prefix`` in an S3-compatible store.

    The endpoint, region and credentials come from the same settings as the upload store
    (``TUNELENS_S3_ENDPOINT_URL`` …); the bucket and prefix come from the URL, because a
    photo library is rarely the bucket the uploads go to. A dead endpoint stops the run with
    :class:`~tunelens.storage.errors.BlobStoreUnavailable` (the lines written so far stay,
    so the next run resumes); a single vanished object is one error line.
    """

    bucket: str
    prefix: str
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    #: this process's client; boto3 clients do not pickle, so workers open their own
    _client_store: S3BlobStore | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def label(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def _store(self) -> S3BlobStore:
        return S3BlobStore(
            self.bucket,
            prefix=self.prefix,
            endpoint_url=self.endpoint_url,
            region=self.region,
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
        )

    def list_photos(self) -> list[str]:
        store = self._store()
        found: list[str] = []
        with store._calls("listing"):
            paginator = store.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=store.prefix):
                for item in page.get("Contents", ()):
                    name = str(item["Key"])[len(store.prefix) :]
                    parts = PurePosixPath(name).parts
                    hidden = any(p.startswith(".") for p in parts[:-1])
                    if parts and not hidden and _is_photo_name(parts[-1]):
                        found.append(name)
        return sorted(found)

    def read(self, name: str) -> bytes:
        from botocore.exceptions import ClientError  # noqa: PLC0415 - boto3: the optional s3 extra

        store = self._store_cached()
        with store._calls("download"):
            try:
                answer = store.client.get_object(Bucket=self.bucket, Key=store.prefix + name)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                    raise PhotoMissing(name) from None
                raise
            body: bytes = answer["Body"].read()
        return body

    def _store_cached(self) -> S3BlobStore:
        if self._client_store is None:
            self._client_store = self._store()
        return self._client_store

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_client_store": None}


def open_source(text: str | Path, settings: Settings) -> LocalFolder | S3Prefix:
    """The photo source named on the command line: a folder or ``s3://bucket/prefix``."""
    raw = str(text)
    if "://" in raw:
        scheme, rest = raw.split("://", 1)
        if scheme.lower() != "s3":
            raise InvalidRequest(
                f"{raw}: {scheme}:// sources are not supported; use a local folder or "
                "s3://bucket/prefix.",
                code="unsupported_source",
                details={"source": raw},
            )
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise InvalidRequest(
                f"{raw}: no bucket; write s3://bucket/prefix.",
                code="unsupported_source",
                details={"source": raw},
            )
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        key_id = settings.s3_access_key_id
        secret = settings.s3_secret_access_key
        return S3Prefix(
            bucket=bucket,
            prefix=prefix,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region or None,
            access_key_id=key_id.get_secret_value() if key_id else None,
            secret_access_key=secret.get_secret_value() if secret else None,
        )
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise InvalidRequest(
            f"{path} is not a folder of photos.",
            code="source_not_found",
            details={"source": str(path)},
        )
    return LocalFolder(path)
