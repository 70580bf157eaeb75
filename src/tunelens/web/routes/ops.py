"""Operator routes: ``/ready`` and ``/metrics``.

``/health`` answers 200 while the process runs (a process manager's liveness probe: restart
only a dead server). ``/ready`` answers 200 only when this instance can do its job — models and
catalogue loaded, database reachable — and 503 otherwise, so a load balancer sends traffic
only to instances that can answer it, while they finish loading or while their database is
away. ``/metrics`` is Prometheus's text format (see :mod:`tunelens.web.middleware.metrics` and
:mod:`tunelens.web.services.metrics_facts`); the shipped nginx config lets only loopback scrape
it.
"""

from __future__ import annotations

from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter
from prometheus_client import generate_latest
from sqlalchemy import text
from starlette.responses import Response

from tunelens.web.deps import LoopDep, StateDep
from tunelens.web.errors import ErrorAnswer
from tunelens.web.schemas.errors import ErrorResponse
from tunelens.web.schemas.ops import ReadyCheck, ReadyResponse
from tunelens.web.services.data_loop import DataLoop
from tunelens.web.services.metrics_facts import facts_from, scrape_registry
from tunelens.web.services.state import ServiceState

#: a database that takes longer than this to answer ``SELECT 1`` is not ready
DB_PING_TIMEOUT_S = 2.0
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

router = APIRouter(tags=["operations"])


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
    served = (
        f"version {engine.index.version}, hash {engine.index.catalogue_hash[:12]}, "
        f"{engine.catalogue_size} songs"
    )
    catalogue = (
        ReadyCheck(status="ok", detail=served)
        if engine.catalogue_size > 0
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
    answer = ErrorAnswer(
        503,
        first.code or "not_ready",
        first.message or "Not ready.",
        {"checks": {name: check.model_dump() for name, check in checks.items()}},
        headers={"Retry-After": "5", "Cache-Control": "no-store"},
    )
    return answer.response("/ready")


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
    feedback = await loop.feedback_figures()
    database_up = loop.db is not None if loop.started else None
    registry = scrape_registry(facts_from(state, feedback, database_up))
    body = await anyio.to_thread.run_sync(generate_latest, registry)
    return Response(body, media_type=PROMETHEUS_CONTENT_TYPE, headers={"Cache-Control": "no-store"})
