"""The ``local`` batch engine: this process (``workers=1``) or a pool of worker processes.

Each pool worker loads the pipeline once, in its initializer, and ONNX Runtime's threads are
split between the workers so they do not fight over the CPUs. At most two batches per worker
are in flight, so a huge library is never queued all at once and lines stream back as they
finish.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context

from tunelens.batch.output import Line
from tunelens.batch.worker import (
    BatchWork,
    chunks,
    load_pipeline,
    process_batch,
    process_batches,
)
from tunelens.pipeline import Pipeline
from tunelens.vision.onnx_clip import available_cpus

#: batches queued per pool worker: one running, one ready
IN_FLIGHT_PER_WORKER = 2

# Worker-process state: each pool worker loads the pipeline once, in its initializer.
_WORKER_PIPELINE: Pipeline | None = None
_WORKER_WORK: BatchWork | None = None


def runs_in_driver(work: BatchWork) -> bool:
    """One worker means no pool: the batches run in the driver's own pipeline."""
    return work.workers <= 1


def run_local(
    work: BatchWork, todo: Sequence[str], driver: Pipeline | None
) -> Iterator[list[Line]]:
    """Yield the lines of ``todo`` batch by batch; in the driver (reusing ``driver``, its
    already-loaded pipeline) or, with several workers, from a process pool."""
    batches = list(chunks(todo, work.batch_size))
    if not runs_in_driver(work):
        yield from _run_pool(work, batches)
        return
    pipeline = driver or load_pipeline(work)
    yield from process_batches(pipeline, work.source, batches, work.k)


def _worker_init(work: BatchWork, threads: int) -> None:
    global _WORKER_PIPELINE, _WORKER_WORK
    _WORKER_PIPELINE = load_pipeline(work, threads)
    _WORKER_WORK = work


def _worker_run(photos: list[str]) -> list[Line]:
    assert _WORKER_PIPELINE is not None and _WORKER_WORK is not None
    return process_batch(_WORKER_PIPELINE, _WORKER_WORK.source, photos, _WORKER_WORK.k)


def _run_pool(work: BatchWork, batches: list[list[str]]) -> Iterator[list[Line]]:
    threads = max(1, available_cpus() // work.workers)
    # spawn: the parent holds threads (progress bar) and maybe ONNX Runtime state, which
    # must not be forked.
    with ProcessPoolExecutor(
        max_workers=work.workers,
        mp_context=get_context("spawn"),
        initializer=_worker_init,
        initargs=(work, threads),
    ) as pool:
        pending: set[Future[list[Line]]] = set()
        queue = iter(batches)
        try:
            for batch in queue:
                pending.add(pool.submit(_worker_run, batch))
                if len(pending) >= IN_FLIGHT_PER_WORKER * work.workers:
                    break
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending.add(pool.submit(_worker_run, nxt))
        finally:
            for future in pending:
                future.cancel()
