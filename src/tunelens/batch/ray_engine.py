"""The ``ray`` engine of ``tunelens batch``: the same per-batch work on Ray Data actors.

``ray.data.from_items`` holds the photo names; ``map_batches`` runs :class:`_Recommender`
actors (each loads the engine once, like a local pool worker) over batches of names and
returns each batch's JSON lines; the driver writes them as they stream back, so resuming,
fsync and the album work exactly as with the local engine and the lines are identical.

Needs ``pip install 'tunelens[ray]'``. With ``RAY_ADDRESS`` set, the run joins that cluster
(e.g. ``RAY_ADDRESS=ray://head:10001`` or ``auto`` on a cluster node); without it, a local
Ray instance is started with ``workers`` CPUs. Actors read photos from the job's source: on a real cluster use
an ``s3://bucket/prefix`` source (every actor opens its own S3 client) or a folder that every
node mounts at the same path.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from typing import Any

from tunelens.batch.job import BatchJob, load_engine, process_batch, resolved_source
from tunelens.core.errors import InvalidRequest


class _Recommender:
    """A Ray Data actor: one engine per actor, one encoder batch per call."""

    def __init__(self, job: BatchJob, threads: int) -> None:
        self.job = job
        self.engine = load_engine(job, threads)
        self.source = resolved_source(job)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        names = [str(name) for name in batch["photo"]]
        lines = process_batch(self.engine, self.source, names, self.job.k)
        return {"line": [json.dumps(line, ensure_ascii=False) for line in lines]}


def require_ray() -> Any:
    try:
        import ray
        import ray.data  # the Data library is a separate extra
    except ImportError as exc:
        raise InvalidRequest(
            f"The ray engine needs Ray Data ({exc.name} is not installed); install "
            "tunelens[ray] or use --engine local.",
            code="ray_missing",
        ) from None
    return ray


def run_ray(job: BatchJob, todo: Sequence[str]) -> Iterator[list[dict[str, Any]]]:
    """Yield the JSON lines of ``todo`` in batches, computed by ``job.workers`` Ray actors."""
    ray = require_ray()
    # Ray Data logs every execution at INFO; the batch progress bar already says it all.
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.WARNING)
    started_here = False
    if not ray.is_initialized():
        if os.environ.get("RAY_ADDRESS"):
            # join the cluster RAY_ADDRESS names; Ray refuses num_cpus when connecting
            ray.init(log_to_driver=False, configure_logging=False)
        else:
            ray.init(
                num_cpus=max(1, job.workers),
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        started_here = True
    try:
        threads = 1 if job.workers > 1 else 0
        dataset = ray.data.from_items([{"photo": name} for name in todo])
        results = dataset.map_batches(
            _Recommender,
            fn_constructor_args=(job, threads),
            batch_size=job.batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=max(1, job.workers)),
            num_cpus=1,
        )
        for batch in results.iter_batches(batch_size=None, batch_format="numpy"):
            yield [json.loads(str(line)) for line in batch["line"]]
    finally:
        if started_here:
            ray.shutdown()
