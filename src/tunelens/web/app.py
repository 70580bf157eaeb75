"""The app factory: ``create_app()`` builds the FastAPI app; its lifespan loads the engine once.

If the engine cannot load (no catalogue, missing weights, a broken index), start-up logs one
clear line and the server keeps running: ``/health`` reports the problem and every route that
needs the engine answers 503 with the error's code. The database is opened (and migrated to
head) next, the same way: if it fails, recommendations still work, unrecorded, and the routes
that need it answer 503 ``database_unavailable`` (see :mod:`tunelens.web.data_loop`). A process manager therefore sees a live
server with a readable reason instead of a crash loop.

Tests build the app in one line, sharing one loaded engine::

    app = create_app(settings, engine=engine)
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tunelens import __version__
from tunelens.core.errors import TunelensError
from tunelens.core.settings import EncoderChoice, Settings, get_settings
from tunelens.explain.llm import llm_configured
from tunelens.playlists.regional import PlaylistError, PlaylistStore
from tunelens.web import admin, api, backpressure, explain_api, feedback_api, ops, pages, security
from tunelens.web.backpressure import WorkQueue
from tunelens.web.data_loop import DataLoop
from tunelens.web.errors import install_error_handlers
from tunelens.web.logging_setup import RequestLogMiddleware
from tunelens.web.predictions import PredictionCache
from tunelens.web.settings import WebSettings
from tunelens.web.state import ServiceState
from tunelens.web.stats import ServiceStats
from tunelens.web.uploads import BodyLimitMiddleware, UploadLimits

if TYPE_CHECKING:
    from tunelens.pipeline import Engine

log = logging.getLogger("tunelens.web")

STATIC_DIR = Path(__file__).parent / "static"

DESCRIPTION = """\
tunelens reads a picture's mood and vibe and recommends songs that feel the same.

* **DyLuMo-compatible routes** (`/health`, `/stats`, `/emotions`, `POST /recommend`) keep
  DyLuMo's paths and field names; tunelens adds extra keys only.
* **`/api/v1`** is tunelens's own API: recommend, batch recommend, tracks, "more like this",
  vocabularies, feedback and (with the admin token) analytics.
* **Errors** always look like `{"error": {"code", "message", "details"}}` (plus DyLuMo's
  `status`/`message` outside `/api/`).
"""


def _load_engine(
    settings: Settings, encoder: EncoderChoice | None, catalog_dir: Path | None
) -> Engine:
    from tunelens.pipeline import Engine

    return Engine.load(settings, encoder=encoder, catalog_dir=catalog_dir)


async def _start(state: ServiceState) -> None:
    state.work = WorkQueue(state.web.engine_concurrency, state.web.max_queue)
    state.limiter = state.work.limiter
    if state.engine is not None:
        return
    start = time.perf_counter()
    try:
        state.engine = await anyio.to_thread.run_sync(
            partial(_load_engine, state.settings, state.encoder_choice, state.catalog_dir)
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
        return
    except Exception as exc:  # a bug or a broken install: still no crash loop
        state.error = TunelensError(
            f"The engine failed to load ({type(exc).__name__}: {exc}).", code="engine_failed"
        )
        log.exception(
            "cannot recommend: the engine failed to load", extra={"code": "engine_failed"}
        )
        return
    state.load_seconds = round(time.perf_counter() - start, 3)
    engine = state.engine
    if state.web.micro_batch > 1 and state.web.engine_concurrency > 1:
        from tunelens.vision.microbatch import MicroBatchingEncoder

        engine.encoder = MicroBatchingEncoder(engine.encoder, max_batch=state.web.micro_batch)
    log.info(
        "engine ready: encoder %s, %d songs, loaded in %.2fs",
        engine.info.name,
        len(engine.recommender.tracks),
        state.load_seconds,
        extra={
            "encoder": engine.info.name,
            "pretrained": engine.info.pretrained,
            "fallback": engine.info.fallback,
            "catalogue_size": len(engine.recommender.tracks),
        },
    )
    for notice in engine.notices:
        log.warning("notice: %s", notice)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await _start(app.state.tunelens)
    data_loop: DataLoop = app.state.data_loop
    await data_loop.start()  # database + uploads + the outbox flush task; never raises
    try:
        yield
    finally:
        await data_loop.stop()


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    encoder: EncoderChoice | None = None,
    catalog_dir: Path | None = None,
    web_settings: WebSettings | None = None,
) -> FastAPI:
    """Build the app. With ``engine`` given, start-up uses it instead of loading one."""
    settings = settings or (engine.settings if engine is not None else get_settings())
    web = web_settings or WebSettings()
    stats = ServiceStats(window=web.stats_window)
    app = FastAPI(
        title="tunelens",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "DyLuMo-compatible", "description": "DyLuMo's paths and field names."},
            {"name": "recommend", "description": "Pictures in, songs out."},
            {"name": "catalogue", "description": "The songs tunelens can recommend."},
            {"name": "vocabulary", "description": "Emotions, vibe genres and scene tags."},
            {"name": "feedback", "description": "Like, dislike, not interested, played."},
            {"name": "admin", "description": "Analytics; needs the admin token."},
        ],
    )
    app.state.tunelens = ServiceState(
        settings=settings,
        web=web,
        stats=stats,
        encoder_choice=encoder,
        catalog_dir=catalog_dir,
        engine=engine,
        predictions=PredictionCache(
            web.prediction_cache_size,
            keep_images=llm_configured(settings),
            directory=web.prediction_cache_dir,
        ),
    )
    app.state.data_loop = DataLoop(settings, retry_s=web.storage_retry_s)
    app.state.playlists = PlaylistStore(settings.playlists_file)
    try:
        app.state.playlists.get()
    except PlaylistError as exc:  # the server still starts; /api/v1/playlists says why
        log.error("playlists are unavailable: %s", exc.message, extra={"code": exc.code})
    install_error_handlers(app)
    backpressure.install(app)
    app.include_router(api.dylumo)
    app.include_router(api.v1)
    app.include_router(explain_api.router)
    app.include_router(feedback_api.router)
    app.include_router(admin.api)
    app.include_router(admin.pages)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # added last = outermost: the access log also sees requests the body limit refuses
    app.add_middleware(BodyLimitMiddleware, limits=UploadLimits(settings, web))
    security.install(app, web)  # rate limits, CORS (when configured), security headers
    app.add_middleware(RequestLogMiddleware, stats=stats)
    ops.install(app, web)  # /ready, /metrics; request ids + trusted proxy headers (outermost)
    return app
