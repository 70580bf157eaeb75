"""One access line per request, with its request id echoed in ``X-Request-ID``.

Access lines carry method, path (never the query string), status, duration, request id and
client address, on the ``tunelens.web.access`` logger; each request is also counted in the
in-process statistics of ``/stats``.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tunelens.web.middleware.request_id import REQUEST_ID_HEADER

if TYPE_CHECKING:
    from tunelens.web.services.stats import ServiceStats

access_log = logging.getLogger("tunelens.web.access")


def _request_id(scope: Scope) -> str:
    # ForwardedMiddleware (middleware/request_id.py) runs first and decides: an incoming id is kept
    # only from a trusted proxy. Never read the header here, or anyone could set the id.
    assigned = scope.get("state", {}).get("request_id")
    return str(assigned) if assigned else uuid.uuid4().hex[:16]


class RequestLogMiddleware:
    """Assigns a request id, echoes it in ``X-Request-ID``, counts and logs every request."""

    def __init__(self, app: ASGIApp, stats: ServiceStats | None = None) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                headers.setdefault("X-Content-Type-Options", "nosniff")
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = (time.perf_counter() - start) * 1000
            if self.stats is not None:
                self.stats.record_request(status)
            client = scope.get("client")
            access_log.info(
                "%s %s %d %.1fms",
                scope["method"],
                scope["path"],
                status,
                elapsed,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": round(elapsed, 2),
                    "request_id": request_id,
                    "client": client[0] if client else None,
                },
            )
