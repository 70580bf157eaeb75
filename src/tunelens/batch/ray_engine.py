"""The ``ray`` batch engine: the same per-batch work on Ray Data actors.

``ray.data.from_items`` holds the photo names; ``map_batches`` runs :class:`_Recommender`
actors (each loads the pipeline once, like a local pool worker) over batches of names and
returns each batch's JSON lines; the driver writes them as they stream back, so resuming,
fsync and the album work exactly as with the local engine and the lines are identical.

Needs ``pip install 'tunelens[ray]'``; Ray is imported only when this engine runs, so the
default install never loads it. With ``RAY_ADDRESS`` set, the run joins that cluster (e.g.
``RAY_ADDRESS=ray://head:10001`` or ``auto`` on a cluster node); without it, a local Ray
instance is started with ``workers`` CPUs. Actors read photos from the job's source: on a real
cluster use an ``s3://bucket/prefix`` source (every actor opens its own S3 client) or a
folder that every node mounts at the same path.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from typing import Any

from tunelens.batch.output import Line
from tunelens.batch.worker import BatchWork, load_pipeline, process_batch
from tunelens.core.ray_start import require_ray as core_require_ray
from tunelens.core.ray_start import start_ray
from tunelens.pipeline import Pipeline


class _Recommender:
    """A Ray Data actor: one pipeline per actor, one encoder batch per call."""

    def __init__(self, work: BatchWork, threads: int) -> None:
        self.work = work
        self.pipeline = load_pipeline(work, threads)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        names = [str(name) for name in batch["photo"]]
        lines = process_batch(self.pipeline, self.work.source, names, self.work.k)
        return {"line": [json.dumps(line, ensure_ascii=False) for line in lines]}


def require_ray() -> Any:
    """The ``ray`` module with Ray Data loaded; ``ray_missing`` when the extra is absent."""
    return core_require_ray("use --engine local")


def run_ray(work: BatchWork, todo: Sequence[str], driver: Pipeline | None) -> Iterator[list[Line]]:
    """Yield the lines of ``todo`` in batches, computed by ``work.workers`` Ray actors (the
    driver's pipeline, if any, is not used: actors load their own)."""
    ray = require_ray()
    # Ray Data logs every execution at INFO; the batch progress bar already says it all.
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.WARNING)
    started_here = start_ray(ray, work.workers)
    try:
        threads = 1 if work.workers > 1 else 0
        dataset = ray.data.from_items([{"photo": name} for name in todo])
        results = dataset.map_batches(
            _Recommender,
            fn_constructor_args=(work, threads),
            batch_size=work.batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=max(1, work.workers)),
            num_cpus=1,
        )
        for batch in results.iter_batches(batch_size=None, batch_format="numpy"):
            yield [json.loads(str(line)) for line in batch["line"]]
    finally:
        if started_here:
            ray.shutdown()
