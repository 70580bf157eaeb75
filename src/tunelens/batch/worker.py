"""The work every batch engine does, whichever process or machine it runs on.

An engine (:mod:`tunelens.batch.engines`) only decides *where* batches of photo names are
processed; what happens to one batch is :func:`process_batch`, here, so the local process, a
pool worker and a Ray actor write identical lines. :class:`BatchWork` is what travels to those
workers: picklable, frozen, and nothing the driver alone needs (the output file, the album).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunelens.batch.output import Line, error_line, ok_line
from tunelens.batch.sources import LocalFolder, PhotoMissing, PhotoSource, S3Prefix
from tunelens.core.errors import TunelensError
from tunelens.core.settings import EncoderChoice, Settings
from tunelens.pipeline import Pipeline, RecommendOptions, build_pipeline
from tunelens.storage.errors import BlobStoreUnavailable
from tunelens.vision.imaging import FAST_WORK_SIDE, LoadedImage, load_image

#: batch makes no heatmaps, so it decodes at the fast side (see imaging.FAST_WORK_SIDE)
BATCH_WORK_SIDE = FAST_WORK_SIDE


@dataclass(frozen=True)
class BatchWork:
    """What a worker needs to turn photo names into lines: where the photos are, how to
    load the pipeline, and how many songs and photos per call."""

    source: LocalFolder | S3Prefix
    #: the run's settings as plain values (a Settings object is rebuilt in each worker)
    settings: dict[str, Any]
    encoder: EncoderChoice | None
    catalog_dir: Path | None
    k: int
    batch_size: int
    workers: int

    def make_settings(self, threads: int | None = None) -> Settings:
        return settings_from(self.settings, threads)


def settings_from(values: dict[str, Any], threads: int | None = None) -> Settings:
    """Settings from plain values; ``threads`` sets ONNX Runtime's threads unless the values
    already say (pool workers split the CPUs between them)."""
    values = dict(values)
    if threads is not None and not values.get("onnx_threads"):
        values["onnx_threads"] = threads
    return Settings(**values)


def load_pipeline(work: BatchWork, threads: int | None = None) -> Pipeline:
    """The pipeline one worker uses for all its batches (loading it is the slow part)."""
    return build_pipeline(
        work.make_settings(threads), encoder=work.encoder, catalog_dir=work.catalog_dir
    )


def chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _decode(source: PhotoSource, name: str, settings: Settings) -> LoadedImage | Line:
    """The photo's pixels, or its error line when tunelens cannot read it."""
    try:
        return load_image(source.read(name), settings=settings, work_side=BATCH_WORK_SIDE)
    except BlobStoreUnavailable:
        raise  # the store died mid-run: stop, so the next run retries these photos
    except PhotoMissing:
        return error_line(name, "not_found", f"{name} disappeared before reading")
    except TunelensError as error:
        return error_line(name, error.code, error.message)


@dataclass
class _Decoded:
    """One batch after reading and decoding: pixels of the readable photos, error lines of the
    others."""

    photos: Sequence[str]
    lines: dict[str, Line]
    images: list[LoadedImage]
    names: list[str]
    decode_ms: list[float]


def _decode_batch(source: PhotoSource, photos: Sequence[str], settings: Settings) -> _Decoded:
    decoded = _Decoded(photos, {}, [], [], [])
    for name in photos:
        started = time.perf_counter()
        image = _decode(source, name, settings)
        if isinstance(image, dict):
            decoded.lines[name] = image
            continue
        decoded.images.append(image)
        decoded.names.append(name)
        decoded.decode_ms.append((time.perf_counter() - started) * 1000)
    return decoded


def _answer_batch(pipeline: Pipeline, decoded: _Decoded, k: int) -> list[Line]:
    lines = dict(decoded.lines)
    if decoded.images:
        # batch lines carry no reasons or explanation: none are worded (≈ 1.5 ms a photo)
        options = RecommendOptions(
            k=k, labels=decoded.names, decode_ms=decoded.decode_ms, words=False
        )
        recs = pipeline.recommend(decoded.images, options)
        for name, rec in zip(decoded.names, recs, strict=True):
            lines[name] = ok_line(name, rec)
    return [lines[name] for name in decoded.photos]


def process_batch(
    pipeline: Pipeline, source: PhotoSource, photos: Sequence[str], k: int
) -> list[Line]:
    """Decode ``photos`` (one error line per unreadable one) and recommend for the rest in one
    encoder batch; the lines come back in the order of ``photos``."""
    return _answer_batch(pipeline, _decode_batch(source, photos, pipeline.settings), k)


def process_batches(
    pipeline: Pipeline, source: PhotoSource, batches: Iterable[Sequence[str]], k: int
) -> Iterator[list[Line]]:
    """:func:`process_batch` of each batch in turn, the next batch read and decoded in a
    thread while this one is answered: decoding (libjpeg, Pillow) releases the GIL, so it
    fills the gaps the encoder leaves between its parallel sections (measured on 2 cores:
    ≈ 15 % more photos a second). An error reading the store surfaces at the batch it
    belongs to, after the batches before it are yielded."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tunelens-decode") as pool:
        ahead: Future[_Decoded] | None = None
        for batch in batches:
            submitted = pool.submit(_decode_batch, source, batch, pipeline.settings)
            if ahead is not None:
                yield _answer_batch(pipeline, ahead.result(), k)
            ahead = submitted
        if ahead is not None:
            yield _answer_batch(pipeline, ahead.result(), k)
