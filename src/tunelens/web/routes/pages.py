"""The listener's page (``/``): one server-rendered template, plain JS and CSS, no build step,
no CDN. How pages are rendered and translated is :mod:`tunelens.web.services.rendering`."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tunelens import __version__, i18n
from tunelens.core.errors import TunelensError
from tunelens.explain.llm import llm_configured
from tunelens.i18n.labels import all_labels, region_label
from tunelens.playlists.regional import PlaylistError
from tunelens.storage.repository import check_client_id
from tunelens.web.deps import get_playlists, get_state
from tunelens.web.services.listener import CLIENT_COOKIE, CLIENT_COOKIE_MAX_AGE
from tunelens.web.services.page_texts import script_texts
from tunelens.web.services.rendering import CONTENT_SECURITY_POLICY, page_language, render_page
from tunelens.web.services.state import ServiceState

router = APIRouter(include_in_schema=False)


def _playlist_config(request: Request) -> dict[str, Any]:
    """Regions for the page's selector (none when the playlists file is broken)."""
    try:
        playlists = get_playlists(request).get()
    except PlaylistError:
        return {"regions": [], "default_region": None}
    tr = i18n.current()
    return {
        "regions": [
            {"id": k, "label": region_label(tr, k, r.label)} for k, r in playlists.regions.items()
        ],
        "default_region": playlists.default_region,
    }


def _script_config(
    request: Request, state: ServiceState, choice: i18n.LangChoice, tr: i18n.Translator
) -> dict[str, Any]:
    """What the page script needs to know: language, limits and the API's addresses."""
    with i18n.use(choice.lang):
        playlist_config = _playlist_config(request)
    return {
        "lang": tr.lang,
        "lang_source": choice.source,
        "languages": list(i18n.languages()),
        "max_image_bytes": state.settings.max_image_bytes,
        "top_k": state.settings.top_k,
        "recommend_url": "/api/v1/recommend",
        "similar_url": "/api/v1/similar",
        "commentary": llm_configured(state.settings),
        "commentary_url": "/api/v1/predictions/{id}/commentary",
        "playlists_url": "/api/v1/playlists",
        "export_url": "/api/v1/export",
        "feedback_url": "/api/v1/feedback",
        **playlist_config,
    }


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> HTMLResponse:
    state = get_state(request)
    engine = state.engine
    choice = page_language(request)
    tr = i18n.translator(choice.lang)
    config = _script_config(request, state, choice, tr)
    texts = {
        "messages": script_texts(tr),
        "labels": all_labels(tr, ("emotion", "genre", "mood", "scene", "hue")),
    }
    context: dict[str, Any] = {
        "texts": texts,
        "config": config,
        "version": __version__,
        "engine_info": engine.info if engine else None,
        "catalogue_size": engine.catalogue_size if engine else None,
        "catalogue_size_text": tr.integer(engine.catalogue_size) if engine else None,
        "engine_error": state.error.message if state.error else None,
        "notices": list(engine.notices) if engine else [],
    }
    response = render_page(request, "index.html", context, choice)
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
