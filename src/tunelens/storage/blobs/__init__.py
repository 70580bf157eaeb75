"""Where consented pictures are kept: a local directory, or any S3-compatible store.

Blobs are content-addressed: the key of a picture is its sha256 split as ``ab/cdef…`` (the
first two hex digits name a sub-folder, so no directory grows past 1/256 of the pictures). A
key is derived from the sha256 of the bytes *as uploaded* — the hash predictions carry and a
privacy request names — while the object stored under it is the metadata-stripped picture.
The same picture offered twice lands on the same key, so it is never stored twice.

When the store cannot take a picture (S3 down, credentials wrong), the picture goes to the
:class:`Outbox`, a local directory, and :meth:`Outbox.flush` delivers it later.

One module per idea: :mod:`.keys` (content addresses), :mod:`.store` (the protocol),
:mod:`.local` and :mod:`.s3` (the two stores), :mod:`.outbox`, and :mod:`.configured` (the
store the settings name, and its health probe). Their public names are importable from here.
"""

from tunelens.storage.blobs.configured import probe_blob_store, store_from_settings
from tunelens.storage.blobs.keys import blob_key, key_digest
from tunelens.storage.blobs.local import LocalBlobStore
from tunelens.storage.blobs.outbox import FlushReport, Outbox, OutboxEntry
from tunelens.storage.blobs.s3 import S3BlobStore
from tunelens.storage.blobs.store import BlobInfo, BlobStore

__all__ = [
    "BlobInfo",
    "BlobStore",
    "FlushReport",
    "LocalBlobStore",
    "Outbox",
    "OutboxEntry",
    "S3BlobStore",
    "blob_key",
    "key_digest",
    "probe_blob_store",
    "store_from_settings",
]
