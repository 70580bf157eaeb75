"""``tunelens batch``: readings and songs for every photo in a folder, written as JSON Lines.

A run lists the photos of its source, skips those the output already has, has an engine
compute the rest batch by batch, writes each line as it arrives and ends with the album line.
The parts, one idea each:

* :mod:`~tunelens.batch.sources` — where the photos are: a local folder, or
  ``s3://bucket/prefix`` in any S3-compatible store (endpoint and credentials from the
  ``TUNELENS_S3_…`` settings). A dead store stops the run with ``blob_store_unavailable``;
  what was written stays and the next run resumes.
* :mod:`~tunelens.batch.output` — the line shapes and the durable writer. A photo tunelens
  cannot read never stops the run: it becomes an error line with the same stable ``code``
  the CLI and API use.
* :mod:`~tunelens.batch.engines` — where batches are computed: ``local`` (this process, or a
  process pool whose workers each load the pipeline once) or ``ray`` (Ray Data actors,
  ``pip install 'tunelens[ray]'``); :mod:`~tunelens.batch.worker` is the per-batch work they
  share, so every engine writes identical lines.
* :mod:`~tunelens.batch.album` — the album playlist line, over every ``ok`` line in the file,
  including photos done by earlier, interrupted runs.

**Resuming.** Photos already in the output (``ok`` or ``error``) are skipped. Each line is
written with ``flush`` + ``fsync``, so an interrupted run loses at most the line in flight; a
torn last line and a previous album line are cut off before new lines are appended.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console

from tunelens.batch.album import album_line
from tunelens.batch.engines import engine_named
from tunelens.batch.output import Line, LineWriter, read_output
from tunelens.batch.progress import BatchProgress
from tunelens.batch.sources import LocalFolder, S3Prefix, open_source
from tunelens.batch.worker import BatchWork, load_pipeline, settings_from
from tunelens.core.errors import InvalidRequest
from tunelens.core.settings import EncoderChoice, Settings, get_settings
from tunelens.pipeline import Pipeline

__all__ = ["BatchJob", "BatchSummary", "resolved_source", "run_batch"]

DEFAULT_BATCH_SIZE = 8
DEFAULT_ALBUM_SIZE = 20


@dataclass
class BatchJob:
    """Everything one run needs, as the user asked for it."""

    #: a folder, ``s3://bucket/prefix``, or a source object; :func:`run_batch` resolves text
    source: str | Path | LocalFolder | S3Prefix
    out: Path
    workers: int = 1
    #: a name in :data:`tunelens.batch.engines.ENGINES` (checked when the job runs)
    engine: str = "local"
    encoder: EncoderChoice | None = None
    catalog_dir: Path | None = None
    k: int = 10
    batch_size: int = DEFAULT_BATCH_SIZE
    album_size: int = DEFAULT_ALBUM_SIZE
    #: process at most this many new photos (then write the album); None = all
    limit: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def make_settings(self, threads: int | None = None) -> Settings:
        return settings_from(self.settings, threads)

    def work(self) -> BatchWork:
        """What every worker of this job gets (the source resolved once, here)."""
        return BatchWork(
            source=resolved_source(self),
            settings=dict(self.settings),
            encoder=self.encoder,
            catalog_dir=self.catalog_dir,
            k=self.k,
            batch_size=self.batch_size,
            workers=self.workers,
        )


@dataclass
class BatchSummary:
    """What one run did (the CLI prints it): photos found, skipped as already done,
    processed now (ok + errors), the time taken, and the album line written last."""

    total: int
    skipped: int
    processed: int
    ok: int
    errors: int
    seconds: float
    album: dict[str, Any] | None
    out: Path
    notices: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.processed / self.seconds if self.seconds > 0 else 0.0


def resolved_source(job: BatchJob) -> LocalFolder | S3Prefix:
    """``job.source`` as a source object (text is resolved once, with the job's settings)."""
    if isinstance(job.source, LocalFolder | S3Prefix):
        return job.source
    job.source = open_source(job.source, job.make_settings())
    return job.source


@dataclass
class _Plan:
    """What this run finds: every photo of the source, the lines the output already has
    (and the bytes of it to keep) and the photos still to do."""

    photos: list[str]
    existing: list[Line]
    keep: int
    done: set[str]
    todo: list[str]


def _check(job: BatchJob) -> None:
    engine_named(job.engine)
    if job.workers < 1:
        raise InvalidRequest(f"--workers must be at least 1, got {job.workers}")
    if job.batch_size < 1:
        raise InvalidRequest(f"batch size must be at least 1, got {job.batch_size}")


def _plan(job: BatchJob) -> _Plan:
    photos = resolved_source(job).list_photos()
    existing, keep = read_output(job.out)
    done = {line["photo"] for line in existing}
    todo = [p for p in photos if p not in done]
    if job.limit is not None:
        todo = todo[: max(0, job.limit)]
    return _Plan(photos, existing, keep, done, todo)


def run_batch(
    job: BatchJob, *, progress: bool = True, console: Console | None = None
) -> BatchSummary:
    """Run ``job``: skip what the output already has, process the rest, write the album."""
    _check(job)
    if not job.settings:
        job.settings = get_settings().model_dump(mode="json", exclude_none=True)
    plan = _plan(job)
    work = job.work()
    engine = engine_named(job.engine)
    started = time.perf_counter()
    # An engine that computes in this process shares one pipeline between photos and album.
    driver = load_pipeline(work) if engine.in_driver(work) else None
    writer = LineWriter(job.out, keep_bytes=plan.keep)
    new_lines: list[Line] = []
    already = len(plan.photos) - len(plan.todo)
    bar = BatchProgress(len(plan.todo), already, enabled=progress, console=console)
    try:
        with bar:
            if plan.todo:
                for batch_lines in engine.run(work, plan.todo, driver):
                    for line in batch_lines:
                        writer.write(line)
                        new_lines.append(line)
                    bar.advance(len(batch_lines))
            album = album_line(
                _album_pipeline(work, driver), [*plan.existing, *new_lines], job.album_size
            )
            writer.write(album)
    finally:
        writer.close()
    errors = sum(1 for line in new_lines if line["status"] == "error")
    return BatchSummary(
        notices=_notices(new_lines),
        total=len(plan.photos),
        skipped=len(plan.done & set(plan.photos)),
        processed=len(new_lines),
        ok=len(new_lines) - errors,
        errors=errors,
        seconds=time.perf_counter() - started,
        album=album,
        out=job.out,
    )


def _album_pipeline(work: BatchWork, driver: Pipeline | None) -> Pipeline:
    """The driver's pipeline, or a light one: the album needs only the catalogue and the
    ranking (its reading and target come from the lines), so no image encoder is loaded."""
    return driver or load_pipeline(replace(work, encoder="colour"))


def _notices(lines: Sequence[Line]) -> list[str]:
    """What users must know about the encoder that produced these readings."""
    encoders = {
        (e["name"], bool(e["pretrained"]), bool(e["fallback"]))
        for line in lines
        if line["status"] == "ok"
        for e in [line["reading"]["encoder"]]
    }
    notices = []
    for name, pretrained, fallback in sorted(encoders):
        if fallback:
            notices.append(
                "No usable CLIP weights: readings come from the weight-free colour encoder "
                "(colour and light only)."
            )
        elif not pretrained and name != "colour":
            notices.append(f"The encoder {name} has random weights: readings are meaningless.")
    return notices
