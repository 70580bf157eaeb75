"""The web page: one server-rendered template, plain JS and CSS, no build step, no CDN.

Every visible string is a gettext message (:mod:`tunelens.i18n`): the template marks its own
with ``_()`` / ``{% trans %}`` (Jinja's i18n extension), and the script's strings are
rendered into the page as JSON (:mod:`tunelens.web.page_texts`). The page's language is the
``lang`` query parameter (remembered in a cookie by the language selector), else that cookie,
else the browser's ``Accept-Language``, else English; ``<html lang dir>`` follow it, so
Arabic is laid out right to left from the first paint.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from tunelens import __version__, i18n
from tunelens.core.errors import TunelensError
from tunelens.explain.llm import llm_configured
from tunelens.i18n.labels import all_labels, region_label
from tunelens.playlists.regional import PlaylistError
from tunelens.storage.repository import check_client_id
from tunelens.web.data_loop import CLIENT_COOKIE, CLIENT_COOKIE_MAX_AGE
from tunelens.web.page_texts import script_texts
from tunelens.web.state import get_state

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.add_extension("jinja2.ext.i18n")
# the callables read the current language (set around each render with i18n.use), so one
# shared environment serves concurrent requests in different languages
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=lambda message: i18n.current().raw_gettext(message),
    ngettext=lambda singular, plural, n: i18n.current().raw_ngettext(singular, plural, n),
    pgettext=lambda context, message: i18n.current().raw_pgettext(context, message),
    npgettext=lambda context, singular, plural, n: i18n.current().raw_npgettext(
        context, singular, plural, n
    ),
    newstyle=True,
)
#: the language cookie lasts a year; it holds a language code and nothing else
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600

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


def page_language(request: Request) -> i18n.LangChoice:
    """The page's language: ``?lang=``, else the selector's cookie, else ``Accept-Language``.

    A malformed ``?lang=`` is treated like an unknown one (English, with a notice): a page
    should never answer a link with an error.
    """
    param = request.query_params.get("lang")
    try:
        return i18n.negotiate(
            param,
            cookie=request.cookies.get(i18n.LANG_COOKIE),
            accept_language=request.headers.get("accept-language"),
        )
    except TunelensError:
        return i18n.LangChoice(i18n.DEFAULT_LANG, requested=param, source="param", fallback=True)


def render_page(
    request: Request, name: str, context: dict[str, Any], choice: i18n.LangChoice, status: int = 200
) -> HTMLResponse:
    """Render ``name`` in ``choice``'s language, with the language headers every page needs."""
    language = i18n.languages()[choice.lang]
    full = {
        "lang": language.code,
        "dir": language.dir,
        "languages": list(i18n.languages().values()),
        "lang_notice": choice.notice,
        **context,
    }
    with i18n.use(choice.lang):
        response = templates.TemplateResponse(request, name, full, status_code=status)
    response.headers["Content-Language"] = language.code
    response.headers["Vary"] = "Accept-Language, Cookie"
    if choice.source == "param" and not choice.fallback:
        response.set_cookie(
            i18n.LANG_COOKIE,
            choice.lang,
            max_age=LANG_COOKIE_MAX_AGE,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
    return response


def _playlist_config(request: Request) -> dict[str, Any]:
    """Regions for the page's selector (none when the playlists file is broken)."""
    try:
        playlists = request.app.state.playlists.get()
    except PlaylistError:
        return {"regions": [], "default_region": None}
    tr = i18n.current()
    return {
        "regions": [
            {"id": k, "label": region_label(tr, k, r.label)} for k, r in playlists.regions.items()
        ],
        "default_region": playlists.default_region,
    }


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> HTMLResponse:
    state = get_state(request)
    engine = state.engine
    choice = page_language(request)
    tr = i18n.translator(choice.lang)
    with i18n.use(choice.lang):
        playlist_config = _playlist_config(request)
    config: dict[str, Any] = {
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
    texts = {
        "messages": script_texts(tr),
        "labels": all_labels(tr, ("emotion", "genre", "mood", "scene", "hue")),
    }
    context: dict[str, Any] = {
        "texts": texts,
        "config": config,
        "version": __version__,
        "engine_info": engine.info if engine else None,
        "catalogue_size": len(engine.recommender.tracks) if engine else None,
        "catalogue_size_text": tr.integer(len(engine.recommender.tracks)) if engine else None,
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
