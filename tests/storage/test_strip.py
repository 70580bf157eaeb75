"""strip_metadata: no EXIF/GPS/XMP/ICC/comments left, orientation applied, pixels kept."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import ExifTags, Image

from tests.storage.helpers import jpeg_with_gps
from tunelens.core.errors import InvalidImage
from tunelens.core.settings import Settings
from tunelens.storage.strip import strip_image, strip_metadata


def assert_no_metadata(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    exif = img.getexif()
    assert len(exif) == 0, dict(exif)
    assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
    for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "photoshop"):
        assert key not in img.info, key
    assert b"Exif" not in data and b"ACME" not in data and b"secret note" not in data
    return img


def test_jpeg_gps_and_camera_are_gone_and_orientation_is_applied() -> None:
    original = jpeg_with_gps(size=(64, 48), orientation=6)
    before = Image.open(io.BytesIO(original))
    assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the fixture really has GPS
    assert b"ACME" in original

    stripped = strip_image(original)
    assert stripped.format == "JPEG" and stripped.content_type == "image/jpeg"
    img = assert_no_metadata(stripped.data)
    # orientation 6 = rotate 90° clockwise to view: 64×48 becomes 48×64, the green corner
    # moves from top-left to top-right
    assert img.size == (48, 64) == stripped.size
    pixels = np.asarray(img.convert("RGB"), dtype=int)
    assert pixels[2, -3, 1] > 200 and pixels[2, -3, 0] < 60
    assert pixels[-3, 2, 0] > 150  # the rest is still the red-orange fill


def test_png_text_and_exif_chunks_are_dropped() -> None:
    from PIL import PngImagePlugin

    img = Image.new("RGBA", (40, 30), (10, 20, 30, 128))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret note")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>ACME</x:xmpmeta>")
    exif = Image.Exif()
    exif[0x010F] = "ACME Cameras"
    buffer = io.BytesIO()
    img.save(buffer, "PNG", pnginfo=info, exif=exif.tobytes())
    stripped = strip_image(buffer.getvalue())
    assert stripped.format == "PNG"
    out = assert_no_metadata(stripped.data)
    assert out.mode == "RGBA"
    assert out.getpixel((5, 5)) == (10, 20, 30, 128)


@pytest.mark.parametrize(
    ("fmt", "mode", "expected_format"),
    [("GIF", "P", "PNG"), ("TIFF", "CMYK", "PNG"), ("WEBP", "RGB", "WEBP"), ("BMP", "L", "PNG")],
)
def test_other_formats_are_re_encoded(fmt: str, mode: str, expected_format: str) -> None:
    img = Image.new(mode, (32, 32))
    buffer = io.BytesIO()
    img.save(buffer, fmt)
    stripped = strip_image(buffer.getvalue())
    assert stripped.format == expected_format
    assert_no_metadata(stripped.data)


def test_cmyk_jpeg_becomes_rgb() -> None:
    buffer = io.BytesIO()
    Image.new("CMYK", (32, 32), (0, 255, 255, 0)).save(buffer, "JPEG")
    out = Image.open(io.BytesIO(strip_metadata(buffer.getvalue())))
    assert out.mode == "RGB"


def test_not_an_image_is_refused_like_any_upload() -> None:
    with pytest.raises(InvalidImage) as caught:
        strip_metadata(b"hello, I am text and not a picture at all")
    assert caught.value.code == "not_an_image"


def _png(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, "PNG", compress_level=9)
    return buffer.getvalue()


def test_a_huge_flat_png_is_kept_at_the_configured_side_with_its_content() -> None:
    # 4000×1500, a few KB on disk: decoded once and shrunk at once to 512 on the long side
    img = Image.new("RGB", (4000, 1500), (200, 120, 40))
    img.paste((30, 60, 160), (0, 750, 4000, 1500))
    settings = Settings(_env_file=None, upload_max_side=512)
    stripped = strip_image(_png(img), settings=settings)
    assert stripped.format == "PNG" and stripped.size == (512, 192)
    out = np.asarray(Image.open(io.BytesIO(stripped.data)).convert("RGB"), dtype=int)
    assert out[10, 10].tolist() == [200, 120, 40] and out[-10, -10].tolist() == [30, 60, 160]


def test_a_large_jpeg_is_decoded_reduced_and_still_turned_upright() -> None:
    original = jpeg_with_gps(size=(3200, 2400), orientation=6)
    settings = Settings(_env_file=None, upload_max_side=400)
    stripped = strip_image(original, settings=settings)
    assert stripped.size == (300, 400)  # 3200×2400 shrunk to 400 long, then turned upright
    assert_no_metadata(stripped.data)
    small = strip_image(jpeg_with_gps(size=(64, 48)), settings=settings)
    assert small.size == (48, 64)  # never enlarged (only turned upright)


def test_limits_are_checked_before_anything_is_decoded() -> None:
    settings = Settings(_env_file=None, max_image_pixels=1_000_000)
    huge = _png(Image.new("L", (2000, 1000)))
    with pytest.raises(InvalidImage) as too_many:
        strip_image(huge, settings=settings)
    assert too_many.value.code == "too_many_pixels"
    cut = _png(Image.new("RGB", (64, 64), (1, 2, 3)))[:-30]
    with pytest.raises(InvalidImage) as truncated:
        strip_image(cut)
    assert truncated.value.code == "truncated"
