"""Re-encode a picture without the metadata that can identify a person or a place.

Kept pictures lose EXIF (GPS position, camera make/model/serial, capture time, thumbnails),
XMP, IPTC, comments and embedded ICC profiles (which may name the device); what stays is the
picture as it looks:

* EXIF orientation is applied to the pixels first, so an upright photo stays upright;
* a non-sRGB ICC profile (Display P3, Adobe RGB) is converted to sRGB before it is dropped, so
  colours stay right;
* the pixels are copied into a brand-new image, so no ``info`` entry Pillow keeps around can
  leak into the encoder.

JPEG (and MPO) stay JPEG (quality 95), PNG stays PNG, WebP stays WebP (quality 95); GIF, BMP
and TIFF become PNG (first frame only for animations). Other modes become RGB (RGBA where the
format keeps alpha).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps

from tunelens.core.settings import Settings, get_settings
from tunelens.vision.imaging import load_image, to_rgb

_OUTPUT = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}
_MODES = {"JPEG": {"RGB", "L"}, "PNG": {"RGB", "RGBA", "L", "LA"}, "WEBP": {"RGB", "RGBA"}}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_SAVE_OPTIONS: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 95},
    "PNG": {"compress_level": 6},
    "WEBP": {"quality": 95, "method": 4},
}


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


def strip_image(image_bytes: bytes, *, settings: Settings | None = None) -> StrippedImage:
    """Validate like any upload (same limits and error codes), then re-encode without metadata."""
    settings = settings or get_settings()
    # the gate every picture passes: size, pixel count, format, damage (a cheap 1/8 decode)
    load_image(image_bytes, settings=settings, work_side=16)
    with Image.open(io.BytesIO(image_bytes)) as opened:
        opened.seek(0)
        opened.load()
        source_format = opened.format or "PNG"
        icc = opened.info.get("icc_profile")
        img = ImageOps.exif_transpose(opened)
    out_format = _OUTPUT.get(source_format, "PNG")
    if isinstance(icc, bytes) and icc:
        img = _to_srgb(img, icc)
    if img.mode not in _MODES[out_format]:
        has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or ("transparency" in img.info)
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
