"""The error hierarchy every user-facing failure goes through.

Each error carries a stable machine-readable ``code`` (clients branch on it, so codes never
change meaning) and nothing about HTTP: the web layer maps errors to statuses
(:mod:`tunelens.web.http_status`). The CLI prints ``message`` and exits non-zero; the API wraps
it in ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class TunelensError(Exception):
    """Base class: a failure the user (or operator) caused and can fix."""

    default_code: ClassVar[str] = "tunelens_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details: dict[str, Any] = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidImage(TunelensError):
    """The bytes given are not an image tunelens can read, or break a configured limit."""

    default_code = "not_an_image"


class InvalidRequest(TunelensError):
    """A request's parameters are wrong (bad top-k, unknown language, missing field)."""

    default_code = "invalid_request"


class NotFound(TunelensError):
    """An id (track, prediction) does not exist."""

    default_code = "not_found"


class ModelUnavailable(TunelensError):
    """Model weights are missing, cannot be downloaded, or are corrupt."""

    default_code = "model_unavailable"


class DownloadError(TunelensError):
    """A network fetch (model or catalogue) failed or returned the wrong bytes."""

    default_code = "download_failed"


class CatalogError(TunelensError):
    """A catalogue source or index is missing, unreadable, or does not match."""

    default_code = "catalog_error"


class ConfigError(TunelensError):
    """A setting is missing or invalid."""

    default_code = "config_error"
