"""One error shape for every failure the web app answers.

Every error response carries ``{"error": {"code", "message", "details"}}`` with a stable
``code``. Routes outside ``/api/`` are DyLuMo's (or unknown to both), so their errors also
carry DyLuMo's ``{"status": "error", "message": ...}`` keys: a DyLuMo client reads only those.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from tunelens import i18n
from tunelens.core.errors import TunelensError
from tunelens.i18n import N_
from tunelens.i18n.errors import translated_message
from tunelens.web.http_status import http_status

log = logging.getLogger("tunelens.web")

#: stable codes for plain HTTP failures (unknown route, wrong method, ...)
CODE_BY_STATUS: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    409: "conflict",
    411: "length_required",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}

#: validation failures on these form/JSON fields get their own code (and status)
FIELD_CODES: dict[str, tuple[str, int]] = {
    "image": ("missing_image", 400),
    "images": ("missing_image", 400),
    "top_k": ("invalid_top_k", 422),
}
#: validation failures anywhere inside these JSON body objects get their own code (422)
OBJECT_CODES: dict[str, str] = {"reading": "invalid_reading", "target": "invalid_target"}


#: what a visitor reads while the engine is not loaded (the operator reads why in /ready)
ENGINE_UNAVAILABLE = N_("tunelens can't recommend right now. Please try again later.")
ENGINE_STARTING = N_("tunelens is still starting; try again in a moment.")
#: what a client reads for any other failure on the server's side (the log has the reason)
SERVER_TROUBLE = N_("tunelens can't do that right now. Please try again later.")


class EngineUnavailable(TunelensError):
    """The engine is not loaded (start-up failed, or start-up has not finished).

    Always answered with 503, whatever status the underlying error maps to on its own: a
    catalogue that failed validation at start-up is the operator's problem, not the caller's.
    Its message is a line for the visitor (an English msgid, translated when answered); the
    code says which failure it is.
    """

    default_code = "not_ready"
    default_status = 503

    @property
    def http_status(self) -> int:
        return 503


class UnsupportedMediaType(TunelensError):
    """A part or body declared a content type that cannot be a picture (HTTP 415)."""

    default_code = "unsupported_media_type"
    default_status = 415


class MissingImage(TunelensError):
    """The request has no picture in the field the route reads (HTTP 400, as DyLuMo)."""

    default_code = "missing_image"
    default_status = 400


class TooManyImages(TunelensError):
    """A batch holds more pictures than ``TUNELENS_MAX_BATCH_IMAGES`` (HTTP 413)."""

    default_code = "too_many_images"
    default_status = 413


def is_dylumo_path(path: str) -> bool:
    """DyLuMo's keys go on every route outside the versioned API and the API docs."""
    return not (path.startswith("/api/") or path in ("/docs", "/openapi.json", "/redoc"))


def error_body(
    path: str, code: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"code": code, "message": message, "details": details or {}}}
    if is_dylumo_path(path):
        body = {"status": "error", "message": message, **body}
    return body


@dataclass(frozen=True)
class ErrorAnswer:
    """One error as the client will read it: status, stable code, message and details.

    Built where the failure is known (a handler, a middleware, a refusal) and turned into the
    one error shape by :meth:`response`."""

    status: int
    code: str
    message: str
    details: dict[str, Any] | None = None
    headers: Mapping[str, str] | None = None

    def response(self, path: str, request: Request | None = None) -> JSONResponse:
        """The JSON answer for ``path``; with ``request``, ``message`` is in its language."""
        message = self.message
        if request is not None:
            message = localized_message(request, self.code, message)
        return JSONResponse(
            error_body(path, self.code, message, self.details),
            status_code=self.status,
            headers=self.headers,
        )


def request_language(request: Request) -> str:
    """The language of an error: the one the route already chose (``request.state``), else
    ``?lang=``, the page's language cookie or ``Accept-Language``; English when unsure."""
    choice = getattr(request.state, "lang_choice", None)
    if isinstance(choice, i18n.LangChoice):
        return choice.lang
    try:
        return i18n.negotiate(
            request.query_params.get("lang"),
            cookie=request.cookies.get(i18n.LANG_COOKIE),
            accept_language=request.headers.get("accept-language"),
        ).lang
    except TunelensError:  # a malformed ?lang= (the error being answered may be that one)
        return i18n.DEFAULT_LANG


