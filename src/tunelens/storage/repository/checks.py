"""Checks of the values callers hand the repository, before anything is written.

A user mistake (an unknown feedback kind, a malformed client id, a sha256 that is not one)
raises :class:`~tunelens.core.errors.InvalidRequest` with a stable code here, so the API can
answer 400 and the database never holds a value the analytics would have to guess about.
"""

from __future__ import annotations

import string

from tunelens.core.errors import InvalidRequest
from tunelens.storage.db import FEEDBACK_KINDS, FeedbackKind

__all__ = [
    "MAX_CLIENT_ID_CHARS",
    "check_client_id",
    "check_kind",
    "check_prediction_id",
    "check_sha256",
    "check_track_id",
    "clip",
]

MAX_CLIENT_ID_CHARS = 64
_CLIENT_ID_CHARS = frozenset(string.ascii_letters + string.digits + "-_.:")
_HEX = frozenset("0123456789abcdef")


def check_client_id(client_id: str | None) -> str | None:
    """An anonymous client/session id: up to 64 of ``A-Za-z0-9-_.:``; empty means none."""
    if client_id is None or not client_id.strip():
        return None
    value = client_id.strip()
    if len(value) > MAX_CLIENT_ID_CHARS or not set(value) <= _CLIENT_ID_CHARS:
        raise InvalidRequest(
            f"client_id must be 1–{MAX_CLIENT_ID_CHARS} letters, digits or '-_.:'.",
            code="invalid_client_id",
            details={"limit": MAX_CLIENT_ID_CHARS},
        )
    return value


def check_sha256(value: str) -> str:
    """A sha256 hex digest, lower-cased; anything else is refused (it names files and rows)."""
    lowered = value.strip().lower()
    if len(lowered) != 64 or not set(lowered) <= _HEX:
        raise InvalidRequest(
            f"{value!r} is not a sha256 hex digest (64 hex digits).",
            code="invalid_sha256",
        )
    return lowered


def check_prediction_id(prediction_id: str) -> str:
    """A caller-chosen prediction id: exactly 32 lower-case hex digits."""
    if len(prediction_id) != 32 or not set(prediction_id) <= _HEX:
        raise InvalidRequest(
            "prediction_id must be 32 lower-case hex digits.", code="invalid_prediction_id"
        )
    return prediction_id


def check_kind(kind: str) -> FeedbackKind:
    """One of :data:`~tunelens.storage.db.FEEDBACK_KINDS`."""
    for known in FEEDBACK_KINDS:
        if kind == known:
            return known
    raise InvalidRequest(
        f"feedback kind must be one of {', '.join(FEEDBACK_KINDS)}; got {kind!r}.",
        code="invalid_feedback_kind",
        details={"allowed": list(FEEDBACK_KINDS), "actual": kind},
    )


def check_track_id(track_id: str) -> str:
    """A song id as the catalogue spells it: 1–255 characters after stripping."""
    value = track_id.strip()
    if not value or len(value) > 255:
        raise InvalidRequest(
            "track_id must be 1–255 characters.", code="invalid_track_id", details={"limit": 255}
        )
    return value


def clip(value: str | None, limit: int) -> str | None:
    """``value`` cut to the column's width; empty becomes None."""
    return value[:limit] if value else None
