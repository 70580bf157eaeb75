"""The language an API answer is written in, negotiated once per request.

The choice is kept on ``request.state`` so the answer's ``lang_fallback``/``lang_notice`` and an
error raised later in the same request (see :func:`tunelens.web.errors.request_language`)
speak the same language.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from tunelens import i18n


def resolve_lang(
    request: Request, form_value: str | None, query_value: str | None
) -> tuple[str, list[str]]:
    """The language to answer in (``lang`` field, ``?lang=``, else ``Accept-Language``, else
    English), plus a notice when the requested one is not available.

    The choice is kept on ``request.state`` for :func:`lang_fields` and for the error handler,
    so an error raised later in the request speaks the same language.
    """
    choice = i18n.negotiate(
        form_value or query_value, accept_language=request.headers.get("accept-language")
    )
    request.state.lang_choice = choice
    return choice.lang, [choice.notice] if choice.notice else []


def lang_fields(request: Request) -> dict[str, Any]:
    """``lang_fallback`` and ``lang_notice`` of the answer (see :func:`resolve_lang`)."""
    choice = getattr(request.state, "lang_choice", None) or i18n.LangChoice(i18n.DEFAULT_LANG)
    return {"lang_fallback": choice.fallback, "lang_notice": choice.notice}
