"""Structured logs: one JSON object per line (or a plain line), the same for every logger.

Bodies, uploads, headers and settings are never logged, so neither image bytes nor secrets can
leak into log files; the access line per request is written by
:mod:`tunelens.web.middleware.access_log`, and configured secrets are blanked by
:mod:`tunelens.web.middleware.log_redaction`.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from tunelens.web.middleware.request_id import RequestIdFilter

#: libraries whose DEBUG output can hold credentials or secret payloads
QUIET_LIBRARIES = ("botocore", "boto3", "s3transfer", "urllib3")
#: libraries whose INFO lines tell an operator nothing to act on: faiss narrates each CPU build
#: it tries ("Could not load library with AVX512 support…"), alembic each step of a migration
#: ("Context impl SQLiteImpl.", "Running upgrade…"); their warnings and errors still show
CHATTY_LIBRARIES = ("faiss", "alembic")
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
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # Pillow's and numpy's warnings (a decompression-bomb hint, an overflow in a score) become
    # log records: JSON lines like every other, carrying the request's id (off first: capture
    # that was turned on before, e.g. by an earlier configuration, is taken up afresh)
    logging.captureWarnings(False)
    logging.captureWarnings(True)
