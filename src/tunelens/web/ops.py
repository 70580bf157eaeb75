"""Operator routes and plumbing: ``/ready``, ``/metrics``, request ids and trusted proxies.

``/health`` answers 200 while the process runs (a process manager's liveness probe: restart
only a dead server). ``/ready`` answers 200 only when this instance can do its job — models and
catalogue loaded, database reachable — and 503 otherwise, so a load balancer sends traffic
only to instances that can answer it, while they finish loading or while their database is
away. ``/metrics`` is Prometheus's text format (see :mod:`tunelens.web.metrics`); the shipped
nginx config lets only loopback scrape it.

:func:`install` is the one call ``create_app`` makes; it must run after every other
middleware is added, because it adds the outermost two: request ids and forwarded headers
must be settled before rate limits, the access log and the metrics look at the client.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import text
from starlette.responses import Response

from tunelens import pipeline as engine_module
from tunelens.web import metrics
from tunelens.web.data_loop import DataLoop, get_data_loop
from tunelens.web.errors import error_response
from tunelens.web.models import ErrorResponse
from tunelens.web.request_id import ForwardedMiddleware, TrustedProxies
from tunelens.web.settings import WebSettings
from tunelens.web.state import ServiceState, get_state

#: a database that takes longer than this to answer ``SELECT 1`` is not ready
DB_PING_TIMEOUT_S = 2.0
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

router = APIRouter(tags=["operations"])

StateDep = Annotated[ServiceState, Depends(get_state)]
LoopDep = Annotated[DataLoop, Depends(get_data_loop)]


class ReadyCheck(BaseModel):
    status: Literal["ok", "failing", "skipped"]
    code: str | None = Field(default=None, description="why it fails (a stable error code)")
    message: str | None = None


class ReadyResponse(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, ReadyCheck]


def _ping(loop: DataLoop) -> None:
    db = loop.db
    if db is None:
        raise RuntimeError("no database")
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


async def _database_check(loop: DataLoop, required: bool) -> ReadyCheck:
    if not required:
        return ReadyCheck(status="skipped")
    if loop.db is None:
        if loop.error is not None:
            return ReadyCheck(status="failing", code=loop.error.code, message=loop.error.message)
        return ReadyCheck(
            status="failing", code="database_starting", message="The database is still opening."
        )
    try:
        with anyio.fail_after(DB_PING_TIMEOUT_S):
            await anyio.to_thread.run_sync(_ping, loop, abandon_on_cancel=True)
    except TimeoutError:
        return ReadyCheck(
            status="failing",
            code="database_unreachable",
            message=f"The database did not answer within {DB_PING_TIMEOUT_S:g} s.",
        )
    except Exception as exc:
        # the driver's text can hold host names but not passwords; keep only the type
        return ReadyCheck(
            status="failing",
            code="database_unreachable",
            message=f"The database did not answer ({type(exc).__name__}).",
        )
    return ReadyCheck(status="ok")


def _engine_checks(state: ServiceState) -> dict[str, ReadyCheck]:
    engine = state.engine
    if engine is None:
        error = state.error
        failing = ReadyCheck(
            status="failing",
            code=error.code if error else "not_ready",
            message=error.message if error else "The models and catalogue are still loading.",
        )
        return {"engine": failing, "catalogue": failing}
    catalogue = (
        ReadyCheck(status="ok")
        if len(engine.recommender.tracks) > 0
        else ReadyCheck(status="failing", code="catalog_empty", message="The catalogue is empty.")
    )
    return {"engine": ReadyCheck(status="ok"), "catalogue": catalogue}


@router.get(
    "/ready",
    response_model=ReadyResponse,
    responses={503: {"model": ErrorResponse, "description": "not ready (code says why)"}},
    summary="Readiness: can this instance answer recommendations now?",
)
async def ready(state: StateDep, loop: LoopDep) -> Any:
    """200 when the models and catalogue are loaded and the database answers `SELECT 1`
    (unless `TUNELENS_READY_REQUIRES_DATABASE=false`); otherwise 503 in the one error shape,
    with the first failing check's code and every check under `details.checks`."""
    checks = _engine_checks(state)
    checks["database"] = await _database_check(loop, state.web.ready_requires_database)
    failing = [check for check in checks.values() if check.status == "failing"]
    if not failing:
        return ReadyResponse(checks=checks)
    first = failing[0]
    return error_response(
        "/ready",
        503,
        first.code or "not_ready",
        first.message or "Not ready.",
        {"checks": {name: check.model_dump() for name, check in checks.items()}},
        headers={"Retry-After": "5", "Cache-Control": "no-store"},
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {PROMETHEUS_CONTENT_TYPE: {}}}},
    summary="Prometheus metrics",
)
async def metrics_route(state: StateDep, loop: LoopDep) -> Response:
    """Requests by route and status, latency histograms per request and per engine stage
    (decode, encode, faces, rank, explain, heatmap), model and catalogue info, database state
    and feedback counts, in Prometheus's text format."""
    from prometheus_client import generate_latest

    feedback = await loop.feedback_figures()
    database_up = loop.db is not None if loop.started else None
    registry = metrics.scrape_registry(metrics.facts_from(state, feedback, database_up))
    body = await anyio.to_thread.run_sync(generate_latest, registry)
    return Response(body, media_type=PROMETHEUS_CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def install(app: FastAPI, web: WebSettings) -> None:
    """Routes, the stage hook, metrics and the outermost forwarded/request-id middleware."""
    trusted = TrustedProxies.parse(web.trusted_proxies)
    app.include_router(router)
    if metrics.observe_stages not in engine_module.stage_observers:
        engine_module.stage_observers.append(metrics.observe_stages)
    app.add_middleware(metrics.MetricsMiddleware)
    app.add_middleware(ForwardedMiddleware, trusted=trusted)
