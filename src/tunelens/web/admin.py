"""The admin dashboard (``/admin``) and its JSON (``/api/v1/admin/stats``), behind a token.

The token is ``TUNELENS_ADMIN_TOKEN`` (a secret: env, ``.env`` or a secret file). A request is
an admin's when it carries ``Authorization: Bearer <token>``, or the ``tunelens_admin`` cookie
the login form sets (HttpOnly, SameSite=Strict; its value is an HMAC of the token, never the
token itself, so rotating the token logs every browser out). Comparisons use
:func:`hmac.compare_digest`. With no token configured the admin pages do not exist: 404
``admin_disabled`` with a message saying how to turn them on.

The charts are drawn on the server as SVG (:mod:`tunelens.web.charts`); the page runs no
script of its own. The page routes answer HTML to browsers (``Accept: text/html``) and the
one JSON error shape to everything else, like every other route.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from tunelens import __version__, i18n
from tunelens.core.errors import TunelensError
from tunelens.storage import repository as repo
from tunelens.web import charts
from tunelens.web.data_loop import DataLoop, get_data_loop
from tunelens.web.errors import error_response
from tunelens.web.pages import CONTENT_SECURITY_POLICY, page_language, render_page
from tunelens.web.state import ServiceState, get_state

ADMIN_COOKIE = "tunelens_admin"
ADMIN_COOKIE_MAX_AGE = 12 * 3600
_SESSION_CONTEXT = b"tunelens-admin-session-v1"

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/admin", tags=["admin"])


class Access(Enum):
    OFF = "off"  # no token configured
    MISSING = "missing"  # no credentials sent
    WRONG = "wrong"  # a bearer token that does not match
    OK = "ok"


def session_value(token: str) -> str:
    """The admin cookie's value for ``token`` (an HMAC, so the cookie never holds the token)."""
    return hmac.new(token.encode(), _SESSION_CONTEXT, hashlib.sha256).hexdigest()


def _configured_token(state: ServiceState) -> str | None:
    secret = state.settings.admin_token
    value = secret.get_secret_value() if secret is not None else ""
    return value or None


def access(request: Request, state: ServiceState) -> Access:
    token = _configured_token(state)
    if token is None:
        return Access.OFF
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        ok = hmac.compare_digest(credentials.strip().encode(), token.encode())
        return Access.OK if ok else Access.WRONG
    cookie = request.cookies.get(ADMIN_COOKIE)
    if cookie and hmac.compare_digest(cookie.encode(), session_value(token).encode()):
        return Access.OK
    return Access.MISSING


DISABLED_MESSAGE = (
    "The admin pages are off: set TUNELENS_ADMIN_TOKEN (a long random secret) and restart "
    "tunelens to turn them on."
)

StateDep = Annotated[ServiceState, Depends(get_state)]
LoopDep = Annotated[DataLoop, Depends(get_data_loop)]
DaysQuery = Annotated[int, Query(ge=1, le=366, description="days covered by per-day figures")]
TopQuery = Annotated[int, Query(ge=1, le=100, description="songs in the top lists")]


def _refusal(request: Request, level: Access) -> JSONResponse:
    path = request.url.path
    if level is Access.OFF:
        return error_response(path, 404, "admin_disabled", DISABLED_MESSAGE)
    if level is Access.WRONG:
        return error_response(path, 403, "admin_token_invalid", "That admin token is wrong.")
    return error_response(
        path,
        401,
        "admin_token_required",
        "This needs the admin token: send `Authorization: Bearer <token>`.",
        headers={"WWW-Authenticate": 'Bearer realm="tunelens admin"'},
    )


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
        heads=engine.reader.head_info() if engine is not None else None,
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


