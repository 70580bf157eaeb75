"""Micro-batching for the server: concurrent ``embed_images`` calls share one encoder run.

Under load the server runs several requests in worker threads at once. Without this, each
thread calls ONNX Runtime on its own one-picture batch and the calls fight over the same two
cores (each session wants every intra-op thread). With it, one thread at a time runs the
encoder — on every picture that queued up while the previous run was busy, up to
``max_batch`` — and hands each caller its rows.

There is no timer: a lone request never waits (a fixed wait would add its full length to
every quiet-time request), and batches form by themselves exactly when requests overlap.
Decoding, colour statistics and ranking stay in the callers' threads, so they overlap with
the encoder run.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tunelens.vision.base import Encoder, FloatArray

if TYPE_CHECKING:
    from tunelens.vision.imaging import LoadedImage

DEFAULT_MAX_BATCH = 8


@dataclass
class _Pending:
    images: Sequence[LoadedImage]
    rows: FloatArray | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass
class BatchCounters:
    """How the batches came out; the benchmark and /stats read these."""

    calls: int = 0
    runs: int = 0
    images: int = 0
    largest: int = 0
    sizes: dict[int, int] = field(default_factory=dict)

    @property
    def mean_batch(self) -> float:
        return self.images / self.runs if self.runs else 0.0


class MicroBatchingEncoder:
    """An :class:`Encoder` that coalesces concurrent ``embed_images`` calls (see module doc).

    Calls with ``max_batch`` or more pictures (the heatmap's masks) skip the queue: they are a
    batch already.
    """

    def __init__(self, inner: Encoder, *, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.inner = inner
        self.max_batch = max_batch
        self.name = inner.name
        self.dim = inner.dim
        self.is_pretrained = inner.is_pretrained
        self.supports_text = inner.supports_text
        self.model_id = inner.model_id
        self.counters = BatchCounters()
        self._cond = threading.Condition()
        self._queue: deque[_Pending] = deque()
        self._running = False

    def embed_texts(self, texts: Sequence[str]) -> FloatArray:
        return self.inner.embed_texts(texts)

    def embed_images(self, images: Sequence[LoadedImage]) -> FloatArray:
        if len(images) >= self.max_batch or not images:
            return self.inner.embed_images(images)
        mine = _Pending(images)
        with self._cond:
            self.counters.calls += 1
            self._queue.append(mine)
            while not mine.done and self._running:
                self._cond.wait()
            leads = not mine.done
            if leads:
                self._running = True  # nobody is running the encoder: this thread leads
        if leads:
            try:
                while not mine.done:
                    self._run_one_batch()
            finally:
                with self._cond:
                    self._running = False
                    self._cond.notify_all()  # a waiting caller takes over what is queued
        if mine.error is not None:
            raise mine.error
        assert mine.rows is not None
        return mine.rows

    def _run_one_batch(self) -> None:
        """Take queued calls (oldest first, whole calls, up to ``max_batch`` pictures), run
        them as one batch, and give every call its rows (or the batch's error)."""
        with self._cond:
            batch: list[_Pending] = []
            count = 0
            while self._queue and (
                not batch or count + len(self._queue[0].images) <= self.max_batch
            ):
                item = self._queue.popleft()
                batch.append(item)
                count += len(item.images)
        images = [image for item in batch for image in item.images]
        try:
            rows = self.inner.embed_images(images)
        except BaseException as exc:
            with self._cond:
                for item in batch:
                    item.error, item.done = exc, True
                self._cond.notify_all()
            return
        with self._cond:
            start = 0
            for item in batch:
                end = start + len(item.images)
                item.rows = np.ascontiguousarray(rows[start:end])
                item.done = True
                start = end
            self.counters.runs += 1
            self.counters.images += count
            self.counters.largest = max(self.counters.largest, count)
            self.counters.sizes[count] = self.counters.sizes.get(count, 0) + 1
            self._cond.notify_all()
