"""Re-encode a picture without the metadata that can identify a person or a place.

Kept pictures lose EXIF (GPS position, camera make/model/serial, capture time, thumbnails),
XMP, IPTC, comments and embedded ICC profiles (which may name the device); what stays is the
picture as it looks:

* EXIF orientation is applied to the pixels, so an upright photo stays upright;
* a non-sRGB ICC profile (Display P3, Adobe RGB) is converted to sRGB before it is dropped, so
  colours stay right;
* the pixels are copied into a brand-new image, so no ``info`` entry Pillow keeps around can
  leak into the encoder.

JPEG (and MPO) stay JPEG (quality 95), PNG stays PNG, WebP stays WebP (quality 95); GIF, BMP
and TIFF become PNG (first frame only for animations). Other modes become RGB (RGBA where the
format keeps alpha).

**Memory is bounded per picture.** A 116 KB PNG can hold 6300×6300 pixels (119 MB decoded),
so the picture is checked before it is decoded (the same limits and error codes as every
upload: bytes, format, pixel count, damage), decoded once (JPEGs straight at reduced scale),
and shrunk to ``Settings.upload_max_side`` on its long side at once; orientation, colour
conversion, the clean copy and the encoder then work on the small picture. The readers a kept
picture may one day retrain look at a few hundred pixels, so nothing they use is lost.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from tunelens.core.settings import Settings, get_settings
from tunelens.vision.imaging import DECODE_ERRORS, to_rgb
from tunelens.vision.limits import (
    BOMB_PIXELS_RE,
    SUPPORTED_FORMATS,
    check_byte_size,
    check_dimensions,
    png_damage,
    reject_unsupported_signature,
    too_many_pixels,
    truncated,
    unreadable,
    unsupported,
    webp_canvas_size,
)

_OUTPUT = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}
_MODES = {"JPEG": {"RGB", "L"}, "PNG": {"RGB", "RGBA", "L", "LA"}, "WEBP": {"RGB", "RGBA"}}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_SAVE_OPTIONS: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 95},
    "PNG": {"compress_level": 6},
    "WEBP": {"quality": 95, "method": 4},
}
#: modes that can be shrunk as they are (a palette or 1-bit picture is converted first)
_RESIZABLE: Final = frozenset({"RGB", "RGBA", "L", "LA", "CMYK", "I", "F"})


@dataclass(frozen=True)
class StrippedImage:
    data: bytes
    format: str
    content_type: str
    size: tuple[int, int]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _to_srgb(img: Image.Image, icc: bytes) -> Image.Image:
    """Convert pixels tagged with ``icc`` to sRGB; on any trouble keep them as they are."""
    if img.mode not in ("RGB", "RGBA"):
        return img
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = (ImageCms.getProfileDescription(source) or "").lower()
        if "srgb" in description:
            return img
        converted = ImageCms.profileToProfile(
            img, source, ImageCms.createProfile("sRGB"), outputMode=img.mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return img
    return converted if converted is not None else img


def open_checked(image_bytes: bytes, settings: Settings) -> ImageFile.ImageFile:
    """Open (header only, nothing decoded) a picture that passes every upload limit, or raise
    :class:`~tunelens.core.errors.InvalidImage` with the codes :func:`load_image
    <tunelens.vision.imaging.load_image>` uses: the same gate, without its full decode."""
    check_byte_size(len(image_bytes), settings)
    reject_unsupported_signature(image_bytes)
    canvas = webp_canvas_size(image_bytes)
    if canvas is not None:  # Pillow allocates a WebP canvas while opening: check it first
        check_dimensions(*canvas, settings)
    try:
        img = Image.open(io.BytesIO(image_bytes))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        match = BOMB_PIXELS_RE.search(str(exc))
        raise too_many_pixels(settings, actual=int(match.group(1)) if match else None) from exc
    except UnidentifiedImageError as exc:
        raise unreadable(image_bytes, "Pillow could not identify the format") from exc
    except DECODE_ERRORS as exc:
        raise unreadable(image_bytes, str(exc)) from exc
    fmt = img.format or "unknown"
    if fmt not in SUPPORTED_FORMATS:
        raise unsupported(fmt)
    check_dimensions(*img.size, settings)
    damage = png_damage(image_bytes) if fmt == "PNG" else None
    if damage is not None:
        raise truncated(fmt, damage)
    return img


def _decode_reduced(img: ImageFile.ImageFile, max_side: int) -> Image.Image:
    """Decode the first frame once, at most ``max_side`` on the long side (JPEGs decode at
    1/2…1/8 scale straight away), orientation applied."""
    fmt = img.format or "unknown"
    width, height = img.size
    scale = max_side / max(width, height)
    if fmt in {"JPEG", "MPO"} and scale < 0.5:
        img.draft(None, (max(1, round(width * scale)), max(1, round(height * scale))))
    try:
        img.seek(0)
        img.load()
    except DECODE_ERRORS as exc:
        raise truncated(fmt, str(exc)) from exc
    picture: Image.Image = img
    if picture.mode not in _RESIZABLE:  # a palette or 1-bit picture cannot be shrunk well
        picture = picture.convert("RGBA" if _has_alpha(picture) else "RGB")
        picture.info = dict(img.info)  # keep the orientation tag for exif_transpose below
    if max(picture.size) > max_side:  # in place, so the full-size pixels are freed here;
        # reducing_gap=1: an integer box reduction (an exact area average, fast) first, then
        # Lanczos for the last step
        picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=1.0)
    ImageOps.exif_transpose(picture, in_place=True)
    return picture


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info


def strip_image(image_bytes: bytes, *, settings: Settings | None = None) -> StrippedImage:
    """Validate like any upload (same limits and error codes), then re-encode without
    metadata, at most ``settings.upload_max_side`` pixels on the long side."""
    settings = settings or get_settings()
    with open_checked(image_bytes, settings) as opened:
        source_format = opened.format or "PNG"
        icc = opened.info.get("icc_profile")
        img = _decode_reduced(opened, settings.upload_max_side)
    out_format = _OUTPUT.get(source_format, "PNG")
    if isinstance(icc, bytes) and icc:
        img = _to_srgb(img, icc)
    if img.mode not in _MODES[out_format]:
        has_alpha = _has_alpha(img)
        img = img.convert("RGBA") if has_alpha and "RGBA" in _MODES[out_format] else to_rgb(img)
        if img.mode not in _MODES[out_format]:
            img = img.convert("RGB")
    clean = Image.frombytes(img.mode, img.size, img.tobytes())  # no info, no exif, no icc
    buffer = io.BytesIO()
    clean.save(buffer, format=out_format, **_SAVE_OPTIONS[out_format])
    return StrippedImage(
        data=buffer.getvalue(),
        format=out_format,
        content_type=CONTENT_TYPES[out_format],
        size=clean.size,
    )


def strip_metadata(image_bytes: bytes, *, settings: Settings | None = None) -> bytes:
    """The picture re-encoded without EXIF/GPS/XMP/ICC device data, orientation applied."""
    return strip_image(image_bytes, settings=settings).data
