"""The app factory: ``create_app()`` builds the FastAPI app; its lifespan loads the engine once.

If the engine cannot load, the server still starts (see :mod:`tunelens.web.services.startup`):
``/health`` reports the problem and every route that needs the engine answers 503 with the
error's code. The database is opened (and migrated to head) next, the same way: if it fails,
recommendations still work, unrecorded, and the routes that need it answer 503
``database_unavailable`` (see :mod:`tunelens.web.services.data_loop`). A process manager
therefore sees a live server with a readable reason instead of a crash loop.

Tests build the app in one line, sharing one loaded engine::

    app = create_app(settings, engine=engine)
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tunelens import __version__
from tunelens.core.settings import EncoderChoice, Settings, get_settings
from tunelens.explain.llm import llm_configured
from tunelens.pipeline import Pipeline, observe_stages
from tunelens.playlists.regional import PlaylistError, PlaylistStore
from tunelens.web.assets import STATIC_DIR
from tunelens.web.errors import install_error_handlers
from tunelens.web.middleware import backpressure, security_headers
from tunelens.web.middleware.access_log import RequestLogMiddleware
from tunelens.web.middleware.body_limit import BodyLimitMiddleware, UploadLimits
from tunelens.web.middleware.metrics import MetricsMiddleware
from tunelens.web.middleware.metrics import observe_stages as count_stages
from tunelens.web.middleware.request_id import ForwardedMiddleware, TrustedProxies
from tunelens.web.routes import OPS_ROUTER, ROUTERS
from tunelens.web.routes.docs import mount_docs_assets
from tunelens.web.services.data_loop import DataLoop
from tunelens.web.services.identity import ClientSigner
from tunelens.web.services.predictions import PredictionCache
from tunelens.web.services.startup import start_engine
from tunelens.web.services.state import ServiceState
from tunelens.web.services.stats import ServiceStats
from tunelens.web.settings import WebSettings

__all__ = ["STATIC_DIR", "create_app", "lifespan"]

log = logging.getLogger("tunelens.web")

DESCRIPTION = """\
tunelens reads a picture's mood and vibe and recommends songs that feel the same.

* **DyLuMo-compatible routes** (`/health`, `/stats`, `/emotions`, `POST /recommend`) keep
  DyLuMo's paths and field names; tunelens adds extra keys only.
* **`/api/v1`** is tunelens's own API: recommend, batch recommend, tracks, "more like this",
  vocabularies, feedback and (with the admin token) analytics.
* **Errors** always look like `{"error": {"code", "message", "details"}}` (plus DyLuMo's
  `status`/`message` outside `/api/`).
"""

OPENAPI_TAGS = [
    {"name": "DyLuMo-compatible", "description": "DyLuMo's paths and field names."},
    {"name": "recommend", "description": "Pictures in, songs out."},
    {"name": "catalogue", "description": "The songs tunelens can recommend."},
    {"name": "vocabulary", "description": "Emotions, vibe genres and scene tags."},
    {"name": "feedback", "description": "Like, dislike, not interested, played."},
    {
        "name": "listener",
        "description": "An anonymous, server-signed client identity (no account).",
    },
    {"name": "admin", "description": "Analytics; needs the admin token."},
]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await start_engine(app.state.tunelens)
    data_loop: DataLoop = app.state.data_loop
    await data_loop.start()  # database + uploads + the outbox flush task; never raises
    try:
        yield
    finally:
        await data_loop.stop()


def create_app(
    settings: Settings | None = None,
    *,
    engine: Pipeline | None = None,
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
        openapi_tags=OPENAPI_TAGS,
        docs_url=None,  # served from local files by routes/docs.py
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
    app.state.identity = ClientSigner.from_settings(settings)  # signed listener ids
    app.state.data_loop = DataLoop(settings, retry_s=web.storage_retry_s)
    app.state.playlists = _playlists(settings)
    install_error_handlers(app)
    backpressure.install(app)
    for router in ROUTERS:
        app.include_router(router)
    mount_docs_assets(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _add_middleware(app, settings, web, stats)
    return app


def _playlists(settings: Settings) -> PlaylistStore:
    """The playlists file, read once now so a broken one is logged at start-up (the server
    still starts; ``/api/v1/playlists`` says why)."""
    store = PlaylistStore(settings.playlists_file)
    try:
        store.get()
    except PlaylistError as exc:
        log.error("playlists are unavailable: %s", exc.message, extra={"code": exc.code})
    return store


def _add_middleware(
    app: FastAPI, settings: Settings, web: WebSettings, stats: ServiceStats
) -> None:
    """The middleware, innermost first (each one added wraps everything added before it)."""
    trusted = TrustedProxies.parse(web.trusted_proxies)
    # the access log also sees requests the body limit refuses
    app.add_middleware(BodyLimitMiddleware, limits=UploadLimits(settings, web))
    security_headers.install(app, web)  # rate limits, CORS (when configured), security headers
    app.add_middleware(RequestLogMiddleware, stats=stats)
    # /ready and /metrics; then request ids + trusted proxy headers, outermost: they must be
    # settled before rate limits, the access log and the metrics look at the client
    app.include_router(OPS_ROUTER)
    observe_stages(count_stages)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(ForwardedMiddleware, trusted=trusted)
