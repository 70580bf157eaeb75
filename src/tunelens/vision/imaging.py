"""The one gate every picture passes before tunelens looks at it.

Photos arrive from web uploads, CLI paths and batch jobs, so they are untrusted: they may be
empty, cut short, not images at all, formats we cannot promise to read, or decompression
bombs built to exhaust memory. This module turns all of those into an ``InvalidImage`` with a
stable ``code`` and a sentence a person can act on, and hands everything downstream one shape:
upright RGB ``uint8`` pixels with alpha flattened onto white and the short side shrunk to
``work_side`` (large enough for a 224² model crop and an occlusion heatmap, small enough that a
40 MP photo costs nothing after decoding).

Limits are checked in order of cost: byte size before reading, the header's pixel count before
decoding, and only then the (JPEG draft-scaled) decode itself.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import struct
import threading
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from PIL import ExifTags, Image, ImageFile, UnidentifiedImageError

from tunelens.core.errors import InvalidImage
from tunelens.core.settings import Settings, get_settings

__all__ = [
    "CLIP_MEAN",
    "CLIP_STD",
    "SUPPORTED_FORMATS",
    "LoadedImage",
    "load_image",
    "thumbnail",
    "to_model_input",
]

CLIP_MEAN: tuple[float, float, float] = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD: tuple[float, float, float] = (0.26862954, 0.26130258, 0.27577711)
SUPPORTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "MPO"})

_SUPPORTED_HUMAN: Final = "JPEG, PNG, WebP, GIF, BMP or TIFF"
_WHITE: Final = (255, 255, 255)

# What Pillow's decoders raise on hostile or damaged input (the set Pillow's own fuzzing
# tests accept, plus zlib/struct errors some plugins let through). Anything else is a bug
# in our code or Pillow's and must surface as such, not be reported as a bad image.
_DECODE_ERRORS: Final = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    NotImplementedError,
    OverflowError,
    struct.error,
    zlib.error,
)

# Pillow reports bombs through a global warning filter; flipping that filter must not race
# with another thread doing the same inside this module (catch_warnings is not thread-safe).
_WARNINGS_LOCK: Final = threading.Lock()

_ORIENTATION_TAG: Final = ExifTags.Base.Orientation
_TRANSPOSE_FOR_ORIENTATION: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_AXES: Final = frozenset({5, 6, 7, 8})

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

_BOMB_PIXELS_RE: Final = re.compile(r"\((\d+) pixels\)")


@dataclass(frozen=True, eq=False)
class LoadedImage:
    """A decoded, validated picture in the single layout the rest of tunelens expects.

    ``eq=False`` because field-wise equality would compare numpy arrays (ambiguous truth
    value) and hashing would fail; identity semantics are what callers need.
    """

    pixels: NDArray[np.uint8]
    original_size: tuple[int, int]
    format: str
    sha256: str
    n_bytes: int

    @classmethod
    def from_array(cls, pixels: NDArray[np.uint8]) -> LoadedImage:
        """Wrap pixels that never were a file (occlusion variants, synthetic test images).

        A wrong shape or dtype here is a programming error, not user input, so it raises
        ``ValueError`` instead of ``InvalidImage``.
        """
        array = np.asarray(pixels)
        if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
            msg = f"expected a uint8 array of shape (H, W, 3), got {array.dtype} {array.shape}"
            raise ValueError(msg)
        if array.shape[0] == 0 or array.shape[1] == 0:
            msg = f"expected a non-empty image, got shape {array.shape}"
            raise ValueError(msg)
        array = np.ascontiguousarray(array)
        return cls(
            pixels=array,
            original_size=(int(array.shape[1]), int(array.shape[0])),
            format="array",
            sha256="",
            n_bytes=int(array.nbytes),
        )


#: decoded short side when a heatmap or a photo for the LLM will be made from the picture
DETAIL_WORK_SIDE = 448
#: decoded short side when only the reading is needed: enough for the 224² crop, the colour
#: statistics and face detection (same faces found on the shared photos), and it lets libjpeg's
#: draft decode scale further (1/4 instead of 1/2 for 1080p): ≈ 9–12 ms less per photo
FAST_WORK_SIDE = 256


def load_image(
    source: bytes | str | os.PathLike[str],
    *,
    settings: Settings | None = None,
    work_side: int = DETAIL_WORK_SIDE,
) -> LoadedImage:
    """Read, validate and decode one picture, or explain in one sentence why not.

    ``work_side`` bounds the decoded short side so callers never pay for more pixels than
    the model crop and the heatmap use; images smaller than it are never upscaled.
    """
    if work_side < 1:
        msg = f"work_side must be >= 1, got {work_side}"
        raise ValueError(msg)
    settings = get_settings() if settings is None else settings
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        _check_byte_size(len(data), settings)
    elif isinstance(source, str | os.PathLike):
        data = _read_path(Path(source), settings)
    else:
        msg = f"source must be bytes or a path, got {type(source).__name__}"
        raise TypeError(msg)
    return _decode(data, settings, work_side)


def to_model_input(
    images: Sequence[LoadedImage],
    size: int = 224,
    mean: tuple[float, float, float] = CLIP_MEAN,
    std: tuple[float, float, float] = CLIP_STD,
) -> NDArray[np.float32]:
    """Batch images exactly as CLIP's own preprocessing does, in one resample per image.

    CLIP resizes the short side to ``size`` (bicubic, torchvision rounding), centre-crops,
    scales to [0, 1] and normalises. Resizing only the crop box with Pillow's ``box`` gives
    the same pixels without materialising the intermediate resized image.
    """
    if size < 1:
        msg = f"size must be >= 1, got {size}"
        raise ValueError(msg)
    std_arr = np.asarray(std, dtype=np.float32).reshape(3, 1, 1)
    scale = (1.0 / (255.0 * std_arr)).astype(np.float32)
    offset = (np.asarray(mean, dtype=np.float32).reshape(3, 1, 1) / std_arr).astype(np.float32)
    batch = np.empty((len(images), 3, size, size), dtype=np.float32)
    for i, image in enumerate(images):
        crop = _resize_centre_crop(image.pixels, size)
        np.multiply(crop.transpose(2, 0, 1), scale, out=batch[i])
        batch[i] -= offset
    return batch


def thumbnail(image: LoadedImage, max_side: int = 256) -> NDArray[np.uint8]:
    """Shrink for colour statistics; box averaging keeps means and saturation unbiased.

    Bicubic would add overshoot that is clipped at 0 and 255, nudging colour statistics.
    """
    if max_side < 1:
        msg = f"max_side must be >= 1, got {max_side}"
        raise ValueError(msg)
    img = Image.fromarray(image.pixels)
    img.thumbnail((max_side, max_side), Image.Resampling.BOX)
    return np.array(img, dtype=np.uint8)


# --- reading -------------------------------------------------------------------------------


def _read_path(path: Path, settings: Settings) -> bytes:
    """Stat first so an oversized file is refused without reading a byte of it."""
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise _path_problem(path, "is_a_directory", f"{path} is a folder, not an image file.")
        if not stat.S_ISREG(st.st_mode):
            raise _path_problem(
                path,
                "not_a_regular_file",
                f"{path} is not a regular file (a device, pipe or socket), so it is not an image.",
            )
        _check_byte_size(st.st_size, settings)
        with path.open("rb") as fh:
            # One byte over the limit is enough to tell that the file grew since the stat.
            data = fh.read(settings.max_image_bytes + 1)
    except (FileNotFoundError, NotADirectoryError):
        raise _path_problem(path, "missing", f"No such file: {path}") from None
    except PermissionError:
        raise _path_problem(
            path, "permission_denied", f"Cannot read {path}: permission denied."
        ) from None
    except OSError as exc:
        raise _path_problem(
            path, "os_error", f"Cannot read {path}: {exc.strerror or exc}."
        ) from None
    _check_byte_size(len(data), settings)
    return data


def _path_problem(path: Path, reason: str, message: str) -> InvalidImage:
    return InvalidImage(
        message, code="file_not_found", details={"path": str(path), "reason": reason}
    )


def _check_byte_size(n_bytes: int, settings: Settings) -> None:
    if n_bytes == 0:
        raise InvalidImage(
            f"The file is empty (0 bytes); expected a {_SUPPORTED_HUMAN} image.",
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


# --- decoding ------------------------------------------------------------------------------


def _decode(data: bytes, settings: Settings, work_side: int) -> LoadedImage:
    _reject_unsupported_signature(data)
    webp_size = _webp_canvas_size(data)
    if webp_size is not None:
        # Pillow's WebP plugin allocates the whole canvas while opening, so the header is
        # checked here, before Pillow sees the file.
        _check_dimensions(*webp_size, settings)

    img = _open(data, settings)
    try:
        fmt = img.format or "unknown"
        if fmt not in SUPPORTED_FORMATS:
            raise _unsupported(fmt)
        width, height = img.size
        _check_dimensions(width, height, settings)
        if fmt == "PNG":
            damage = _png_damage(data)
            if damage is not None:
                raise _truncated(fmt, damage)
        if fmt in {"JPEG", "MPO"}:
            _request_draft(img, work_side)
        try:
            img.load()
        except _DECODE_ERRORS as exc:
            raise _truncated(fmt, str(exc)) from exc
        orientation = _exif_orientation(img)
        # Shrink before rotating: the transpose then copies work_side-sized data, not 40 MP.
        rgb = _shrink(_to_rgb(img), work_side)
        transpose = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
        if transpose is not None:
            rgb = rgb.transpose(transpose)
        # Copy out before close(): a closed Pillow image no longer owns its pixels.
        pixels = np.array(rgb, dtype=np.uint8)
    finally:
        img.close()

    original_size = (height, width) if orientation in _SWAPS_AXES else (width, height)
    return LoadedImage(
        pixels=pixels,
        original_size=original_size,
        format=fmt,
        sha256=hashlib.sha256(data).hexdigest(),
        n_bytes=len(data),
    )


def _open(data: bytes, settings: Settings) -> ImageFile.ImageFile:
    """Identify the format from the header only; no pixel data is decoded here.

    Pillow's own bomb guard (a warning above ``MAX_IMAGE_PIXELS``, an error above twice
    that) is turned into ``too_many_pixels`` without touching the global filters for
    longer than the ``open`` call. Our configured limit is enforced separately afterwards,
    so both apply: raising ``max_image_pixels`` above Pillow's ``MAX_IMAGE_PIXELS`` only
    takes effect if the operator raises Pillow's too.
    """
    try:
        with _WARNINGS_LOCK, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        match = _BOMB_PIXELS_RE.search(str(exc))
        actual = int(match.group(1)) if match else None
        raise _too_many_pixels(settings, actual=actual) from exc
    except UnidentifiedImageError as exc:
        raise _unreadable(data, "Pillow could not identify the format") from exc
    except _DECODE_ERRORS as exc:
        raise _unreadable(data, str(exc)) from exc


def _request_draft(img: ImageFile.ImageFile, work_side: int) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale, keeping the short side >= work_side.

    This is the biggest saving in the whole pipeline: a 12 MP photo decodes as ~0.75 MP.
    """
    width, height = img.size
    short = min(width, height)
    if short < 2 * work_side:
        return
    target = (max(1, width * work_side // short), max(1, height * work_side // short))
    img.draft("RGB", target)


def _exif_orientation(img: Image.Image) -> int:
    """Read the EXIF orientation; broken EXIF must not make a viewable photo unreadable."""
    try:
        value = img.getexif().get(_ORIENTATION_TAG, 1)
    except _DECODE_ERRORS:
        return 1
    return value if isinstance(value, int) and value in _TRANSPOSE_FOR_ORIENTATION else 1


def _to_rgb(img: Image.Image) -> Image.Image:
    """Bring every mode Pillow can hand back to 8-bit RGB without losing the picture.

    Pillow's own ``I;16``/``I``/``F`` conversions clip to 0..255 (a mid-grey 16-bit PNG turns
    white), so high-bit-depth data is rescaled in numpy instead.
    """
    mode = img.mode
    if mode == "RGB" and "transparency" not in img.info:
        return img
    if mode.startswith("I") or mode == "F":
        return Image.fromarray(_to_uint8(np.asarray(img), mode)).convert("RGB")
    has_alpha = mode in {"RGBA", "LA", "PA", "RGBa", "La"} or "transparency" in img.info
    try:
        if has_alpha:
            # Pillow cannot go from premultiplied "La" straight to RGBA; "LA" is the bridge.
            rgba = (img.convert("LA") if mode == "La" else img).convert("RGBA")
            background = Image.new("RGB", rgba.size, _WHITE)
            background.paste(rgba, mask=rgba.getchannel("A"))
            return background
        return img.convert("RGB")
    except ValueError as exc:
        raise InvalidImage(
            f"This {img.format} image uses the colour mode {mode}, which tunelens cannot "
            "convert to RGB.",
            code="unsupported_format",
            details={"format": img.format, "mode": mode},
        ) from exc


def _to_uint8(values: NDArray[Any], mode: str) -> NDArray[np.uint8]:
    """Map high-bit-depth samples to 0..255 by their evident range, never by clipping.

    ``I;16*`` is always 16-bit, so it is divided by 257 (mid-grey stays mid-grey, dark stays
    dark). ``I`` and ``F`` carry no declared range: 8-bit, 16-bit and [0, 1] float ranges are
    recognised, anything else is stretched min..max.
    """
    data = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low = float(data.min()) if data.size else 0.0
    high = float(data.max()) if data.size else 0.0
    if mode.startswith("I;16"):
        scaled = data / 257.0
    elif mode == "F" and low >= 0 and high <= 1.0:
        scaled = data * 255.0
    elif low >= 0 and high <= 255:
        scaled = data
    elif low >= 0 and high <= 65535:
        scaled = data / 257.0
    elif high > low:
        scaled = (data - low) * (255.0 / (high - low))
    else:
        scaled = np.zeros_like(data)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _shrink(img: Image.Image, work_side: int) -> Image.Image:
    """Resize so the short side is exactly ``work_side``; never upscale.

    ``reducing_gap`` lets Pillow do an integer ``reduce`` first (cheap box averaging) and
    only a short bicubic step afterwards.
    """
    width, height = img.size
    short = min(width, height)
    if short <= work_side:
        return img
    size = (max(1, round(width * work_side / short)), max(1, round(height * work_side / short)))
    return img.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)


def _resize_centre_crop(pixels: NDArray[np.uint8], size: int) -> NDArray[np.uint8]:
    height, width = int(pixels.shape[0]), int(pixels.shape[1])
    # torchvision.transforms.Resize(int): short side -> size, long side truncated.
    if width <= height:
        new_w, new_h = size, int(size * height / width)
    else:
        new_w, new_h = int(size * width / height), size
    # torchvision.transforms.CenterCrop: offsets rounded half to even, as Python's round().
    left = round((new_w - size) / 2.0)
    top = round((new_h - size) / 2.0)
    sx, sy = width / new_w, height / new_h
    box = (left * sx, top * sy, (left + size) * sx, (top + size) * sy)
    img = Image.fromarray(pixels)
    return np.asarray(img.resize((size, size), Image.Resampling.BICUBIC, box=box), dtype=np.uint8)


# --- limits and signatures -----------------------------------------------------------------


def _check_dimensions(width: int, height: int, settings: Settings) -> None:
    if width * height > settings.max_image_pixels:
        raise _too_many_pixels(settings, actual=width * height, size=(width, height))
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


def _too_many_pixels(
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


def _unsupported(fmt: str) -> InvalidImage:
    return InvalidImage(
        f"{_human_format(fmt)} images are not supported; please convert it to {_SUPPORTED_HUMAN}.",
        code="unsupported_format",
        details={"format": fmt, "supported": sorted(SUPPORTED_FORMATS)},
    )


def _truncated(fmt: str, reason: str) -> InvalidImage:
    return InvalidImage(
        f"This {_human_format(fmt)} image is damaged or cut short and cannot be decoded.",
        code="truncated",
        details={"format": fmt, "reason": reason},
    )


def _unreadable(data: bytes, reason: str) -> InvalidImage:
    """Pillow gave up: a known image signature means damage, anything else means not an image."""
    fmt = _supported_signature(data)
    if fmt is not None:
        return _truncated(fmt, reason)
    kind = _describe_non_image(data)
    what = (
        "in any format tunelens recognises"
        if kind == "unknown"
        else f"(it looks like {_NON_IMAGE_KINDS[kind]})"
    )
    return InvalidImage(
        f"This file is not an image {what}. Supported formats: {_SUPPORTED_HUMAN}.",
        code="not_an_image",
        details={"detected": kind},
    )


def _reject_unsupported_signature(data: bytes) -> None:
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
        raise _unsupported(fmt)


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


def _webp_canvas_size(data: bytes) -> tuple[int, int] | None:
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


def _png_damage(data: bytes) -> str | None:
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
