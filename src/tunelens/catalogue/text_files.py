"""Refuse files that are not catalogue text before a parser makes a mess of them.

A ZIP, a PDF or a Parquet file handed to the CSV reader would come back as thousands of
meaningless row problems; naming what the file actually is (and what to do about it) is the
useful answer. Shared by the CSV and JSON Lines loaders and by format sniffing.
"""

from __future__ import annotations

from pathlib import Path

from tunelens.core.errors import CatalogError

__all__ = ["check_text_file", "not_utf8"]

_BINARY_MAGIC: dict[bytes, str] = {
    b"PK\x03\x04": "a ZIP archive (unzip it first)",
    b"\x1f\x8b": "gzip-compressed (decompress it first)",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"SQLite format 3": "an SQLite database",
    b"\x93NUMPY": "a NumPy array file",
    b"PAR1": "a Parquet file (export it as CSV)",
}


def check_text_file(path: Path) -> None:
    """Refuse missing, empty and binary files before the parser makes a mess of them."""
    if not path.exists():
        raise CatalogError(f"catalogue source not found: {path}", code="catalog_missing")
    if not path.is_file():
        raise CatalogError(f"catalogue source is not a file: {path}", code="catalog_invalid")
    with path.open("rb") as handle:
        head = handle.read(8192)
    if not head.strip():
        raise CatalogError(f"{path} is empty", code="catalog_empty")
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise CatalogError(
                f"{path} is {what}, not a catalogue text file", code="catalog_invalid"
            )
    if b"\x00" in head:
        raise CatalogError(
            f"{path} looks like a binary file (it contains NUL bytes), not CSV or JSON Lines",
            code="catalog_invalid",
        )


def not_utf8(path: Path, line: int, exc: UnicodeDecodeError) -> CatalogError:
    """The error for a file that stops decoding as UTF-8 near ``line``."""
    return CatalogError(
        f"{path} is not UTF-8 text (undecodable byte near line {line}: {exc.reason}); "
        "re-save it as UTF-8",
        code="catalog_invalid",
    )
