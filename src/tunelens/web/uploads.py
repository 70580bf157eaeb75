"""Upload limits, enforced before any byte is decoded.

Three gates, cheapest first:

1. :class:`BodyLimitMiddleware` refuses a body whose ``Content-Length`` is over the route's
   limit without reading it, refuses a non-multipart body on upload routes (415), and counts
   streamed bytes so a body without (or lying about) ``Content-Length`` is cut off at the
   limit too. Both answer 413 ``too_large``.
2. :func:`check_part` looks at each file part's declared type and size: ``image/*`` and
   ``application/octet-stream`` are accepted; ``text/plain`` or no type at all are passed on
   (browsers and curl label unknown files that way), so imaging's sniffing names what they
   really are; any other declared type is 415 ``unsupported_media_type``.
3. :mod:`tunelens.vision.imaging` then checks the bytes, the header's pixel count and only then
   decodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import UploadFile
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tunelens.core.errors import InvalidImage, InvalidRequest
from tunelens.core.settings import Settings
from tunelens.web.errors import UnsupportedMediaType, error_response
from tunelens.web.settings import WebSettings

UPLOAD_PATHS: tuple[str, ...] = ("/recommend", "/api/v1/recommend", "/api/v1/recommend/batch")
BATCH_PATH = "/api/v1/recommend/batch"
#: declared part types passed on to imaging, which sniffs the bytes themselves
SNIFFED_PART_TYPES = frozenset({"", "text/plain", "application/octet-stream"})
ACCEPTED_PART_TYPES_HUMAN = ["image/*", "application/octet-stream"]


def _megabytes(n: int) -> str:
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
                f"The upload is larger than this address accepts ({_megabytes(rule.limit)} in "
                f"all; each picture may be at most {_megabytes(self.image_bytes)})."
            )
        return f"The request body is larger than {_megabytes(rule.limit)}."


class _BodyTooLarge(Exception):
    """Raised from ``receive`` when the streamed body passes its limit."""


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
        if declared is not None and declared > rule.limit:
            response = error_response(
                path,
                413,
                "too_large",
                self.limits.too_large_message(rule),
                self.limits.too_large_details(rule, declared),
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        if rule.multipart:
            media_type = headers.get("content-type", "").split(";")[0].strip().lower()
            # no declared type at all reaches the route, which names the missing picture
            if media_type and media_type != "multipart/form-data":
                response = error_response(
                    path,
                    415,
                    "unsupported_media_type",
                    "Send the picture as multipart/form-data (an HTML form upload, or "
                    "`curl -F image=@photo.jpg`).",
                    {"content_type": media_type, "expected": "multipart/form-data"},
                )
                await response(scope, receive, send)
                return

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
            response = error_response(
                path,
                413,
                "too_large",
                self.limits.too_large_message(rule),
                self.limits.too_large_details(rule, None),
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)


def _content_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def part_media_type(upload: UploadFile) -> str:
    return (upload.content_type or "").split(";")[0].strip().lower()


def check_part(upload: UploadFile, settings: Settings) -> None:
    """Refuse a file part by its declared type and size, before reading it."""
    media_type = part_media_type(upload)
    if not (media_type.startswith("image/") or media_type in SNIFFED_PART_TYPES):
        raise UnsupportedMediaType(
            f"The file was sent as {media_type}, which is not a picture. Send a JPEG, PNG, "
            "WebP, GIF, BMP or TIFF image.",
            code="unsupported_media_type",
            details={"content_type": media_type, "accepted": ACCEPTED_PART_TYPES_HUMAN},
        )
    limit = settings.max_image_bytes
    if upload.size is not None and upload.size > limit:
        raise InvalidImage(
            f"The file is {_megabytes(upload.size)} ({upload.size:,} bytes); the limit is "
            f"{_megabytes(limit)} ({limit:,} bytes).",
            code="too_large",
            details={"limit": limit, "actual": upload.size},
        )


async def read_part(upload: UploadFile, settings: Settings) -> bytes:
    """The bytes of an accepted file part (never more than the image limit plus one)."""
    check_part(upload, settings)
    await upload.seek(0)
    data = await upload.read(settings.max_image_bytes + 1)
    if len(data) > settings.max_image_bytes:
        raise InvalidImage(
            f"The file is larger than the limit of {_megabytes(settings.max_image_bytes)}.",
            code="too_large",
            details={"limit": settings.max_image_bytes, "actual": None},
        )
    return data


def parse_exclude(values: list[str] | None, max_ids: int) -> list[str]:
    """Track ids from repeated fields and/or comma-separated lists, de-duplicated, in order."""
    out: dict[str, None] = {}
    for value in values or ():
        for raw in value.split(","):
            item = raw.strip()
            if item:
                out[item] = None
    if len(out) > max_ids:
        raise InvalidRequest(
            f"exclude lists at most {max_ids} track ids; got {len(out)}.",
            code="too_many_excluded",
            details={"limit": max_ids, "actual": len(out)},
        )
    return list(out)


def parse_context(value: str | None, max_chars: int) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > max_chars:
        raise InvalidRequest(
            f"The context text is {len(text)} characters long; the limit is {max_chars}.",
            code="context_too_long",
            details={"limit": max_chars, "actual": len(text)},
        )
    return text


def dylumo_top_k(value: str | None, default: int, maximum: int) -> int:
    """DyLuMo's rule: not an integer → the default; otherwise clamped to 1..maximum."""
    try:
        k = int(str(value).strip()) if value is not None else default
    except ValueError:
        k = default
    return max(1, min(k, maximum))


def strict_top_k(value: str | None) -> int | None:
    """The versioned API's rule: absent → default; not a whole number → ``invalid_top_k``."""
    if value is None or not value.strip():
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise InvalidRequest(
            f"top_k must be a whole number of songs, got {value!r}.",
            code="invalid_top_k",
            details={"actual": value},
        ) from None


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def parse_flag(value: str | None, name: str) -> bool:
    """A form checkbox: true/1/yes/on or false/0/no/off (absent = false)."""
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidRequest(
        f"{name} must be true or false, got {value!r}.",
        code="invalid_request",
        details={"field": name, "actual": value},
    )
