"""Server-rendered pages: one Jinja environment, the page language, and the page CSP.

Every visible string is a gettext message (:mod:`tunelens.i18n`): the templates mark their own
with ``_()`` / ``{% trans %}`` (Jinja's i18n extension), and the page script's strings are
rendered into the page as JSON (:mod:`tunelens.web.services.page_texts`). A page's language is
the ``lang`` query parameter (remembered in a cookie by the language selector), else that
cookie, else the browser's ``Accept-Language``, else English; ``<html lang dir>`` follow it, so
Arabic is laid out right to left from the first paint.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from tunelens import i18n
from tunelens.core.errors import TunelensError
from tunelens.web.assets import TEMPLATES_DIR

templates = Jinja2Templates(directory=TEMPLATES_DIR)
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
