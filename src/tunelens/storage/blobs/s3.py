"""Blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph, moto, …), failing fast when it is down.

boto3 is the optional ``s3`` extra, so it is imported when a store is made, never when this
module is: a default install (local store) can import every storage module without it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC
from typing import Any

from tunelens.core.errors import ConfigError
from tunelens.core.s3 import S3Endpoint, s3_client
from tunelens.core.settings import Settings, get_settings
from tunelens.storage.blobs.keys import key_digest
from tunelens.storage.blobs.store import BlobInfo
from tunelens.storage.errors import BlobStoreUnavailable

__all__ = ["S3_CONNECT_TIMEOUT", "S3_MAX_ATTEMPTS", "S3_READ_TIMEOUT", "S3BlobStore"]

#: seconds to open a connection to the S3 endpoint / to wait for its answer
S3_CONNECT_TIMEOUT = 2.0
S3_READ_TIMEOUT = 10.0
#: attempts per S3 call in all (botocore's "standard" retry mode), so a dead store fails fast
S3_MAX_ATTEMPTS = 2


def _botocore_errors() -> Any:
    """botocore's exception module, imported only once an S3 store is in use."""
    import botocore.exceptions  # noqa: PLC0415 - boto3/botocore are the optional s3 extra

    return botocore.exceptions


def _status(error: Any) -> int | None:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status is not None else None


def _normalise_prefix(prefix: str) -> str:
    prefix = prefix.strip().strip("/")
    return f"{prefix}/" if prefix else ""


class S3BlobStore:
    """Blobs in an S3-compatible bucket under ``prefix`` (AWS S3, MinIO, Ceph, moto, …).

    Calls time out quickly (connect 2 s, read 10 s, 2 attempts) so a dead endpoint turns
    into :class:`BlobStoreUnavailable` — and the picture into an outbox entry — within seconds.
    """

    def __init__(  # noqa: PLR0913 - one keyword per boto3 setting; callers name them
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
            endpoint = S3Endpoint(
                endpoint_url=endpoint_url,
                region=region,
                access_key_id=access_key_id,
                secret_access_key=secret_access_key,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                max_attempts=max_attempts,
            )
            client = s3_client(endpoint, needed_for="The S3 blob store")
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
        errors = _botocore_errors()
        try:
            yield
        except errors.ClientError as exc:
            error = exc.response.get("Error", {})
            raise BlobStoreUnavailable(
                f"S3 {action} failed at {self.endpoint_url or 'AWS'} bucket {self.bucket}: "
                f"{error.get('Code', '?')} {error.get('Message', '')}".strip(),
                details={"bucket": self.bucket, "s3_code": error.get("Code")},
            ) from exc
        except errors.BotoCoreError as exc:
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
        with self._calls("existence check"):
            try:
                self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            except _botocore_errors().ClientError as exc:
                if _status(exc) == 404:
                    return False
                raise
        return True

    def get(self, key: str) -> bytes | None:
        with self._calls("download"):
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            except _botocore_errors().ClientError as exc:
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
        with self._calls("bucket check"):
            try:
                self.client.head_bucket(Bucket=self.bucket)
                return
            except _botocore_errors().ClientError as exc:
                if _status(exc) != 404:
                    raise
        extra: dict[str, Any] = {}
        if self.region and self.region != "us-east-1":
            extra["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        with self._calls("bucket creation"):
            self.client.create_bucket(Bucket=self.bucket, **extra)

    def probe(self) -> None:
        """One ``HeadBucket``: fails fast on a dead endpoint (2 s connect timeout).

        A 403 counts as reachable: the store answered, but least-privilege upload credentials
        often lack s3:ListBucket (which HeadBucket needs); uploads themselves still work.
        """
        with self._calls("bucket check"):
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except _botocore_errors().ClientError as exc:
                if _status(exc) != 403:
                    raise
