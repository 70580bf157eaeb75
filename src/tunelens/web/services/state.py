"""What the running app holds: settings, the engine (or why it is missing), stats, a limiter —
and :class:`Serving`, one request's view of it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Request

from tunelens.core.errors import TunelensError
from tunelens.core.settings import EncoderChoice, Settings
from tunelens.pipeline import Pipeline
from tunelens.web.errors import ENGINE_STARTING, ENGINE_UNAVAILABLE, EngineUnavailable
from tunelens.web.middleware.backpressure import WorkQueue
from tunelens.web.services.catalogue_watch import CatalogueWatch
from tunelens.web.services.data_loop import DataLoop
from tunelens.web.services.predictions import PredictionCache
from tunelens.web.services.stats import ServiceStats
from tunelens.web.settings import WebSettings

T = TypeVar("T")


@dataclass
class ServiceState:
    settings: Settings
    web: WebSettings
    stats: ServiceStats
    encoder_choice: EncoderChoice | None = None
    catalog_dir: Path | None = None
    engine: Pipeline | None = None
    error: TunelensError | None = None
    load_seconds: float | None = None
    limiter: anyio.CapacityLimiter | None = None
    #: the bounded queue in front of the workers (set at start-up; see middleware/backpressure)
    work: WorkQueue | None = None
    started_wall: float = field(default_factory=time.time)
    predictions: PredictionCache = field(default_factory=PredictionCache)
    #: notices a new catalogue version and swaps ``engine`` (set at start-up)
    watch: CatalogueWatch | None = None

    def require_engine(self) -> Pipeline:
        """The loaded engine, or a 503 with the failure's code and a line for the visitor.

        The reason itself (a missing folder, the command that fixes it) is the operator's: it
        is in the log, ``/health``, ``/ready`` and the admin page, never in a visitor's answer.
        """
        engine = self.engine
        if engine is not None:
            if self.watch is not None:
                self.watch.poll(self)
            return engine
        if self.error is not None:
            raise EngineUnavailable(ENGINE_UNAVAILABLE, code=self.error.code)
        raise EngineUnavailable(ENGINE_STARTING, code="not_ready")

    async def run(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run CPU-bound engine work in a worker thread, at most ``engine_concurrency`` at once
        (and at most ``max_queue`` waiting: beyond that, 503 ``overloaded``)."""
        if self.work is not None:
            return await self.work.run(func, *args, **kwargs)
        return await anyio.to_thread.run_sync(partial(func, *args, **kwargs), limiter=self.limiter)


@dataclass(frozen=True)
class Serving:
    """One request and the parts of the app its handler works with (see
    :func:`tunelens.web.deps.serving`): one parameter instead of three."""

    request: Request
    state: ServiceState
    loop: DataLoop
