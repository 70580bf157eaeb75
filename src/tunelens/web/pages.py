"""The web page: one server-rendered template, plain JS and CSS, no build step, no CDN.

Every visible string comes from one dictionary (``i18n/<lang>.json``): the template renders
it and embeds it as JSON for the script, so translating the page is adding one file.
"""

from __future__ import annotations

import json
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from tunelens import __version__
from tunelens.errors import TunelensError
from tunelens.explain.llm import llm_configured
from tunelens.playlists import PlaylistError
from tunelens.storage.repository import check_client_id
from tunelens.web.data_loop import CLIENT_COOKIE, CLIENT_COOKIE_MAX_AGE
from tunelens.web.state import get_state

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

#: the page loads only its own files; the Spotify and youtube-nocookie players are the only
#: outside frames, each loaded on click
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "connect-src 'self'",
        "frame-src https://open.spotify.com https://www.youtube-nocookie.com",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=8)
def strings(lang: str = "en") -> dict[str, str]:
    """The page's texts for ``lang`` (English is the only language so far)."""
    path = HERE / "i18n" / f"{lang}.json"
    if not path.is_file():
        path = HERE / "i18n" / "en.json"
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _playlist_config(request: Request) -> dict[str, Any]:
    """Regions for the page's selector (none when the playlists file is broken)."""
    try:
        playlists = request.app.state.playlists.get()
    except PlaylistError:
        return {"regions": [], "default_region": None}
    return {
        "regions": [{"id": k, "label": r.label} for k, r in playlists.regions.items()],
        "default_region": playlists.default_region,
    }


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> HTMLResponse:
    state = get_state(request)
    engine = state.engine
    t = strings("en")
    config: dict[str, Any] = {
        "max_image_bytes": state.settings.max_image_bytes,
        "top_k": state.settings.top_k,
        "recommend_url": "/api/v1/recommend",
        "similar_url": "/api/v1/similar",
        "commentary": llm_configured(state.settings),
        "commentary_url": "/api/v1/predictions/{id}/commentary",
        "playlists_url": "/api/v1/playlists",
        "export_url": "/api/v1/export",
        "feedback_url": "/api/v1/feedback",
        **_playlist_config(request),
    }
    context: dict[str, Any] = {
        "t": t,
        "config": config,
        "version": __version__,
        "engine_info": engine.info if engine else None,
        "catalogue_size": f"{len(engine.recommender.tracks):,}" if engine else None,
        "engine_error": state.error.message if state.error else None,
        "notices": list(engine.notices) if engine else [],
    }
    response = templates.TemplateResponse(request, "index.html", context)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    _ensure_client_cookie(request, response)
    return response


def _ensure_client_cookie(request: Request, response: HTMLResponse) -> None:
    """Give a new visitor an anonymous listener id, so their feedback shapes their results.

    The cookie holds a random id and nothing else (no account, no picture); it is HttpOnly
    because the page never needs to read it: the browser sends it with every API call.
    """
    current = request.cookies.get(CLIENT_COOKIE)
    try:
        if current and check_client_id(current):
            return
    except TunelensError:
        pass  # a malformed id is replaced
    response.set_cookie(
        CLIENT_COOKIE,
        uuid.uuid4().hex,
        max_age=CLIENT_COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
