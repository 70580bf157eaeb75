"""The admin dashboard (``/admin``) and its JSON (``/api/v1/admin/stats``), behind a token.

Who counts as an admin is :mod:`tunelens.web.services.admin_access`; with no token configured
the admin pages do not exist: 404 ``admin_disabled`` with a message saying how to turn them
on. The charts are drawn on the server as SVG (:mod:`tunelens.web.services.dashboard`); the
page runs no script of its own. The page routes answer HTML to browsers (``Accept:
text/html``) and the one JSON error shape to everything else, like every other route.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from tunelens import __version__, i18n
from tunelens.core.errors import TunelensError
from tunelens.storage import repository as repo
from tunelens.web.deps import LoopDep, StateDep
from tunelens.web.errors import ErrorAnswer
from tunelens.web.schemas.catalogue_admin import CatalogueAdd, CatalogueChange, CatalogueRemove
from tunelens.web.schemas.errors import error_responses
from tunelens.web.services.admin_access import (
    ADMIN_COOKIE,
    ADMIN_COOKIE_MAX_AGE,
    DISABLED_MESSAGE,
    Access,
    access,
    configured_token,
    session_value,
    token_matches,
)
from tunelens.web.services.catalogue_admin import add_songs, remove_songs
from tunelens.web.services.dashboard import dashboard_charts
from tunelens.web.services.data_loop import DataLoop
from tunelens.web.services.rendering import CONTENT_SECURITY_POLICY, page_language, render_page
from tunelens.web.services.state import ServiceState

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/admin", tags=["admin"])

DaysQuery = Annotated[int, Query(ge=1, le=366, description="days covered by per-day figures")]
TopQuery = Annotated[int, Query(ge=1, le=100, description="songs in the top lists")]


def _refusal(request: Request, level: Access) -> JSONResponse:
    if level is Access.OFF:
        answer = ErrorAnswer(404, "admin_disabled", DISABLED_MESSAGE)
    elif level is Access.WRONG:
        answer = ErrorAnswer(403, "admin_token_invalid", "That admin token is wrong.")
    else:
        answer = ErrorAnswer(
            401,
            "admin_token_required",
            "This needs the admin token: send `Authorization: Bearer <token>`.",
            headers={"WWW-Authenticate": 'Bearer realm="tunelens admin"'},
        )
    return answer.response(request.url.path)


async def _summary(loop: DataLoop, days: int, top: int) -> dict[str, Any]:
    db = loop.require_db()
    summary = await loop.run(repo.stats_summary, db, days=days, top=top)
    return summary.to_dict()


@api.get("/stats", summary="Analytics for the admin dashboard (needs the admin token)")
async def admin_stats(
    request: Request,
    state: StateDep,
    loop: LoopDep,
    days: DaysQuery = 30,
    top: TopQuery = 10,
) -> Response:
    """Predictions, latency p50/p95, emotions per day, feedback, like rates per emotion and
    genre, most recommended and most liked songs, uploads kept, plus the heads in use.
    401 `admin_token_required`, 403 `admin_token_invalid`, 404 `admin_disabled`, 503
    `database_unavailable`."""
    level = access(request, state)
    if level is not Access.OK:
        return _refusal(request, level)
    body = await _summary(loop, days, top)
    engine = state.engine
    body.update(
        days=days,
        top=top,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        heads=engine.reading_heads() if engine is not None else None,
        database=loop.health(),
    )
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


# --------------------------------------------------------------------------- pages


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """An admin page in the negotiated language (as the listener page: ``?lang=``, cookie,
    ``Accept-Language``), with its numbers formatted for that locale."""
    choice = page_language(request)
    tr = i18n.translator(choice.lang)
    full = {"version": __version__, "number": tr.integer, "percent": tr.percent, **context}
    response = render_page(request, name, full, choice, status)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _page_refusal(request: Request, level: Access) -> Response:
    """Not an admin: the login form (or the "off" page) for browsers, JSON for the rest."""
    if not _wants_html(request):
        return _refusal(request, level)
    if level is Access.OFF:
        return _page(request, "admin.html", {"view": "off", "error": DISABLED_MESSAGE}, 404)
    tr = i18n.translator(page_language(request).lang)
    error = tr.gettext("That admin token is wrong.") if level is Access.WRONG else None
    status = 403 if level is Access.WRONG else 401
    return _page(request, "admin.html", {"view": "login", "error": error}, status)


@pages.get("/admin", response_class=HTMLResponse)
async def admin_page(
    request: Request,
    state: StateDep,
    loop: LoopDep,
    days: DaysQuery = 30,
    top: TopQuery = 10,
) -> Response:
    level = access(request, state)
    if level is not Access.OK:
        return _page_refusal(request, level)
    try:
        summary = await _summary(loop, days, top)
    except TunelensError as exc:
        if not _wants_html(request):
            raise
        return _page(request, "admin.html", {"view": "error", "error": exc.message}, 503)
    tr = i18n.translator(page_language(request).lang)
    engine = state.engine
    return _page(
        request,
        "admin.html",
        {
            "view": "dashboard",
            "summary": summary,
            "days": days,
            "charts": dashboard_charts(summary, tr),
            "heads": engine.head_info() if engine is not None else {},
            "database": loop.health(),
            # the operator's diagnostics, in full (visitors only read a short line)
            "notices": list(engine.notices) if engine is not None else [],
            "engine_error": state.error,
        },
    )


@pages.post("/admin/login", response_class=HTMLResponse)
async def admin_login(
    request: Request, state: StateDep, token: Annotated[str, Form()] = ""
) -> Response:
    configured = configured_token(state)
    if configured is None:
        return _page_refusal(request, Access.OFF)
    if not token.strip():
        return _page_refusal(request, Access.MISSING)
    if not token_matches(token.strip(), configured):
        return _page_refusal(request, Access.WRONG)
    response = RedirectResponse("/admin", status_code=303)
    response.set_cookie(
        ADMIN_COOKIE,
        session_value(configured),
        max_age=ADMIN_COOKIE_MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@pages.post("/admin/logout")
async def admin_logout(request: Request, state: StateDep) -> Response:
    level = access(request, state)
    if level is not Access.OK:
        return _page_refusal(request, level)
    response = RedirectResponse("/admin", status_code=303)
    response.delete_cookie(ADMIN_COOKIE, path="/")
    return response


# --------------------------------------------------------------------------- catalogue changes


async def _change(
    request: Request, state: ServiceState, work: Callable[[], dict[str, Any]]
) -> Response:
    level = access(request, state)
    if level is not Access.OK:
        return _refusal(request, level)
    body = await anyio.to_thread.run_sync(work)
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@api.post(
    "/catalogue/tracks",
    response_model=CatalogueChange,
    responses=error_responses(401, 403, 404, 422, 503),
    summary="Add songs to the catalogue without a rebuild (needs the admin token)",
)
async def admin_catalogue_add(request: Request, state: StateDep, body: CatalogueAdd) -> Response:
    """Validates the songs like a JSON Lines source, writes a new catalogue version and
    switches this server to it (the others within `catalog_check_seconds`). A song whose id
    is already there is replaced. 422 `catalog_invalid` when no song is valid, 422
    `catalog_remote` for a shared s3:// catalogue, 503 `catalog_missing`/`catalog_outdated`."""
    return await _change(request, state, partial(add_songs, state, body.tracks))


@api.post(
    "/catalogue/remove",
    response_model=CatalogueChange,
    responses=error_responses(401, 403, 404, 422, 503),
    summary="Remove songs from the catalogue by id (needs the admin token)",
)
async def admin_catalogue_remove(
    request: Request, state: StateDep, body: CatalogueRemove
) -> Response:
    """Marks the songs removed in a new catalogue version and switches to it; ids not in the
    catalogue are listed in `unknown`. 404 `not_found` when none of the ids is there."""
    return await _change(request, state, partial(remove_songs, state, body.ids))
