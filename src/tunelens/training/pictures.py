"""The pictures of paired data: fetched from wherever a pair names them, read and embedded once.

A pair's ``image`` is a path (relative to the pairs CSV's folder, or absolute), a ``file://``
URL, an ``s3://bucket/key`` URL read with the configured S3 endpoint and credentials, or
``blob:<sha256>`` for a kept upload in the configured blob store. tunelens never downloads
pictures from the web. However many rows (or names) give the same picture, it is read and
embedded once: pictures are told apart by their sha256, the unit of the held-out split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np

from tunelens.core.errors import InvalidRequest, TunelensError
from tunelens.core.settings import Settings
from tunelens.storage.blobs import BlobStore, S3BlobStore, blob_key, store_from_settings
from tunelens.vision.base import Encoder, FloatArray
from tunelens.vision.colour import ColourStats, colour_stats
from tunelens.vision.imaging import LoadedImage, load_image, thumbnail

#: pictures embedded per encoder call
EMBED_BATCH = 16


class ImageFetcher:
    """Reads a pair's picture from a path, ``file://``, ``s3://`` or ``blob:<sha256>``."""

    def __init__(self, settings: Settings, base_dir: Path | None = None) -> None:
        self.settings = settings
        self.base_dir = base_dir
        self._s3: Any = None
        self._blobs: BlobStore | None = None

    def _s3_client(self) -> Any:
        if self._s3 is None:
            self._s3 = S3BlobStore.from_settings(self.settings).client
        return self._s3

    def fetch(self, source: str) -> bytes | Path:
        """The picture's bytes or local path; :class:`InvalidRequest` (``image_missing``) when
        there is nothing there."""
        if source.startswith("s3://"):
            return self._fetch_s3(source)
        if source.startswith("blob:"):
            return self._fetch_blob(source)
        if source.startswith("file://"):
            path = Path(unquote(urlparse(source).path))
        elif "://" in source:
            raise InvalidRequest(
                f"{source}: only local paths, file://, s3:// and blob: sources are read "
                "(tunelens does not download pictures from the web)",
                code="image_missing",
            )
        else:
            path = Path(source)
            if not path.is_absolute() and self.base_dir is not None:
                path = self.base_dir / path
        if not path.is_file():
            raise InvalidRequest(f"no picture at {path}", code="image_missing")
        return path

    def _fetch_s3(self, source: str) -> bytes:
        parsed = urlparse(source)
        try:
            answer = self._s3_client().get_object(
                Bucket=parsed.netloc, Key=unquote(parsed.path.lstrip("/"))
            )
            data: bytes = answer["Body"].read()
        except TunelensError:
            raise
        except Exception as exc:  # botocore's errors: missing key, no bucket, no endpoint
            raise InvalidRequest(f"cannot read {source}: {exc}", code="image_missing") from None
        return data

    def _fetch_blob(self, source: str) -> bytes:
        if self._blobs is None:
            self._blobs = store_from_settings(self.settings)
        try:
            key = blob_key(source.removeprefix("blob:"))
        except ValueError:
            raise InvalidRequest(f"{source!r} is not blob:<sha256>", code="image_missing") from None
        blob = self._blobs.get(key)
        if blob is None:
            raise InvalidRequest(f"no kept upload {source}", code="image_missing")
        return bytes(blob)


class DistinctPictures:
    """Every distinct picture read so far (by sha256), embedded in batches of
    :data:`EMBED_BATCH`, with its colour statistics (what the mapping's reader needs)."""

    def __init__(self, fetcher: ImageFetcher, encoder: Encoder) -> None:
        self.fetcher = fetcher
        self.encoder = encoder
        self.stats: list[ColourStats] = []
        self.shas: list[str] = []
        self._by_source: dict[str, int | TunelensError] = {}
        self._by_sha: dict[str, int] = {}
        self._pending: list[LoadedImage] = []
        self._chunks: list[FloatArray] = []

    def index_of(self, source: str) -> int | TunelensError:
        """The picture's row among the distinct pictures, or why it cannot be read (each
        source is fetched once; a failure is remembered too)."""
        found = self._by_source.get(source)
        if found is None:
            found = self._read(source)
            self._by_source[source] = found
        return found

    def _read(self, source: str) -> int | TunelensError:
        try:
            image = load_image(self.fetcher.fetch(source), settings=self.fetcher.settings)
        except TunelensError as exc:
            return exc
        if image.sha256 in self._by_sha:  # the same picture under another name
            return self._by_sha[image.sha256]
        index = len(self.shas)
        self._by_sha[image.sha256] = index
        self.shas.append(image.sha256)
        self.stats.append(colour_stats(thumbnail(image)))
        self._pending.append(image)
        if len(self._pending) >= EMBED_BATCH:
            self.flush()
        return index

    def flush(self) -> None:
        """Embed the pictures still waiting for a full batch."""
        if self._pending:
            self._chunks.append(self.encoder.embed_images(self._pending))
            self._pending.clear()

    def embeddings(self) -> FloatArray:
        """(n_pictures, dim) embeddings, in row order (call :meth:`flush` first)."""
        if not self._chunks:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.concatenate(self._chunks).astype(np.float32)
