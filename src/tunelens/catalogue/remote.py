"""Catalogues shared by many servers: ``s3://bucket/prefix`` → a verified local copy.

N servers behind a load balancer must answer from the same catalogue version. Each opens the
catalogue from S3-compatible storage (AWS S3, MinIO, Ceph, moto) into its own local cache
(:mod:`.remote_files`): it reads ``meta.json``, downloads only the files of the version that
manifest names, checks their sizes and sha256, and switches its cache to that version in one
rename. Every server that reads the same ``meta.json`` serves the same version.

On the bucket (written by ``tunelens catalog push``)::

    <prefix>/meta.json            the manifest of the current version, replaced last
    <prefix>/objects/<sha256>     every file of every version, by content (never overwritten)

Because objects are named by their content, a push never changes a file a server may be
downloading, and an incremental version uploads (and servers download) only the files that
changed. A prefix copied by hand (``aws s3 sync DIR s3://…``, no ``s3_layout`` in its
``meta.json``) is read too: the files then sit beside ``meta.json`` under their own names.

The S3 client follows the uploads store's conventions (``TUNELENS_S3_ENDPOINT_URL``,
``TUNELENS_S3_REGION``, ``TUNELENS_S3_ACCESS_KEY_ID``/``…_SECRET_ACCESS_KEY``, else boto3's
own credential chain; short timeouts). boto3 is the optional ``s3`` extra, imported only when
an ``s3://`` catalogue is used.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Any

from tunelens.catalogue.index_files import META_FILE
from tunelens.catalogue.remote_files import (
    CatalogueCache,
    CatalogueFile,
    check_file,
    describe_files,
    listed_files,
    version_id,
)
from tunelens.catalogue.store_read import read_manifest
from tunelens.core.atomic import folder_lock
from tunelens.core.errors import CatalogError, ConfigError
from tunelens.core.s3 import S3Endpoint, s3_client
from tunelens.core.settings import Settings, get_settings

__all__ = [
    "S3_LAYOUT",
    "RemoteCatalogue",
    "S3Location",
    "local_catalogue_dir",
    "remote_url",
]

log = logging.getLogger(__name__)

S3_SCHEME = "s3://"
#: the ``s3_layout`` a push records in the remote ``meta.json``
S3_LAYOUT = "sha256-objects/1"
_CONNECT_TIMEOUT = 2.0
_READ_TIMEOUT = 30.0
_MAX_ATTEMPTS = 3
_DENIED = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "403"}
)


def remote_url(location: str | Path | None) -> str | None:
    """The ``s3://`` URL ``location`` names, or None for a local directory.

    A ``--catalog s3://b/p`` option typed as a path arrives as ``Path('s3:/b/p')`` (a path
    collapses ``//``), so that spelling is read as the URL it was.
    """
    if location is None:
        return None
    text = str(location)
    if text.startswith(S3_SCHEME):
        return text
    if text.startswith("s3:/"):
        return S3_SCHEME + text[len("s3:/") :]
    return None


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix (``""`` or ending in ``/``)."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> S3Location:
        text = remote_url(url)
        bucket, _, prefix = (text or "")[len(S3_SCHEME) :].partition("/")
        if text is None or not bucket:
            raise ConfigError(
                f"{url!r} is not a catalogue URL; write s3://bucket/prefix",
                code="catalog_url_invalid",
            )
        prefix = prefix.strip("/")
        return cls(bucket, f"{prefix}/" if prefix else "")

    @property
    def url(self) -> str:
        return f"{S3_SCHEME}{self.bucket}/{self.prefix}".rstrip("/")

    def key(self, name: str) -> str:
        return self.prefix + name


def _s3_client(settings: Settings) -> Any:
    """A boto3 S3 client with the uploads store's settings and fail-fast timeouts (reads are
    allowed longer than the uploads store's: a catalogue segment can be gigabytes)."""
    key_id, secret = settings.s3_access_key_id, settings.s3_secret_access_key
    endpoint = S3Endpoint(
        endpoint_url=settings.s3_endpoint_url or None,
        region=settings.s3_region or None,
        access_key_id=key_id.get_secret_value() if key_id else None,
        secret_access_key=secret.get_secret_value() if secret else None,
        connect_timeout=_CONNECT_TIMEOUT,
        read_timeout=_READ_TIMEOUT,
        max_attempts=_MAX_ATTEMPTS,
    )
    return s3_client(endpoint, needed_for="An s3:// catalogue")


