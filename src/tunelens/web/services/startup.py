"""Start-up of one app: the work queue, then the engine, loaded once in a worker thread.

If the engine cannot load (no catalogue, missing weights, a broken index), start-up logs one
clear line and the server keeps running: ``/health`` reports the problem and every route that
needs the engine answers 503 with the error's code. A process manager therefore sees a live
server with a readable reason instead of a crash loop.
"""

from __future__ import annotations

import logging
import time
from functools import partial

import anyio.to_thread

from tunelens.core.errors import TunelensError
from tunelens.pipeline import Pipeline, build_pipeline
from tunelens.web.middleware.backpressure import WorkQueue
from tunelens.web.services.catalogue_watch import CatalogueWatch, version_probe
from tunelens.web.services.state import ServiceState

log = logging.getLogger("tunelens.web")


async def start_engine(state: ServiceState) -> None:
    """Set up the work queue and, unless the app was given one, load the engine (never
    raises: a failure is kept in ``state.error``)."""
    state.work = WorkQueue(state.web.engine_concurrency, state.web.max_queue)
    state.limiter = state.work.limiter
    if state.engine is not None:
        return
    start = time.perf_counter()
    state.watch = _watch(state)
    engine = await _load(state)
    if engine is None:
        return
    state.engine = engine
    state.load_seconds = round(time.perf_counter() - start, 3)
    if state.web.micro_batch > 1 and state.web.engine_concurrency > 1:
        engine.share_encoder_runs(state.web.micro_batch)
    _announce(engine, state.load_seconds)


def _watch(state: ServiceState) -> CatalogueWatch | None:
    """The hot switch of the catalogue being opened (None when turned off)."""
    if state.web.catalog_check_seconds <= 0:
        return None
    location = str(state.catalog_dir) if state.catalog_dir else state.settings.catalog_location
    try:
        probe = version_probe(location, state.settings)
    except TunelensError as exc:
        log.warning("no catalogue hot switch: %s", exc.message, extra={"code": exc.code})
        return None
    return CatalogueWatch(location, probe, state.web.catalog_check_seconds)


async def _load(state: ServiceState) -> Pipeline | None:
    """The loaded engine, or None with ``state.error`` saying why (logged once)."""
    try:
        return await anyio.to_thread.run_sync(
            partial(
                build_pipeline,
                state.settings,
                encoder=state.encoder_choice,
                catalog_dir=state.catalog_dir,
            )
        )
    except TunelensError as exc:
        state.error = exc
        log.error(
            "cannot recommend: %s [%s] — serving /health, engine routes answer 503 until "
            "this is fixed and the server restarted",
            exc.message,
            exc.code,
            extra={"code": exc.code},
        )
    except Exception as exc:  # a bug or a broken install: still no crash loop
        state.error = TunelensError(
            f"The engine failed to load ({type(exc).__name__}: {exc}).", code="engine_failed"
        )
        log.exception(
            "cannot recommend: the engine failed to load", extra={"code": "engine_failed"}
        )
    return None


def _announce(engine: Pipeline, load_seconds: float) -> None:
    log.info(
        "engine ready: encoder %s, %d songs, loaded in %.2fs",
        engine.info.name,
        engine.catalogue_size,
        load_seconds,
        extra={
            "encoder": engine.info.name,
            "pretrained": engine.info.pretrained,
            "fallback": engine.info.fallback,
            "catalogue_size": engine.catalogue_size,
        },
    )
    for notice in engine.notices:
        log.warning("notice: %s", notice)
