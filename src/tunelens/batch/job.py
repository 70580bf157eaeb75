"""``tunelens batch``: readings and songs for every photo in a folder, written as JSON Lines.

The output is one JSON object per line:

* one ``{"type": "photo", ...}`` line per photo, in completion order::

      {"type": "photo", "photo": "trips/beach.jpg", "status": "ok", "sha256": "…",
       "reading": {…Reading…}, "tracks": [{"rank", "id", "title", "artist", "genre",
       "score"}, …], "timings_ms": {…}}
      {"type": "photo", "photo": "notes.txt", "status": "error",
       "error": {"code": "not_an_image", "message": "…"}}

  A photo tunelens cannot read never stops the run: it becomes an error line with the same
  stable ``code`` the CLI and API use.
* last, one ``{"type": "album", ...}`` line: a playlist for the whole folder, recommended from
  the album's mean reading (mean emotion and genre probabilities, mean valence/arousal, the
  scenes most photos share), over every ``ok`` line in the file — including photos done by
  earlier, interrupted runs.

**Resuming.** Photos already in the output (``ok`` or ``error``) are skipped. Each line is
written with ``flush`` + ``fsync``, so an interrupted run loses at most the line in flight; a
torn last line and a previous album line are cut off before new lines are appended.

**Engines.** ``local`` runs in this process (``workers=1``) or in a process pool whose
workers each load the engine once (``workers>1``; ONNX Runtime threads are split between
them). ``ray`` runs the same per-batch function on Ray Data actors
(:mod:`tunelens.batch.ray_engine`, ``pip install 'tunelens[ray]'``).

**Sources** (:mod:`tunelens.batch.sources`): a local folder, or ``s3://bucket/prefix`` in any
S3-compatible store (endpoint and credentials from the ``TUNELENS_S3_…`` settings). A dead
store stops the run with ``blob_store_unavailable``; what was written stays and the next run
resumes.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tunelens.batch.sources import (
    IMAGE_SUFFIXES,
    LocalFolder,
    PhotoMissing,
    PhotoSource,
    S3Prefix,
    open_source,
)
from tunelens.core.errors import InvalidRequest, TunelensError
from tunelens.core.settings import EncoderChoice, Settings, get_settings
from tunelens.storage.errors import BlobStoreUnavailable
from tunelens.vision.imaging import FAST_WORK_SIDE

__all__ = [
    "IMAGE_SUFFIXES",
    "BatchJob",
    "BatchSummary",
    "album_line",
    "process_batch",
    "read_output",
    "run_batch",
]

EngineKind = Literal["local", "ray"]
DEFAULT_BATCH_SIZE = 8
DEFAULT_ALBUM_SIZE = 20
#: batch makes no heatmaps, so it decodes at the fast side (see imaging.FAST_WORK_SIDE)
BATCH_WORK_SIDE = FAST_WORK_SIDE


@dataclass
class BatchJob:
    """Everything one run needs; picklable, so workers and Ray actors get the same job."""

    #: a folder, ``s3://bucket/prefix``, or a source object; :func:`run_batch` resolves text
    source: str | Path | LocalFolder | S3Prefix
    out: Path
    workers: int = 1
    engine: EngineKind = "local"
    encoder: EncoderChoice | None = None
    catalog_dir: Path | None = None
    k: int = 10
    batch_size: int = DEFAULT_BATCH_SIZE
    album_size: int = DEFAULT_ALBUM_SIZE
    #: process at most this many new photos (then write the album); None = all
    limit: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def make_settings(self, threads: int | None = None) -> Settings:
        values = dict(self.settings)
        if threads is not None and not values.get("onnx_threads"):
            values["onnx_threads"] = threads
        return Settings(**values)


@dataclass
class BatchSummary:
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


# --------------------------------------------------------------------------- inputs


# --------------------------------------------------------------------------- output file


def read_output(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Complete photo lines of an existing output and the byte length to keep.

    The kept prefix ends after the last complete photo line: a torn line (the run was killed
    mid-write) and any album line are dropped, because the album is rewritten at the end.
    """
    if not path.is_file():
        return [], 0
    lines: list[dict[str, Any]] = []
    keep = 0
    offset = 0
    with path.open("rb") as handle:
        for raw in handle:
            offset += len(raw)
            if not raw.endswith(b"\n"):
                break
            try:
                record = json.loads(raw)
            except ValueError:
                break
            if isinstance(record, dict) and record.get("type") == "photo" and "photo" in record:
                lines.append(record)
                keep = offset
            elif isinstance(record, dict) and record.get("type") == "album":
                continue
            else:
                break
    return lines, keep


