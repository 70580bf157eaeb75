"""The store the settings name, and the health probe the server runs against it."""

from __future__ import annotations

from tunelens.core.settings import Settings, get_settings
from tunelens.storage.blobs.local import LocalBlobStore
from tunelens.storage.blobs.s3 import S3BlobStore
from tunelens.storage.blobs.store import BlobStore

__all__ = ["probe_blob_store", "store_from_settings"]


def store_from_settings(settings: Settings | None = None) -> BlobStore:
    """The configured store: ``local`` (``<data_dir>/uploads``) or ``s3``."""
    settings = settings or get_settings()
    if settings.blob_backend == "s3":
        return S3BlobStore.from_settings(settings)
    return LocalBlobStore(settings.data_dir / "uploads")


def probe_blob_store(store: BlobStore) -> None:
    """Raise :class:`~tunelens.storage.errors.BlobStoreUnavailable` unless ``store`` can take
    blobs right now.

    S3: one ``HeadBucket`` (fails fast on a dead endpoint: 2 s connect timeout; a 403 counts
    as reachable); local: the root directory exists or can be made. Used by the server's
    health watch.
    """
    if isinstance(store, S3BlobStore | LocalBlobStore):
        store.probe()
