"""Body limits per route, enforced before the app reads (or decodes) a byte.

The cheapest of the three upload gates (the others: each file part's declared type and size,
:mod:`tunelens.web.services.upload_parts`, then :mod:`tunelens.vision.imaging` on the bytes):
:class:`BodyLimitMiddleware` refuses a body whose ``Content-Length`` is over the route's limit
without reading it, refuses a non-multipart body on upload routes (415), and counts streamed
bytes so a body without (or lying about) ``Content-Length`` is cut off at the limit too. Both
answer 413 ``too_large``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tunelens.core.settings import Settings
from tunelens.web.errors import ErrorAnswer
from tunelens.web.settings import WebSettings

UPLOAD_PATHS: tuple[str, ...] = ("/recommend", "/api/v1/recommend", "/api/v1/recommend/batch")
BATCH_PATH = "/api/v1/recommend/batch"


def megabytes(n: int) -> str:
    """``n`` bytes as people read a size limit, e.g. ``10.0 MB``."""
    return f"{n / (1024 * 1024):.1f} MB"


@dataclass(frozen=True)
class BodyRule:
    limit: int
    multipart: bool


class UploadLimits:
    """Body limits per route, derived from the core and web settings."""

    def __init__(self, settings: Settings, web: WebSettings) -> None:
        self.image_bytes = settings.max_image_bytes
        overhead = web.multipart_overhead_bytes
        single = BodyRule(settings.max_image_bytes + overhead, multipart=True)
        batch = BodyRule(web.max_batch_images * settings.max_image_bytes + overhead, multipart=True)
        self.rules: dict[str, BodyRule] = {path: single for path in UPLOAD_PATHS}
        self.rules[BATCH_PATH] = batch
        self.default = BodyRule(web.max_json_bytes, multipart=False)

    def rule_for(self, method: str, path: str) -> BodyRule:
        if method == "POST" and path in self.rules:
            return self.rules[path]
        return self.default

    def too_large_details(self, rule: BodyRule, actual: int | None) -> dict[str, Any]:
        details: dict[str, Any] = {"limit": rule.limit, "actual": actual}
        if rule.multipart:
            details["image_limit"] = self.image_bytes
        return details

    def too_large_message(self, rule: BodyRule) -> str:
        if rule.multipart:
            return (
                f"The upload is larger than this address accepts ({megabytes(rule.limit)} in "
                f"all; each picture may be at most {megabytes(self.image_bytes)})."
            )
        return f"The request body is larger than {megabytes(rule.limit)}."

    def too_large(self, rule: BodyRule, actual: int | None) -> ErrorAnswer:
        """413 ``too_large`` for a body over ``rule`` (``actual``: its declared size, if any)."""
        return ErrorAnswer(
            413,
            "too_large",
            self.too_large_message(rule),
            self.too_large_details(rule, actual),
            headers={"Connection": "close"},
        )


class _BodyTooLarge(Exception):
    """Raised from ``receive`` when the streamed body passes its limit."""


def _content_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def _not_multipart(rule: BodyRule, headers: Headers) -> ErrorAnswer | None:
    """415 when an upload route is sent a declared type other than multipart/form-data."""
    if not rule.multipart:
        return None
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    # no declared type at all reaches the route, which names the missing picture
    if not media_type or media_type == "multipart/form-data":
        return None
    return ErrorAnswer(
        415,
        "unsupported_media_type",
        "Send the picture as multipart/form-data (an HTML form upload, or "
        "`curl -F image=@photo.jpg`).",
        {"content_type": media_type, "expected": "multipart/form-data"},
    )


class BodyLimitMiddleware:
    """Applies :class:`UploadLimits` to every HTTP request before the app sees the body."""

    def __init__(self, app: ASGIApp, limits: UploadLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        rule = self.limits.rule_for(scope["method"], path)
        headers = Headers(scope=scope)
        declared = _content_length(headers)
        refusal = None
        if declared is not None and declared > rule.limit:
            refusal = self.limits.too_large(rule, declared)
        else:
            refusal = _not_multipart(rule, headers)
        if refusal is not None:
            await refusal.response(path)(scope, receive, send)
            return
        await self._counted(scope, receive, send, rule)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, rule: BodyRule) -> None:
        """Run the app on a ``receive`` that stops at ``rule.limit`` bytes; past it, the answer
        is 413 (unless the app had already started answering)."""
        received = 0
        exceeded = False
        app_started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > rule.limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal app_started
            if exceeded:
                return  # whatever the app makes of the cut-off body, the answer is 413
            if message["type"] == "http.response.start":
                app_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded or app_started:
                raise
        if exceeded and not app_started:
            response = self.limits.too_large(rule, None).response(scope["path"])
            await response(scope, receive, send)
