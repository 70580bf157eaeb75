"""Errors of the storage layer: the database or the blob store cannot be reached."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError

from tunelens.core.errors import TunelensError


def _safe_url(url: str | URL) -> str:
    try:
        return (make_url(url) if isinstance(url, str) else url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


class StorageError(TunelensError):
    """A store tunelens keeps data in failed."""

    default_code = "storage_error"


class DatabaseUnavailable(StorageError):
    """The SQL database cannot be reached or refused the operation."""

    default_code = "database_unavailable"

    @classmethod
    @contextmanager
    def wrap(cls, url: str | URL) -> Iterator[None]:
        """Turn driver-level connection failures into one clear message."""
        try:
            yield
        except NoSuchModuleError as exc:
            raise cls(
                f"No database driver for {_safe_url(url)} ({exc}); install tunelens[postgres] "
                "for PostgreSQL.",
                code="database_driver_missing",
            ) from None
        except (OperationalError, InterfaceError) as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise cls(
                f"Cannot use the database at {_safe_url(url)}: {reason}",
                details={"url": _safe_url(url)},
            ) from exc


class BlobStoreUnavailable(StorageError):
    """The blob store (a directory or an S3-compatible service) cannot take or give a blob."""

    default_code = "blob_store_unavailable"
