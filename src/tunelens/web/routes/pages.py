"""The listener's page (``/``): one server-rendered template, plain JS and CSS, no build step,
no CDN. How pages are rendered and translated is :mod:`tunelens.web.services.rendering`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tunelens import __version__, i18n
from tunelens.explain.llm import llm_configured
from tunelens.i18n.labels import all_labels, region_label
from tunelens.playlists.regional import PlaylistError
from tunelens.web.deps import get_playlists, get_state
from tunelens.web.errors import ENGINE_STARTING, ENGINE_UNAVAILABLE
from tunelens.web.services.identity import ensure_cookie
from tunelens.web.services.page_texts import script_texts
from tunelens.web.services.rendering import CONTENT_SECURITY_POLICY, page_language, render_page
from tunelens.web.services.state import ServiceState
from tunelens.web.services.visitor_notices import ABOUT_URL, help_urls

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
        "predictions_url": "/api/v1/predictions/{id}",
        "uploads_url": "/api/v1/uploads/{sha256}",
        "about_url": ABOUT_URL,
        "notice_help": help_urls(),
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
        # the visitor reads one line; the reason is the operator's (log, /health, /ready, admin)
        "engine_down": None if engine else (ENGINE_UNAVAILABLE if state.error else ENGINE_STARTING),
    }
    response = render_page(request, "index.html", context, choice)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    ensure_cookie(request, response)  # a signed anonymous listener id (services/identity)
    return response


@router.get("/about", response_class=HTMLResponse)
async def about(request: Request) -> HTMLResponse:
    """What the visitor's notices mean (basic mode, test mode, not ready), in their language;
    the notices on the page link here."""
    response = render_page(request, "about.html", {"version": __version__}, page_language(request))
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
