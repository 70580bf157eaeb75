"""The HTTP status of every error the core, storage and playlists can raise.

The core's errors carry only a stable ``code``: an HTTP status is a web concern, and the CLI
and batch never need one. This table is the one place that maps them; errors the web layer
defines itself (``EngineUnavailable``, ``MissingImage``…) declare their own ``default_status``.
"""

from __future__ import annotations

from tunelens.core.errors import (
    CatalogError,
    ConfigError,
    DownloadError,
    InvalidImage,
    InvalidRequest,
    ModelUnavailable,
    NotFound,
    TunelensError,
)
from tunelens.playlists.regional import PlaylistError
from tunelens.storage.errors import StorageError

#: status of each error class; a subclass not listed takes its nearest listed base's
STATUS_BY_CLASS: dict[type[TunelensError], int] = {
    TunelensError: 500,
    InvalidImage: 400,
    InvalidRequest: 422,
    NotFound: 404,
    ModelUnavailable: 503,
    DownloadError: 502,
    CatalogError: 503,
    ConfigError: 500,
    PlaylistError: 503,
    StorageError: 503,
}
#: statuses of single codes where a class's codes differ (checked before the class)
STATUS_BY_CODE: dict[tuple[type[TunelensError], str], int] = {
    (InvalidImage, "empty_file"): 400,
    (InvalidImage, "not_an_image"): 415,
    (InvalidImage, "truncated"): 400,
    (InvalidImage, "too_large"): 413,
    (InvalidImage, "too_many_pixels"): 413,
    (InvalidImage, "too_small"): 400,
    (InvalidImage, "unsupported_format"): 415,
    (InvalidImage, "file_not_found"): 400,
    (CatalogError, "catalog_missing"): 503,
    (CatalogError, "catalog_invalid"): 400,
    (CatalogError, "catalog_empty"): 400,
    (CatalogError, "index_mismatch"): 503,
    (CatalogError, "index_corrupt"): 503,
}


def http_status(exc: TunelensError) -> int:
    """The status an API answer with this error carries."""
    own = getattr(exc, "http_status", None)  # web errors may decide per instance
    if isinstance(own, int):
        return own
    declared = getattr(type(exc), "default_status", None)  # web errors declare theirs
    if isinstance(declared, int):
        return declared
    for cls in type(exc).__mro__:
        if not (isinstance(cls, type) and issubclass(cls, TunelensError)):
            continue
        status = STATUS_BY_CODE.get((cls, exc.code))
        if status is not None:
            return status
        if cls in STATUS_BY_CLASS:
            return STATUS_BY_CLASS[cls]
    return 500