def localized_message(request: Request, code: str, message: str) -> str:
    """``message``, or the sentence for ``code`` in the request's language."""
    lang = request_language(request)
    if lang == i18n.DEFAULT_LANG:
        return message
    return translated_message(code, i18n.translator(lang)) or message


def _server_trouble(request: Request, exc: TunelensError, status: int) -> Response:
    """A failure on the server's side as the client reads it: the stable code and a line in
    their language, never the operator's text (a folder, a database URL, an install command),
    which goes to the log here and is in ``/health`` and ``/ready``."""
    if not isinstance(exc, EngineUnavailable):  # that one was logged once, at start-up
        log.warning(
            "%s %s answered %d %s: %s",
            request.method,
            request.url.path,
            status,
            exc.code,
            exc.message,
            extra={"code": exc.code},
        )
    line = exc.message if isinstance(exc, EngineUnavailable) else SERVER_TROUBLE
    message = i18n.translator(request_language(request)).gettext(line)
    headers = {"Retry-After": "30"} if status == 503 else None
    return ErrorAnswer(status, exc.code, message, headers=headers).response(request.url.path)


def _status_message(status: int) -> str:
    return {
        404: "There is nothing at this address.",
        405: "This address does not accept that HTTP method.",
        413: "The request is too large.",
        500: "Something went wrong on our side.",
    }.get(status, "The request could not be handled.")


async def tunelens_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TunelensError)
    status = http_status(exc)
    if status >= 500:
        return _server_trouble(request, exc, status)
    answer = ErrorAnswer(status, exc.code, exc.message, exc.details)
    return answer.response(request.url.path, request)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = CODE_BY_STATUS.get(status, "bad_request" if status < 500 else "internal_error")
    message = exc.detail if isinstance(exc.detail, str) else _status_message(status)
    # Starlette's own details are terse ("Not Found"); say something a person can use.
    if status in (404, 405) and message in ("Not Found", "Method Not Allowed"):
        message = _status_message(status)
    details: dict[str, Any] = {}
    if status == 405 and exc.headers and "Allow" in exc.headers:
        details["allow"] = [m.strip() for m in exc.headers["Allow"].split(",")]
    if status == 404:
        details["path"] = request.url.path
    answer = ErrorAnswer(status, code, message, details, exc.headers)
    return answer.response(request.url.path, request)


def _clean_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Validation errors without ``input``/``ctx``: they may hold upload objects or bytes."""
    return [
        {
            "loc": [p if isinstance(p, (str, int)) else str(p) for p in err.get("loc", ())],
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()
    ]


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = _clean_errors(exc)
    code, status = "invalid_request", 422
    fields = {str(e["loc"][-1]) for e in errors if e["loc"]}
    for name, (field_code, field_status) in FIELD_CODES.items():
        if name in fields:
            code, status = field_code, field_status
            break
    objects = [str(e["loc"][1]) for e in errors if len(e["loc"]) > 1 and e["loc"][0] == "body"]
    if code == "invalid_request" and objects and objects[0] in OBJECT_CODES:
        code = OBJECT_CODES[objects[0]]
    if any(e["type"] == "json_invalid" for e in errors):
        code = "invalid_json"
        message = "The request body is not valid JSON."
    elif code == "missing_image":
        message = "No picture was sent: attach it as a file in the multipart form field " + (
            "`images`." if "images" in fields else "`image`."
        )
    elif code == "invalid_top_k":
        message = "top_k must be a whole number of songs."
    else:
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p not in ("body", "query", "path"))
        message = f"Invalid request: {where + ': ' if where else ''}{first['msg']}."
    answer = ErrorAnswer(status, code, message, {"errors": errors})
    return answer.response(request.url.path, request)


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    request_id = getattr(request.state, "request_id", None)
    log.error(
        "unhandled error on %s %s (request %s)",
        request.method,
        request.url.path,
        request_id,
        exc_info=exc,
    )
    answer = ErrorAnswer(
        500,
        "internal_error",
        "Something went wrong on our side; the error was logged.",
        {"request_id": request_id} if request_id else {},
    )
    return answer.response(request.url.path, request)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TunelensError, tunelens_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)