def _remote_error(exc: Exception, action: str, where: str) -> CatalogError:
    """A botocore failure as a CatalogError whose code says what to fix."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error", {})
        s3_code = str(error.get("Code", ""))
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if s3_code in ("NoSuchBucket", "NoSuchKey", "404") or status == 404:
            fix = (
                "create the bucket, or check TUNELENS_CATALOG"
                if s3_code == "NoSuchBucket"
                else f"publish one with `tunelens catalog push DIR {where}`, or check "
                "TUNELENS_CATALOG"
            )
            missing = "bucket" if s3_code == "NoSuchBucket" else "catalogue"
            return CatalogError(
                f"no {missing} at {where} ({action}: {s3_code or status}); {fix}",
                code="catalog_remote_missing",
                details={"url": where, "s3_code": s3_code},
            )
        if s3_code in _DENIED or status == 403:
            return CatalogError(
                f"{where} refused {action} ({s3_code or status}); check the S3 credentials "
                "(TUNELENS_S3_ACCESS_KEY_ID / TUNELENS_S3_SECRET_ACCESS_KEY)",
                code="catalog_remote_denied",
                details={"url": where, "s3_code": s3_code},
            )
    if type(exc).__name__ in ("NoCredentialsError", "PartialCredentialsError"):
        return CatalogError(
            f"no S3 credentials to read {where}; set TUNELENS_S3_ACCESS_KEY_ID and "
            "TUNELENS_S3_SECRET_ACCESS_KEY (or AWS credentials)",
            code="catalog_remote_denied",
            details={"url": where},
        )
    return CatalogError(
        f"cannot reach the catalogue at {where} ({action}: {exc}); check "
        "TUNELENS_S3_ENDPOINT_URL and the network",
        code="catalog_remote_unreachable",
        details={"url": where},
    )


class RemoteCatalogue:
    """One catalogue in S3-compatible storage and this machine's cache of it."""

    def __init__(self, location: S3Location, client: Any, cache_root: Path) -> None:
        self.location = location
        self.client = client
        self.cache = CatalogueCache(cache_root)

    @classmethod
    def from_settings(cls, url: str, settings: Settings | None = None) -> RemoteCatalogue:
        """The catalogue at ``url`` with the settings' S3 client and cache directory."""
        settings = settings or get_settings()
        location = S3Location.parse(url)
        slug = sha256(location.url.encode()).hexdigest()[:16]
        return cls(location, _s3_client(settings), settings.cache_dir / "catalogs" / slug)

    @contextmanager
    def _calls(self, action: str) -> Iterator[None]:
        import botocore.exceptions  # noqa: PLC0415 - comes with boto3 (the s3 extra)

        try:
            yield
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise _remote_error(exc, action, self.location.url) from exc

    # ------------------------------------------------------------------ reading

    def read_manifest(self) -> bytes:
        """The bytes of the remote ``meta.json`` (the version every server should serve)."""
        with self._calls("reading meta.json"):
            answer = self.client.get_object(
                Bucket=self.location.bucket, Key=self.location.key(META_FILE)
            )
            body: bytes = answer["Body"].read()
        return body

    def _object_key(self, meta: Mapping[str, Any], item: CatalogueFile) -> str:
        if meta.get("s3_layout") == S3_LAYOUT and item.sha256 is not None:
            return self.location.key(f"objects/{item.sha256}")
        return self.location.key(item.name)

    def _download(self, meta_bytes: bytes, staging: Path) -> None:
        """Every file of the version ``meta_bytes`` names into ``staging``, verified."""
        where = self.location.url
        try:
            meta = json.loads(meta_bytes)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CatalogError(
                f"meta.json at {where} is not JSON: {exc}", code="catalog_remote_corrupt"
            ) from exc
        if not isinstance(meta, dict):
            raise CatalogError(
                f"meta.json at {where} is not an object", code="catalog_remote_corrupt"
            )
        for item in listed_files(meta, f"{where}/{META_FILE}"):
            target = staging / item.name
            if not self.cache.reuse(item, staging):
                target.parent.mkdir(parents=True, exist_ok=True)
                with self._calls(f"downloading {item.name}"):
                    self.client.download_file(
                        self.location.bucket, self._object_key(meta, item), str(target)
                    )
            problem = check_file(target, item)
            if problem is not None:
                raise CatalogError(
                    f"the catalogue at {where} is inconsistent: {problem}; publish it again "
                    "with `tunelens catalog push`",
                    code="catalog_remote_corrupt",
                    details={"url": where, "file": item.name},
                )
        (staging / META_FILE).write_bytes(meta_bytes)  # last: a staging dir with it is whole

    def sync(self) -> Path:
        """The local directory of the version the remote ``meta.json`` names (downloaded,
        verified and made current if it is new).

        When the store cannot be reached but a version was downloaded before, that version is
        served (and a warning logged), so a server restarts through a storage outage; with
        nothing cached, or when the bucket or catalogue is missing, CatalogError
        ``catalog_remote_unreachable`` / ``catalog_remote_missing`` / ``catalog_remote_denied``.
        """
        with folder_lock(self.cache.root, ".sync.lock"):
            try:
                meta_bytes = self.read_manifest()
            except CatalogError as exc:
                cached = self.cache.current()
                if exc.code != "catalog_remote_unreachable" or cached is None:
                    raise
                log.warning("%s; serving the cached version %s", exc.message, cached.name)
                return cached
            vid = version_id(meta_bytes)
            installed = self.cache.installed(vid)
            if installed is not None:
                if self.cache.current() != installed:
                    self.cache.switch(vid)
                return installed
            staging = self.cache.stage()
            try:
                self._download(meta_bytes, staging)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            final = self.cache.install(staging, vid)
            (self.cache.root / "source.txt").write_text(self.location.url + "\n")
            self.cache.prune()
        log.info("catalogue %s: version %s in %s", self.location.url, vid, final)
        return final

    def current_version(self) -> str | None:
        """The id of the version the remote ``meta.json`` names now (one small GET)."""
        return version_id(self.read_manifest())

    # ------------------------------------------------------------------ publishing

    def _exists(self, key: str, size: int | None) -> bool:
        import botocore.exceptions  # noqa: PLC0415 - comes with boto3 (the s3 extra)

        try:
            head = self.client.head_object(Bucket=self.location.bucket, Key=key)
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return False
            raise
        return size is None or int(head.get("ContentLength", -1)) == size

    def push(self, directory: Path) -> PushResult:
        """Publish the catalogue at ``directory``: its files first, ``meta.json`` last.

        Servers that read ``meta.json`` before the push finished keep the old version whole
        (its objects are never overwritten); those that read it after get the new one whole.
        """
        directory = directory.expanduser()
        meta = read_manifest(directory)  # what a server would refuse is not published
        files = describe_files(directory, meta)
        uploaded = 0
        with self._calls("publishing"):
            for item in files:
                key = self.location.key(f"objects/{item.sha256}")
                if self._exists(key, item.size):
                    continue
                self.client.upload_file(str(directory / item.name), self.location.bucket, key)
                uploaded += 1
            remote = {
                **meta,
                "files": [f.to_dict() for f in files],
                "s3_layout": S3_LAYOUT,
            }
            body = (json.dumps(remote, indent=2) + "\n").encode()
            self.client.put_object(
                Bucket=self.location.bucket,
                Key=self.location.key(META_FILE),
                Body=body,
                ContentType="application/json",
            )
        return PushResult(self.location.url, version_id(body), len(files), uploaded)


@dataclass(frozen=True)
class PushResult:
    """What a push published: the version id servers will report, and how much it sent."""

    url: str
    version: str
    files: int
    uploaded: int


def local_catalogue_dir(location: str | Path, settings: Settings | None = None) -> Path:
    """The local directory to open for ``location``: itself, or for ``s3://bucket/prefix``
    the synced cache directory of the version its ``meta.json`` names."""
    url = remote_url(location)
    if url is None:
        return Path(location).expanduser()
    return RemoteCatalogue.from_settings(url, settings).sync()