def dashboard_charts(summary: dict[str, Any], tr: i18n.Translator) -> dict[str, str]:
    """Every chart of the dashboard as SVG markup, keyed by name, in ``tr``'s language."""
    emotion_names = list(charts.EMOTION_COLOURS)
    seen = {name for day in summary["emotion_by_day"] for name in day["counts"]}
    series = [n for n in emotion_names if n in seen] + sorted(seen - set(emotion_names))
    latency = summary["latency_ms"]
    uploads = summary["uploads"]
    feedback = summary["feedback"]

    def ms(value: float) -> str:
        return tr.gettext("%(ms)s ms", ms=tr.integer(round(value)))

    no_data = tr.gettext("No data yet.")
    no_votes = tr.gettext("No likes or dislikes yet.")
    kinds = {
        "like": tr.pgettext("feedback", "like"),
        "dislike": tr.pgettext("feedback", "dislike"),
        "not_interested": tr.pgettext("feedback", "not for me"),
        "played": tr.pgettext("feedback", "played"),
    }

    def songs(rows: list[dict[str, Any]], key: str) -> list[charts.Bar]:
        return [
            charts.Bar(
                label=f"{row.get('title') or row['track_id']}",
                value=float(row[key]),
                note=str(row.get("artist") or ""),
            )
            for row in rows
        ]

    return {
        "emotions_over_time": charts.stacked_columns(
            summary["emotion_by_day"],
            series,
            title=tr.gettext("Pictures per day by top emotion"),
            empty=no_data,
            colours=charts.EMOTION_COLOURS,
        ),
        "like_rate_emotion": charts.bar_chart(
            charts.rate_bars(summary["like_rate_by_emotion"], charts.EMOTION_COLOURS),
            title=tr.gettext("Like rate by the picture's emotion"),
            empty=no_votes,
            value_format=charts.percent,
            max_value=1.0,
        ),
        "like_rate_genre": charts.bar_chart(
            charts.rate_bars(summary["like_rate_by_genre"]),
            title=tr.gettext("Like rate by the song's genre"),
            empty=no_votes,
            value_format=charts.percent,
            max_value=1.0,
        ),
        "latency": charts.bar_chart(
            []
            if not latency.get("n")
            else [
                charts.Bar("p50", latency.get("p50"), colour="#7cc47f"),
                charts.Bar("p95", latency.get("p95"), colour="#ff7f50"),
            ],
            title=tr.gettext("Latency of recent answers"),
            empty=no_data,
            value_format=ms,
        ),
        "most_recommended": charts.bar_chart(
            songs(summary["most_recommended"], "count"),
            title=tr.gettext("Most recommended songs"),
            empty=no_data,
        ),
        "most_liked": charts.bar_chart(
            songs(summary["most_liked"], "likes"),
            title=tr.gettext("Most liked songs"),
            empty=no_votes,
        ),
        "feedback": charts.bar_chart(
            [charts.Bar(kinds.get(k, k), float(n)) for k, n in feedback.items()],
            title=tr.gettext("Feedback by kind"),
            empty=no_data,
        ),
        "uploads": charts.bar_chart(
            [
                charts.Bar(tr.gettext("kept"), float(uploads.get("stored", 0)), colour="#7cc47f"),
                charts.Bar(
                    tr.gettext("waiting in the outbox"),
                    float(uploads.get("pending", 0)),
                    colour="#f2b134",
                ),
                charts.Bar(
                    tr.gettext("not kept (no consent)"),
                    float(uploads.get("declined", 0)),
                    colour="#8a8f98",
                ),
            ],
            title=tr.gettext("Uploads"),
            empty=no_data,
        ),
    }


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
        },
    )


@pages.post("/admin/login", response_class=HTMLResponse)
async def admin_login(
    request: Request, state: StateDep, token: Annotated[str, Form()] = ""
) -> Response:
    configured = _configured_token(state)
    if configured is None:
        return _page_refusal(request, Access.OFF)
    if not token.strip():
        return _page_refusal(request, Access.MISSING)
    if not hmac.compare_digest(token.strip().encode(), configured.encode()):
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
