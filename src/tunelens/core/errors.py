"""The error hierarchy every user-facing failure goes through.

Each error carries a stable machine-readable ``code`` (clients branch on it, so codes never
change meaning) and the HTTP status the API maps it to. The CLI prints ``message`` and exits
non-zero; the API wraps it in ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class TunelensError(Exception):
    """Base class: a failure the user (or operator) caused and can fix."""

    default_code: ClassVar[str] = "tunelens_error"
    default_status: ClassVar[int] = 500
    #: status per code, for subclasses whose codes map to different HTTP statuses
    status_by_code: ClassVar[dict[str, int]] = {}

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

    @property
    def http_status(self) -> int:
        return self.status_by_code.get(self.code, self.default_status)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidImage(TunelensError):
    """The bytes given are not an image tunelens can read, or break a configured limit."""

    default_code = "not_an_image"
    default_status = 400
    status_by_code: ClassVar[dict[str, int]] = {
        "empty_file": 400,
        "not_an_image": 415,
        "truncated": 400,
        "too_large": 413,
        "too_many_pixels": 413,
        "too_small": 400,
        "unsupported_format": 415,
        "file_not_found": 400,
    }


class InvalidRequest(TunelensError):
    """A request's parameters are wrong (bad top-k, unknown language, missing field)."""

    default_code = "invalid_request"
    default_status = 422


class NotFound(TunelensError):
    """An id (track, prediction) does not exist."""

    default_code = "not_found"
    default_status = 404


class ModelUnavailable(TunelensError):
    """Model weights are missing, cannot be downloaded, or are corrupt."""

    default_code = "model_unavailable"
    default_status = 503


class DownloadError(TunelensError):
    """A network fetch (model or catalogue) failed or returned the wrong bytes."""

    default_code = "download_failed"
    default_status = 502


class CatalogError(TunelensError):
    """A catalogue source or index is missing, unreadable, or does not match."""

    default_code = "catalog_error"
    default_status = 503
    status_by_code: ClassVar[dict[str, int]] = {
        "catalog_missing": 503,
        "catalog_invalid": 400,
        "catalog_empty": 400,
        "index_mismatch": 503,
        "index_corrupt": 503,
    }


class ConfigError(TunelensError):
    """A setting is missing or invalid."""

    default_code = "config_error"
    default_status = 500
