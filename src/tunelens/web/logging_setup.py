"""Structured logs: one JSON object per line, and one access line per request.

Access lines carry method, path (never the query string), status, duration, request id and
client address. Bodies, uploads, headers and settings are never logged, so neither image bytes
nor secrets can leak into log files.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tunelens.web.request_id import REQUEST_ID_HEADER, RequestIdFilter
from tunelens.web.stats import ServiceStats

access_log = logging.getLogger("tunelens.web.access")

#: libraries whose DEBUG output can hold credentials or secret payloads
QUIET_LIBRARIES = ("botocore", "boto3", "s3transfer", "urllib3")
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's ANSI-coloured copy of msg
}


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", ...extra}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,  # several workers write to one journal
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """Human-readable lines (``TUNELENS_LOG_JSON=0``) with the same extra fields appended."""

    def format(self, record: logging.LogRecord) -> str:
        extra = {
            k: v
            for k, v in vars(record).items()
            if k not in _STANDARD_ATTRS and not k.startswith("_")
        }
        line = (
            f"{self.formatTime(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        )
        if extra:
            line += " " + " ".join(f"{k}={v}" for k, v in extra.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    """Send tunelens's and uvicorn's logs to stderr in one format (server processes only)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else PlainFormatter())
    handler.addFilter(RequestIdFilter())  # every line of a request carries its id
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # our middleware writes the access line; uvicorn's would duplicate it (with the query)
    logging.getLogger("uvicorn.access").disabled = True
    # at DEBUG, botocore logs whole response bodies: a Secrets Manager answer is a secret
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))


def _request_id(scope: Scope) -> str:
    # ForwardedMiddleware (web/request_id.py) runs first and decides: an incoming id is kept
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
