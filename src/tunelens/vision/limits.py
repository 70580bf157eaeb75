"""Limits and signatures: which bytes are refused before (or while) decoding, and why.

Split from :mod:`tunelens.vision.imaging` so the decoding path reads as a sequence of steps and
the rules for hostile input — sizes, pixel counts, formats we do not decode, the signatures of
things that are not pictures — sit together where a security review looks for them.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Any, Final

from tunelens.core.errors import InvalidImage
from tunelens.core.settings import Settings

SUPPORTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "MPO"})
SUPPORTED_HUMAN: Final = "JPEG, PNG, WebP, GIF, BMP or TIFF"

# ISO-BMFF brands of still-image formats we do not decode; Pillow may or may not know them
# depending on how it was built, so they are named here rather than left to chance.
_ISO_IMAGE_BRANDS: Final = {
    b"avif": "AVIF",
    b"avis": "AVIF",
    b"heic": "HEIC",
    b"heix": "HEIC",
    b"heim": "HEIC",
    b"heis": "HEIC",
    b"hevc": "HEIC",
    b"hevx": "HEIC",
    b"hevm": "HEIC",
    b"hevs": "HEIC",
    b"mif1": "HEIF",
    b"msf1": "HEIF",
}

_NON_IMAGE_KINDS: Final = {
    "pdf": "a PDF document",
    "zip": "a ZIP archive (or an Office document)",
    "gzip": "a gzip-compressed file",
    "iso_media": "a video or other MP4/QuickTime media file",
    "svg": "an SVG drawing (vector images are not supported)",
    "html": "a web page (HTML)",
    "xml": "an XML document",
    "text": "a text file",
}

BOMB_PIXELS_RE: Final = re.compile(r"\((\d+) pixels\)")


def check_byte_size(n_bytes: int, settings: Settings) -> None:
    if n_bytes == 0:
        raise InvalidImage(
            f"The file is empty (0 bytes); expected a {SUPPORTED_HUMAN} image.",
            code="empty_file",
            details={"actual": 0},
        )
    limit = settings.max_image_bytes
    if n_bytes > limit:
        raise InvalidImage(
            f"The file is {_megabytes(n_bytes)} ({n_bytes:,} bytes); the limit is "
            f"{_megabytes(limit)} ({limit:,} bytes).",
            code="too_large",
            details={"limit": limit, "actual": n_bytes},
        )


def path_problem(path: Path, reason: str, message: str) -> InvalidImage:
    return InvalidImage(
        message, code="file_not_found", details={"path": str(path), "reason": reason}
    )


# --- limits and signatures -----------------------------------------------------------------


def check_dimensions(width: int, height: int, settings: Settings) -> None:
    if width * height > settings.max_image_pixels:
        raise too_many_pixels(settings, actual=width * height, size=(width, height))
    limit = settings.min_image_side
    if min(width, height) < limit:
        raise InvalidImage(
            f"The image is only {width}x{height} pixels; both sides must be at least "
            f"{limit} pixels.",
            code="too_small",
            details={
                "limit": limit,
                "actual": min(width, height),
                "width": width,
                "height": height,
            },
        )


def too_many_pixels(
    settings: Settings, *, actual: int | None, size: tuple[int, int] | None = None
) -> InvalidImage:
    limit = settings.max_image_pixels
    details: dict[str, Any] = {"limit": limit, "actual": actual}
    if size is not None:
        width, height = size
        details.update(width=width, height=height)
        what = f"{width}x{height} pixels ({width * height / 1e6:.1f} megapixels)"
    elif actual is not None:
        what = f"{actual / 1e6:.1f} megapixels"
    else:
        what = "larger than the decoder's safety limit"
    return InvalidImage(
        f"The image is {what}; the limit is {limit / 1e6:g} megapixels.",
        code="too_many_pixels",
        details=details,
    )


def unsupported(fmt: str) -> InvalidImage:
    return InvalidImage(
        f"{_human_format(fmt)} images are not supported; please convert it to {SUPPORTED_HUMAN}.",
        code="unsupported_format",
        details={"format": fmt, "supported": sorted(SUPPORTED_FORMATS)},
    )


def truncated(fmt: str, reason: str) -> InvalidImage:
    return InvalidImage(
        f"This {_human_format(fmt)} image is damaged or cut short and cannot be decoded.",
        code="truncated",
        details={"format": fmt, "reason": reason},
    )


def unreadable(data: bytes, reason: str) -> InvalidImage:
    """Pillow gave up: a known image signature means damage, anything else means not an image."""
    fmt = _supported_signature(data)
    if fmt is not None:
        return truncated(fmt, reason)
    kind = _describe_non_image(data)
    what = (
        "in any format tunelens recognises"
        if kind == "unknown"
        else f"(it looks like {_NON_IMAGE_KINDS[kind]})"
    )
    return InvalidImage(
        f"This file is not an image {what}. Supported formats: {SUPPORTED_HUMAN}.",
        code="not_an_image",
        details={"detected": kind},
    )


def reject_unsupported_signature(data: bytes) -> None:
    """Name formats we refuse before Pillow touches them.

    HEIC/AVIF would otherwise be reported vaguely (or decoded, where Pillow has AVIF), and
    opening EPS makes Pillow look for Ghostscript, which must never run on uploads.
    """
    fmt: str | None = None
    if len(data) >= 12 and data[4:8] == b"ftyp":
        box_end = min(len(data), max(16, int.from_bytes(data[:4], "big")), 256)
        brands = [data[8:12]] + [data[i : i + 4] for i in range(16, box_end - 3, 4)]
        found = {_ISO_IMAGE_BRANDS[b] for b in brands if b in _ISO_IMAGE_BRANDS}
        fmt = next((name for name in ("AVIF", "HEIC", "HEIF") if name in found), None)
    elif data.startswith((b"%!PS", b"\xc5\xd0\xd3\xc6")):
        fmt = "EPS"
    elif data.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):
        fmt = "JPEG XL"
    if fmt is not None:
        raise unsupported(fmt)


def _supported_signature(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "WEBP"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    # "BM" alone is too weak (text can start with it); the reserved header words are zero.
    if data.startswith(b"BM") and data[6:10] == b"\x00\x00\x00\x00":
        return "BMP"
    return None


def _describe_non_image(data: bytes) -> str:
    head = data[:1024]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head[4:8] == b"ftyp":
        return "iso_media"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if b"<svg" in text:
        return "svg"
    if text.startswith(b"<!doctype html") or b"<html" in text:
        return "html"
    if text.startswith(b"<?xml"):
        return "xml"
    if _looks_like_text(head):
        return "text"
    return "unknown"


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    decoded = head.decode("utf-8", errors="replace")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in decoded)
    return printable >= 0.95 * len(decoded)


def webp_canvas_size(data: bytes) -> tuple[int, int] | None:
    """Canvas size from a WebP header (RFC 9649), read without any decoder."""
    if len(data) < 30 or not data.startswith(b"RIFF") or data[8:12] != b"WEBP":
        return None
    chunk = data[12:16]
    if chunk == b"VP8X":
        return (
            int.from_bytes(data[24:27], "little") + 1,
            int.from_bytes(data[27:30], "little") + 1,
        )
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        return (
            int.from_bytes(data[26:28], "little") & 0x3FFF,
            int.from_bytes(data[28:30], "little") & 0x3FFF,
        )
    return None


def png_damage(data: bytes) -> str | None:
    """Verify the CRCs of critical PNG chunks, which Pillow skips for image data.

    A flipped bit in IDAT can still inflate to a plausible-looking but wrong picture; libpng
    (and so browsers) refuse such files, and so do we. Ancillary chunks are skipped, as in
    libpng. Running out of data is left to the decoder to judge.
    """
    view = memoryview(data)
    pos, end_of_data = 8, len(data)
    while pos + 12 <= end_of_data:
        length = int.from_bytes(view[pos : pos + 4], "big")
        chunk_type = bytes(view[pos + 4 : pos + 8])
        chunk_end = pos + 12 + length
        if chunk_end > end_of_data:
            return None
        if not chunk_type[0] & 0x20:
            stored = int.from_bytes(view[chunk_end - 4 : chunk_end], "big")
            if zlib.crc32(view[pos + 4 : chunk_end - 4]) != stored:
                name = chunk_type.decode("latin-1")
                return f"CRC mismatch in the {name} chunk"
        if chunk_type == b"IEND":
            return None
        pos = chunk_end
    return None


def _human_format(fmt: str) -> str:
    return {"WEBP": "WebP", "JPEG2000": "JPEG 2000", "MPO": "JPEG (MPO)"}.get(fmt, fmt)


def _megabytes(n_bytes: int) -> str:
    return f"{n_bytes / (1024 * 1024):.1f} MB"
