"""Security headers and CORS — the app's outer shell.

* **Headers on every response.** ``X-Content-Type-Options: nosniff`` (an uploaded SVG or HTML
  echoed back can never be sniffed into a page), ``Referrer-Policy``, ``X-Frame-Options`` and a
  ``Permissions-Policy`` that turns off camera, microphone and location (the page takes photos
  through a file input, which needs none of them). HTML pages set their own
  Content-Security-Policy (:data:`tunelens.web.services.rendering.CONTENT_SECURITY_POLICY`: own
  files only, plus exactly the two player origins the page embeds); every other response gets
  ``default-src 'none'; frame-ancestors 'none'``, so a JSON or SVG answer opened in a browser
  can run nothing and be framed by no one. The API docs run one inline script: ``/docs`` loads
  Swagger UI from this server, ``/redoc`` its viewer from a CDN; they get a policy naming this
  server and that CDN, and the script's own sha256 (computed from the page as served), not
  ``'unsafe-inline'``.
* **CORS** is off unless ``TUNELENS_CORS_ORIGINS`` lists origins: the page is same-origin and
  needs none, and every extra origin is one more site that can spend a visitor's allowance.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tunelens.web.middleware.rate_limit import RateLimitMiddleware, TokenBuckets
from tunelens.web.settings import WebSettings

#: answers that are not pages: nothing may run, nothing may frame them
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
DOCS_PATHS = frozenset({"/docs", "/redoc"})
#: where the Swagger UI (this server) and ReDoc pages load their code, styles, fonts and logo
_DOCS_SOURCES = {
    "script-src": "'self' https://cdn.jsdelivr.net",
    "style-src": "'self' https://cdn.jsdelivr.net https://fonts.googleapis.com 'unsafe-inline'",
    "img-src": "'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
    "font-src": "https://fonts.gstatic.com",
    "connect-src": "'self'",
    "worker-src": "blob:",
}
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL)
CORS_METHODS = ["GET", "POST", "DELETE"]
CORS_HEADERS = ["Content-Type", "Authorization", "X-Client-Id", "X-Request-ID"]
CORS_EXPOSE = ["X-Request-ID", "Retry-After"]


def docs_policy(body: bytes) -> str:
    """The docs page's CSP: its CDN, and each inline script by hash (no 'unsafe-inline')."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(body)
    )
    sources = dict(_DOCS_SOURCES)
    sources["script-src"] = f"{sources['script-src']} {hashes}".strip()
    parts = ["default-src 'none'", *(f"{k} {v}" for k, v in sources.items())]
    parts += ["frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"]
    return "; ".join(parts)


def _set_common(headers: MutableHeaders, scope: Scope) -> None:
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if scope.get("scheme") == "https":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")


class SecurityHeadersMiddleware:
    """Adds the headers above to every HTTP response, without overriding a route's own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in DOCS_PATHS:
            await self._docs(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                _set_common(headers, scope)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = API_CSP
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Buffer the (small) docs page to hash its inline script into the policy."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                assert start is not None
                body = b"".join(chunks)
                headers = MutableHeaders(scope=start)
                _set_common(headers, scope)
                headers["Content-Security-Policy"] = docs_policy(body)
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, buffer)


def cors_origins(web: WebSettings) -> list[str]:
    return [o.strip().rstrip("/") for o in web.cors_origins.split(",") if o.strip()]


def install(app: FastAPI, web: WebSettings) -> None:
    """Rate limits (innermost), CORS when configured, then security headers (outermost), so
    429s and CORS preflights carry the headers too. Call before the access-log middleware."""
    if web.rate_limit_per_minute > 0:
        buckets = TokenBuckets(
            web.rate_limit_per_minute, web.rate_limit_burst, max_keys=web.rate_limit_clients
        )
        app.add_middleware(RateLimitMiddleware, buckets=buckets)
    origins = cors_origins(web)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_HEADERS,
            expose_headers=CORS_EXPOSE,
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(SecurityHeadersMiddleware)
