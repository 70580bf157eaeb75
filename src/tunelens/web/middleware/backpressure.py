"""Back-pressure: a bounded queue in front of the engine's worker pool.

Reading a picture is CPU work (decode, encode, rank: tens of milliseconds on the colour encoder,
more with CLIP or a heatmap). The server runs ``engine_concurrency`` such calls at once; without
a bound, a burst of uploads would wait in an ever-growing queue, each holding its decoded body in
memory, and every caller would time out together. :class:`WorkQueue` admits at most
``engine_concurrency + max_queue`` calls; one more is refused at once with
**503 ``overloaded``** and a ``Retry-After`` estimated from recent service times, so clients (and
load balancers) back off instead of piling up. The refusal costs no worker time: it happens
before the call is queued.

The check and the increment happen on the event loop with no ``await`` between them, so the
count is exact without a lock.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from starlette.responses import Response

from tunelens.core.errors import TunelensError
from tunelens.web.errors import ErrorAnswer

T = TypeVar("T")

#: bounds of the Retry-After hint: never "now", never so long a client gives up for good
MIN_RETRY_AFTER_S = 1
MAX_RETRY_AFTER_S = 30


class Overloaded(TunelensError):
    """Every worker is busy and the queue is full (HTTP 503 with ``Retry-After``)."""

    default_code = "overloaded"
    default_status = 503

    def __init__(self, message: str, *, retry_after: int, details: dict[str, Any]) -> None:
        super().__init__(message, details={**details, "retry_after_s": retry_after})
        self.retry_after = retry_after


class WorkQueue:
    """Runs CPU-bound calls in worker threads, ``concurrency`` at once, ``max_queue`` waiting."""

    def __init__(self, concurrency: int, max_queue: int) -> None:
        self.concurrency = concurrency
        self.max_queue = max_queue
        self.limiter = anyio.CapacityLimiter(concurrency)
        self.pending = 0  # admitted and not finished: running + waiting
        self.refused = 0
        self._service_s = 0.1  # moving average of one call's duration, for Retry-After

    @property
    def capacity(self) -> int:
        return self.concurrency + self.max_queue

    def retry_after(self) -> int:
        """Seconds until the queue has probably drained enough to take one more call."""
        ahead = max(1, self.pending - self.concurrency + 1)
        estimate = ahead * self._service_s / self.concurrency
        return max(MIN_RETRY_AFTER_S, min(MAX_RETRY_AFTER_S, math.ceil(estimate)))

    def admit(self) -> None:
        """Refuse at once when full; the caller must then not run (and not call ``done``)."""
        if self.pending >= self.capacity:
            self.refused += 1
            retry = self.retry_after()
            raise Overloaded(
                "tunelens is busy reading other pictures right now; please try again in "
                f"{retry} second{'s' if retry != 1 else ''}.",
                retry_after=retry,
                details={"running": self.concurrency, "queue_limit": self.max_queue},
            )
        self.pending += 1

    async def run(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        self.admit()
        call = partial(func, *args, **kwargs)

        def timed() -> T:
            # timed in the worker: only the service time counts, not the wait for a worker
            start = time.perf_counter()
            try:
                return call()
            finally:
                self._service_s = 0.8 * self._service_s + 0.2 * (time.perf_counter() - start)

        try:
            return await anyio.to_thread.run_sync(timed, limiter=self.limiter)
        finally:
            self.pending -= 1

    def snapshot(self) -> dict[str, int]:
        return {
            "pending": self.pending,
            "capacity": self.capacity,
            "refused": self.refused,
        }


async def overloaded_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Overloaded)
    answer = ErrorAnswer(
        503, exc.code, exc.message, exc.details, headers={"Retry-After": str(exc.retry_after)}
    )
    return answer.response(request.url.path)


def install(app: FastAPI) -> None:
    """Answer :class:`Overloaded` with its ``Retry-After`` header (the generic handler has none)."""
    app.add_exception_handler(Overloaded, overloaded_handler)
