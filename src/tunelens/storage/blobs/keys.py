"""Content addresses: the key of a picture is its sha256 split as ``ab/cdef…``.

The first two hex digits name a sub-folder, so no directory grows past 1/256 of the pictures.
Keys are checked here and nowhere else; every store refuses a key that is not one, so a key
can never smuggle a path (``../``) into a store.
"""

from __future__ import annotations

__all__ = ["blob_key", "key_digest"]

_HEX = frozenset("0123456789abcdef")


def blob_key(sha256: str) -> str:
    """``ab/cdef…`` for a sha256 hex digest; refuses anything else (no path tricks)."""
    digest = sha256.strip().lower()
    if len(digest) != 64 or not set(digest) <= _HEX:
        raise ValueError(f"not a sha256 hex digest: {sha256!r}")
    return f"{digest[:2]}/{digest[2:]}"


def key_digest(key: str) -> str | None:
    """The sha256 a well-formed key stands for, or None."""
    digest = key.replace("/", "")
    if len(key) == 65 and key[2] == "/" and len(digest) == 64 and set(digest) <= _HEX:
        return digest
    return None
