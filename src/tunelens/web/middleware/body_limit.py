"""Body limits per route, enforced before the app reads (or decodes) a byte.

The cheapest of the three upload gates (the others: each file part's declared type and size,
:mod:`tunelens.web.services.upload_parts`, then :mod:`tunelens.vision.imaging` on the bytes):
:class:`BodyLimitMiddleware` refuses a body whose ``Content-Length`` is over the route's limit
without reading it, refuses a non-multipart body on upload routes (415), and counts streamed
bytes so a body without (or lying about) ``Content-Length`` is cut off at the limit too. Both
answer 413 ``too_large``. A multipart upload that ends before its closing boundary (a client or
a connection that cut it short) is 400 ``bad_request``, not a missing picture.

A refused body is **drained before the answer** (read and thrown away, up to
``TUNELENS_DRAIN_MAX_BYTES`` and ``TUNELENS_DRAIN_TIMEOUT_S``): browsers, ``requests`` and
``urllib`` send the whole body before they read anything, and a server that answers and closes
while they are still sending makes them see a reset connection instead of the 413 that says
why. A client that sent ``Expect: 100-continue`` is answered at once: it waits for our word
before sending, so there is nothing to drain. A body larger than the drain bound is cut off
(that client sees the reset: nobody sends 128 MB to a 21 MB route by mistake).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio
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
        self.drain_bytes = web.drain_max_bytes
        self.drain_timeout_s = web.drain_timeout_s

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


class _BodyRefused(Exception):
    """Raised from ``receive`` when the streamed body passes its limit or ends cut short."""


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


async def drain(receive: Receive, limits: UploadLimits, already: int = 0) -> None:
    """Read and discard what is left of a request body (see the module's docstring); stops at
    the end of the body, a disconnect, ``limits.drain_bytes`` in all or the drain timeout."""
    received = already
    with anyio.move_on_after(limits.drain_timeout_s):
        while received <= limits.drain_bytes:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            received += len(message.get("body", b""))
            if not message.get("more_body", False):
                return


def _drainable(headers: Headers, declared: int | None, limits: UploadLimits) -> bool:
    """Whether a refused body is worth reading to the end before answering."""
    if headers.get("expect", "").strip().lower() == "100-continue":
        return False  # the client waits for our answer before it sends the body
    return declared is None or declared <= limits.drain_bytes


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
            if _drainable(headers, declared, self.limits):
                await drain(receive, self.limits)
            await refusal.response(path)(scope, receive, send)
            return
        await self._counted(scope, receive, send, rule)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, rule: BodyRule) -> None:
        """Run the app on a ``receive`` that stops at ``rule.limit`` bytes (413) and at a
        multipart body that ends before its closing boundary (400 ``bad_request``: the upload
        was cut short), unless the app had already started answering."""
        watch = _BodyWatch(rule, Headers(scope=scope))
        app_started = False

        async def watched_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                watch.see(message)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal app_started
            if watch.refused:
                return  # whatever the app makes of the refused body, the answer is ours
            if message["type"] == "http.response.start":
                app_started = True
            await send(message)

        try:
            await self.app(scope, watched_receive, guarded_send)
        except Exception:
            if not watch.refused or app_started:
                raise
        if not watch.refused or app_started:
            return
        if watch.cut:
            response = ErrorAnswer(
                400,
                "bad_request",
                "The multipart body ends before its closing boundary: the upload was cut "
                "short. Send it again.",
                {"received": watch.received},
            ).response(scope["path"])
        else:
            if not watch.ended and _drainable(Headers(scope=scope), None, self.limits):
                await drain(receive, self.limits, watch.received)
            response = self.limits.too_large(rule, None).response(scope["path"])
        await response(scope, receive, send)


def _boundary(headers: Headers) -> bytes | None:
    """The multipart boundary of a ``multipart/form-data`` body, if it declares one."""
    media_type, _, params = headers.get("content-type", "").partition(";")
    if media_type.strip().lower() != "multipart/form-data":
        return None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "boundary" and value.strip().strip('"'):
            return value.strip().strip('"').encode("latin-1", "replace")
    return None


class _BodyWatch:
    """Counts a streamed body against its rule and, on upload routes, looks for the multipart
    closing delimiter (``--boundary--``) across chunk edges: a body that ends without it was
    cut short, and its last part would otherwise be silently dropped by the form parser
    (answered as ``missing_image``, as if the client had forgotten the picture)."""

    def __init__(self, rule: BodyRule, headers: Headers) -> None:
        self.rule = rule
        self.received = 0
        self.exceeded = False
        self.cut = False
        #: the last body message has been received (nothing is left to drain)
        self.ended = False
        boundary = _boundary(headers) if rule.multipart else None
        self._closing = b"--" + boundary + b"--" if boundary else None
        self._closed = False
        self._tail = b""

    @property
    def refused(self) -> bool:
        return self.exceeded or self.cut

    def see(self, message: Message) -> None:
        """Account for one body message; raises past the limit or at a cut-off end."""
        body: bytes = message.get("body", b"")
        self.received += len(body)
        self.ended = not message.get("more_body", False)
        if self.received > self.rule.limit:
            self.exceeded = True
            raise _BodyRefused
        closing = self._closing
        if closing is None or self._closed:
            return
        window = self._tail + body
        self._closed = closing in window
        self._tail = window[-(len(closing) - 1) :]
        if self.ended and self.received > 0 and not self._closed:
            self.cut = True
            raise _BodyRefused