class LineWriter:
    """Appends JSON lines; each is flushed and fsynced before the next is written."""

    def __init__(self, path: Path, keep_bytes: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = "r+b" if path.exists() else "wb"
        self._handle = path.open(mode)
        self._handle.truncate(keep_bytes)
        self._handle.seek(keep_bytes)
        self._fsync()

    def write(self, record: dict[str, Any]) -> None:
        data = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        self._handle.write(data.encode("utf-8"))
        self._fsync()

    def _fsync(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()


# --------------------------------------------------------------------------- the work


def _track_line(item: Any) -> dict[str, Any]:
    track = item.track
    return {
        "rank": item.rank,
        "id": track.id,
        "title": track.title,
        "artist": track.artist,
        "genre": track.genre,
        "score": item.score,
    }


def process_batch(
    engine: Any, source: PhotoSource, photos: Sequence[str], k: int
) -> list[dict[str, Any]]:
    """Decode ``photos`` (one error line per unreadable one) and recommend for the rest in one
    encoder batch. Shared by every engine, so local, pool and Ray give identical lines."""
    from tunelens.vision.imaging import load_image

    lines: dict[str, dict[str, Any]] = {}
    images, names, decode_ms = [], [], []
    for name in photos:
        t = time.perf_counter()
        try:
            images.append(
                load_image(source.read(name), settings=engine.settings, work_side=BATCH_WORK_SIDE)
            )
        except BlobStoreUnavailable:
            raise  # the store died mid-run: stop, so the next run retries these photos
        except PhotoMissing:
            lines[name] = {
                "type": "photo",
                "photo": name,
                "status": "error",
                "error": {"code": "not_found", "message": f"{name} disappeared before reading"},
            }
            continue
        except TunelensError as error:
            lines[name] = {
                "type": "photo",
                "photo": name,
                "status": "error",
                "error": {"code": error.code, "message": error.message},
            }
            continue
        names.append(name)
        decode_ms.append((time.perf_counter() - t) * 1000)
    if images:
        recs = engine.recommend_images(images, labels=names, k=k, decode_ms=decode_ms)
        for name, rec in zip(names, recs, strict=True):
            lines[name] = {
                "type": "photo",
                "photo": name,
                "status": "ok",
                "sha256": rec.image_sha256,
                "reading": rec.reading.model_dump(mode="json"),
                "tracks": [_track_line(item) for item in rec.tracks],
                "timings_ms": rec.timings_ms,
            }
    return [lines[name] for name in photos]


def resolved_source(job: BatchJob) -> LocalFolder | S3Prefix:
    """``job.source`` as a source object (text is resolved once, with the job's settings)."""
    if isinstance(job.source, LocalFolder | S3Prefix):
        return job.source
    job.source = open_source(job.source, job.make_settings())
    return job.source


def load_engine(job: BatchJob, threads: int | None = None) -> Any:
    from tunelens.pipeline import Engine

    return Engine.load(job.make_settings(threads), encoder=job.encoder, catalog_dir=job.catalog_dir)


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


# Worker-process state: each pool worker loads the engine once, in its initializer.
_WORKER_ENGINE: Any = None
_WORKER_SOURCE: PhotoSource | None = None


def _worker_init(job: BatchJob, threads: int) -> None:
    global _WORKER_ENGINE, _WORKER_SOURCE
    _WORKER_ENGINE = load_engine(job, threads)
    _WORKER_SOURCE = resolved_source(job)


def _worker_run(photos: list[str], k: int) -> list[dict[str, Any]]:
    assert _WORKER_ENGINE is not None and _WORKER_SOURCE is not None
    return process_batch(_WORKER_ENGINE, _WORKER_SOURCE, photos, k)


def _run_local(
    job: BatchJob, todo: Sequence[str], engine: Any = None
) -> Iterator[list[dict[str, Any]]]:
    batches = list(_chunks(todo, job.batch_size))
    if job.workers <= 1:
        engine = engine or load_engine(job)
        for batch in batches:
            yield process_batch(engine, resolved_source(job), batch, job.k)
        return
    from multiprocessing import get_context

    from tunelens.vision.onnx_clip import available_cpus

    threads = max(1, available_cpus() // job.workers)
    # spawn: the parent holds threads (progress bar) and maybe ONNX Runtime state, which
    # must not be forked.
    with ProcessPoolExecutor(
        max_workers=job.workers,
        mp_context=get_context("spawn"),
        initializer=_worker_init,
        initargs=(job, threads),
    ) as pool:
        pending: set[Future[list[dict[str, Any]]]] = set()
        queue = iter(batches)
        try:
            for batch in queue:
                pending.add(pool.submit(_worker_run, batch, job.k))
                if len(pending) >= 2 * job.workers:
                    break
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending.add(pool.submit(_worker_run, nxt, job.k))
        finally:
            for future in pending:
                future.cancel()


# --------------------------------------------------------------------------- album


def mean_reading(readings: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The album's reading: means of probabilities, valence/arousal and colour statistics."""
    from collections import Counter

    n = len(readings)
    emotions: dict[str, float] = {}
    genres: dict[str, float] = {}
    colour: dict[str, float] = {}
    scene_scores: Counter[str] = Counter()
    hues: Counter[str] = Counter()
    for reading in readings:
        for name, p in reading["emotions"].items():
            emotions[name] = emotions.get(name, 0.0) + p / n
        for name, p in reading["genres"].items():
            genres[name] = genres.get(name, 0.0) + p / n
        for scene in reading.get("scenes", []):
            scene_scores[scene["name"]] += scene["score"] / n
        for key, value in reading["colour"].items():
            if isinstance(value, int | float):
                colour[key] = colour.get(key, 0.0) + value / n
        hues[reading["colour"].get("dominant_hue", "grey")] += 1
    first = readings[0]
    return {
        "emotions": {k: round(v, 4) for k, v in emotions.items()},
        "top_emotion": max(emotions, key=lambda e: emotions[e]),
        "valence": round(float(np.mean([r["valence"] for r in readings])), 4),
        "arousal": round(float(np.mean([r["arousal"] for r in readings])), 4),
        "genres": {k: round(v, 4) for k, v in genres.items()},
        "scenes": [
            {"name": name, "score": round(score, 4)} for name, score in scene_scores.most_common(3)
        ],
        "colour": {
            **{k: round(v, 4) for k, v in colour.items()},
            "dominant_hue": hues.most_common(1)[0][0],
        },
        "encoder": first["encoder"],
        "context": None,
    }


def album_line(engine: Any, lines: Iterable[dict[str, Any]], size: int) -> dict[str, Any]:
    """The album record: one playlist for every ``ok`` photo line, from their mean reading."""
    from tunelens.core.types import Reading
    from tunelens.recommend.mapping import target_profile

    photo_lines = [line for line in lines if line.get("type") == "photo"]
    # sorted, so the album does not depend on the order workers finished in
    ok = sorted(
        (line for line in photo_lines if line.get("status") == "ok"), key=lambda x: x["photo"]
    )
    record: dict[str, Any] = {
        "type": "album",
        "photos": len(ok),
        "errors": len(photo_lines) - len(ok),
    }
    if not ok:
        record.update(reading=None, tracks=[])
        return record
    reading = Reading.model_validate(mean_reading([line["reading"] for line in ok]))
    target = target_profile(reading, engine.recommender.profiles)
    size = min(size, engine.settings.max_top_k)
    tracks = engine.recommender.recommend(reading, target, k=size)
    record.update(
        reading=reading.model_dump(mode="json"),
        target=target.model_dump(mode="json"),
        tracks=[_track_line(item) for item in tracks],
    )
    return record


# --------------------------------------------------------------------------- driver


def run_batch(job: BatchJob, *, progress: bool = True, console: Any = None) -> BatchSummary:
    """Run ``job``: skip what the output already has, process the rest, write the album."""
    if job.engine not in ("local", "ray"):
        raise InvalidRequest(f"unknown engine {job.engine!r}; use local or ray")
    if job.workers < 1:
        raise InvalidRequest(f"--workers must be at least 1, got {job.workers}")
    if job.batch_size < 1:
        raise InvalidRequest(f"batch size must be at least 1, got {job.batch_size}")
    if not job.settings:
        job.settings = get_settings().model_dump(mode="json", exclude_none=True)
    source = resolved_source(job)
    photos = source.list_photos()
    existing, keep = read_output(job.out)
    done = {line["photo"] for line in existing}
    todo = [p for p in photos if p not in done]
    if job.limit is not None:
        todo = todo[: max(0, job.limit)]

    started = time.perf_counter()
    # In-process runs share one engine between the photos and the album.
    engine = load_engine(job) if job.engine == "local" and job.workers <= 1 else None
    writer = LineWriter(job.out, keep)
    new_lines: list[dict[str, Any]] = []
    bar = _Progress(len(todo), len(photos) - len(todo), enabled=progress, console=console)
    try:
        with bar:
            if todo:
                if job.engine == "ray":
                    from tunelens.batch.ray_engine import run_ray

                    results: Iterable[list[dict[str, Any]]] = run_ray(job, todo)
                else:
                    results = _run_local(job, todo, engine)
                for batch_lines in results:
                    for line in batch_lines:
                        writer.write(line)
                        new_lines.append(line)
                    bar.advance(len(batch_lines))
            if engine is None:
                # The album needs only the catalogue and the recommender (its reading comes
                # from the lines), so skip loading an image encoder here.
                engine = load_engine(replace(job, encoder="colour"))
            album = album_line(engine, [*existing, *new_lines], job.album_size)
            writer.write(album)
    finally:
        writer.close()
    errors = sum(1 for line in new_lines if line["status"] == "error")
    return BatchSummary(
        notices=_notices(new_lines),
        total=len(photos),
        skipped=len(done & set(photos)),
        processed=len(new_lines),
        ok=len(new_lines) - errors,
        errors=errors,
        seconds=time.perf_counter() - started,
        album=album,
        out=job.out,
    )


def _notices(lines: Sequence[dict[str, Any]]) -> list[str]:
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


class _Progress:
    """A rich progress bar (photos, rate, ETA) on stderr; silent when disabled."""

    def __init__(self, total: int, already: int, *, enabled: bool, console: Any) -> None:
        self._progress: Any = None
        self._task: Any = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            Task,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class RateColumn(ProgressColumn):
            def render(self, task: Task) -> Text:
                speed = task.finished_speed or task.speed
                if not speed and task.elapsed:
                    speed = task.completed / task.elapsed
                return Text(f"{speed:.1f} photos/s" if speed else "– photos/s")

        self._progress = Progress(
            TextColumn("[bold]batch[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        description = f"{already} already done" if already else ""
        self._task = self._progress.add_task(description, total=total)

    def __enter__(self) -> _Progress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def advance(self, n: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)
