"""The batch engines by name: where the batches of a run are computed.

Every engine turns a :class:`~tunelens.batch.worker.BatchWork` and the photo names still to
do into batches of JSON lines with :func:`~tunelens.batch.worker.process_batch`; the driver
(:func:`tunelens.batch.job.run_batch`) writes them, resumes and writes the album, the same
for all. Adding an engine is one module with its runner plus one line in :data:`ENGINES`;
the job checks engine names against this table, nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from tunelens.batch.local_engine import run_local, runs_in_driver
from tunelens.batch.output import Line
from tunelens.batch.ray_engine import run_ray
from tunelens.batch.worker import BatchWork
from tunelens.core.errors import InvalidRequest
from tunelens.pipeline import Pipeline

#: ``(work, photos to do, the driver's pipeline or None) → batches of lines``
Runner = Callable[[BatchWork, Sequence[str], Pipeline | None], Iterator[list[Line]]]


def _elsewhere(work: BatchWork) -> bool:
    return False


@dataclass(frozen=True)
class BatchEngine:
    """One engine: its runner, and whether it computes in the driver process.

    An engine that runs in the driver gets the driver's pipeline, loaded once before the
    output file is touched and reused for the album; the others load their own in each
    worker, and the driver loads a light one (no image encoder) for the album only.
    """

    run: Runner
    in_driver: Callable[[BatchWork], bool] = _elsewhere


ENGINES: dict[str, BatchEngine] = {
    "local": BatchEngine(run_local, in_driver=runs_in_driver),  # this process or a pool
    "ray": BatchEngine(run_ray),  # Ray Data actors (tunelens[ray])
}


def engine_named(name: str) -> BatchEngine:
    """The engine called ``name``; ``InvalidRequest`` naming the known ones otherwise."""
    if name not in ENGINES:
        known = " or ".join(ENGINES)
        raise InvalidRequest(f"unknown engine {name!r}; use {known}")
    return ENGINES[name]
