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
from tunelens.vision.limits import (
    BOMB_PIXELS_RE,
    SUPPORTED_FORMATS,
    check_byte_size,
    check_dimensions,
    path_problem,
    png_damage,
    reject_unsupported_signature,
    too_many_pixels,
    truncated,
    unreadable,
    unsupported,
    webp_canvas_size,
)

__all__ = [
    "CLIP_MEAN",
    "CLIP_STD",
    "RESAMPLE_FILTERS",
    "SUPPORTED_FORMATS",
    "LoadedImage",
    "load_image",
    "thumbnail",
    "to_model_input",
]

CLIP_MEAN: tuple[float, float, float] = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD: tuple[float, float, float] = (0.26862954, 0.26130258, 0.27577711)

_WHITE: Final = (255, 255, 255)

# What Pillow's decoders raise on hostile or damaged input (the set Pillow's own fuzzing
# tests accept, plus zlib/struct errors some plugins let through). Anything else is a bug
# in our code or Pillow's and must surface as such, not be reported as a bad image.
DECODE_ERRORS: Final = (
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
        check_byte_size(len(data), settings)
    elif isinstance(source, str | os.PathLike):
        data = _read_path(Path(source), settings)
    else:
        msg = f"source must be bytes or a path, got {type(source).__name__}"
        raise TypeError(msg)
    return _decode(data, settings, work_side)


#: the resampling filters a preprocessor may name (Pillow's, which transformers' image
#: processors use too: ``"resample": 2`` is bilinear, ``3`` bicubic)
RESAMPLE_FILTERS: Final = {
    "nearest": Image.Resampling.NEAREST,
    "lanczos": Image.Resampling.LANCZOS,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
}


# one keyword per preprocessing knob a model's preprocessor_config.json sets
def to_model_input(  # noqa: PLR0913 - see above
    images: Sequence[LoadedImage],
    size: int = 224,
    mean: tuple[float, float, float] = CLIP_MEAN,
    std: tuple[float, float, float] = CLIP_STD,
    *,
    resize: int | None = None,
    resample: str = "bicubic",
) -> NDArray[np.float32]:
    """Batch images exactly as CLIP's own preprocessing does, in one resample per image.

    CLIP resizes the short side to ``resize`` (``size`` when None; bicubic unless the model's
    preprocessor names another filter, torchvision rounding), centre-crops ``size``², scales
    to [0, 1] and normalises. Resizing only the crop box with Pillow's ``box`` gives the same
    pixels without materialising the intermediate resized image.
    """
    if size < 1:
        msg = f"size must be >= 1, got {size}"
        raise ValueError(msg)
    short_side = size if resize is None else resize
    if short_side < size:
        msg = f"resize ({short_side}) must be at least the crop size ({size})"
        raise ValueError(msg)
    if resample not in RESAMPLE_FILTERS:
        msg = f"unknown resample filter {resample!r}; use one of {sorted(RESAMPLE_FILTERS)}"
        raise ValueError(msg)
    std_arr = np.asarray(std, dtype=np.float32).reshape(3, 1, 1)
    scale = (1.0 / (255.0 * std_arr)).astype(np.float32)
    offset = (np.asarray(mean, dtype=np.float32).reshape(3, 1, 1) / std_arr).astype(np.float32)
    batch = np.empty((len(images), 3, size, size), dtype=np.float32)
    for i, image in enumerate(images):
        crop = _resize_centre_crop(image.pixels, size, short_side, RESAMPLE_FILTERS[resample])
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
            raise path_problem(path, "is_a_directory", f"{path} is a folder, not an image file.")
        if not stat.S_ISREG(st.st_mode):
            raise path_problem(
                path,
                "not_a_regular_file",
                f"{path} is not a regular file (a device, pipe or socket), so it is not an image.",
            )
        check_byte_size(st.st_size, settings)
        with path.open("rb") as fh:
            # One byte over the limit is enough to tell that the file grew since the stat.
            data = fh.read(settings.max_image_bytes + 1)
    except (FileNotFoundError, NotADirectoryError):
        raise path_problem(path, "missing", f"No such file: {path}") from None
    except PermissionError:
        raise path_problem(
            path, "permission_denied", f"Cannot read {path}: permission denied."
        ) from None
    except OSError as exc:
        raise path_problem(
            path, "os_error", f"Cannot read {path}: {exc.strerror or exc}."
        ) from None
    check_byte_size(len(data), settings)
    return data


# --- decoding ------------------------------------------------------------------------------


def _decode(data: bytes, settings: Settings, work_side: int) -> LoadedImage:
    reject_unsupported_signature(data)
    webp_size = webp_canvas_size(data)
    if webp_size is not None:
        # Pillow's WebP plugin allocates the whole canvas while opening, so the header is
        # checked here, before Pillow sees the file.
        check_dimensions(*webp_size, settings)

    img = _open(data, settings)
    try:
        fmt = img.format or "unknown"
        if fmt not in SUPPORTED_FORMATS:
            raise unsupported(fmt)
        width, height = img.size
        check_dimensions(width, height, settings)
        if fmt == "PNG":
            damage = png_damage(data)
            if damage is not None:
                raise truncated(fmt, damage)
        if fmt in {"JPEG", "MPO"}:
            _request_draft(img, work_side)
        try:
            img.load()
        except DECODE_ERRORS as exc:
            raise truncated(fmt, str(exc)) from exc
        orientation = _exif_orientation(img)
        # Shrink before rotating: the transpose then copies work_side-sized data, not 40 MP.
        rgb = _shrink(to_rgb(img), work_side)
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
        match = BOMB_PIXELS_RE.search(str(exc))
        actual = int(match.group(1)) if match else None
        raise too_many_pixels(settings, actual=actual) from exc
    except UnidentifiedImageError as exc:
        raise unreadable(data, "Pillow could not identify the format") from exc
    except DECODE_ERRORS as exc:
        raise unreadable(data, str(exc)) from exc


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
    except DECODE_ERRORS:
        return 1
    return value if isinstance(value, int) and value in _TRANSPOSE_FOR_ORIENTATION else 1


def to_rgb(img: Image.Image) -> Image.Image:
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


def _resize_centre_crop(
    pixels: NDArray[np.uint8], size: int, short_side: int, resample: Image.Resampling
) -> NDArray[np.uint8]:
    height, width = int(pixels.shape[0]), int(pixels.shape[1])
    # torchvision.transforms.Resize(int): short side -> short_side, long side truncated.
    if width <= height:
        new_w, new_h = short_side, int(short_side * height / width)
    else:
        new_w, new_h = int(short_side * width / height), short_side
    # torchvision.transforms.CenterCrop: offsets rounded half to even, as Python's round().
    left = round((new_w - size) / 2.0)
    top = round((new_h - size) / 2.0)
    sx, sy = width / new_w, height / new_h
    box = (left * sx, top * sy, (left + size) * sx, (top + size) * sy)
    img = Image.fromarray(pixels)
    return np.asarray(img.resize((size, size), resample, box=box), dtype=np.uint8)
