"""Files tunelens must refuse, each paired with the ``InvalidImage`` code it must produce.

Everything is built in memory (no binary fixtures in the repository), deterministically, so
the imaging unit tests, the web API tests and the CLI tests can all run the same corpus:

    from tests.unit.bad_images import BAD_IMAGE_CASES

    for case in BAD_IMAGE_CASES:
        data = case.data()      # bytes; large payloads are only built when asked for
        ...expect case.code

The expected codes assume the default ``Settings`` limits (20 MB, 40 MP, 16 px sides).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from functools import cache
from typing import NamedTuple

import numpy as np
from PIL import Image

Payload = bytes | Callable[[], bytes]

MB = 1024 * 1024


class BadImageCase(NamedTuple):
    """One refused file: a readable name (used as the pytest id), its bytes, the code."""

    name: str
    payload: Payload
    code: str

    def data(self) -> bytes:
        return self.payload() if callable(self.payload) else self.payload


# --- building blocks ---------------------------------------------------------------------


def noise_image(size: tuple[int, int] = (256, 192), seed: int = 0) -> Image.Image:
    """Noisy RGB content, so compressed files are long and a cut lands in the pixel data."""
    rng = np.random.default_rng(seed)
    width, height = size
    base = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    noise = rng.normal(0, 40, (height, width, 3)).astype(np.float32)
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **params)
    return buffer.getvalue()


def png_chunk(chunk_type: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(chunk_type + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + chunk_type + payload + struct.pack(">I", crc)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` but carries a few hundred bytes of data.

    The IDAT inflates to one zero row at most, so anything that tries to decode the claimed
    size would have to allocate it first: exactly what a decompression bomb relies on.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 256, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


@cache
def sample_jpeg() -> bytes:
    return encode(noise_image(), "JPEG", quality=90)


@cache
def sample_png() -> bytes:
    return encode(noise_image(), "PNG")


def _find_png_chunk(data: bytes | bytearray, chunk_type: bytes) -> int:
    """Offset of the chunk's length field."""
    return data.index(chunk_type) - 4


def _jpeg_corrupt_scan() -> bytes:
    data = bytearray(sample_jpeg())
    sos = data.index(b"\xff\xda")
    start, stop = sos + 40, len(data) - 16
    rng = np.random.default_rng(7)
    data[start:stop] = rng.integers(0, 256, stop - start, dtype=np.uint8).tobytes()
    return bytes(data)


def _jpeg_headers_only() -> bytes:
    data = sample_jpeg()
    sos = data.index(b"\xff\xda")
    (length,) = struct.unpack(">H", data[sos + 2 : sos + 4])
    return data[: sos + 2 + length]


def _jpeg_with_size(width: int, height: int) -> bytes:
    """A small JPEG whose SOF0 header is patched to claim a huge size."""
    data = bytearray(sample_jpeg())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _png_corrupt_idat() -> bytes:
    """IDAT bytes replaced by zeros, with a recomputed CRC: only the zlib stream is broken."""
    data = sample_png()
    pos = _find_png_chunk(data, b"IDAT")
    (length,) = struct.unpack(">I", data[pos : pos + 4])
    payload = bytearray(data[pos + 8 : pos + 8 + length])
    payload[10:200] = bytes(190)
    chunk = png_chunk(b"IDAT", bytes(payload))
    return data[:pos] + chunk + data[pos + 12 + length :]


def _png_bad_idat_crc() -> bytes:
    """Pixel data intact, only the IDAT checksum is wrong (Pillow alone would accept it)."""
    data = bytearray(sample_png())
    pos = _find_png_chunk(data, b"IDAT")
    (length,) = struct.unpack(">I", data[pos : pos + 4])
    data[pos + 8 + length] ^= 0xFF
    return bytes(data)


def _png_bad_ihdr_crc() -> bytes:
    data = bytearray(sample_png())
    data[29] ^= 0xFF  # last byte of the IHDR CRC
    return bytes(data)


def _png_signature_and_ihdr() -> bytes:
    return png_header_only(64, 64)[:33]


def _webp_truncated() -> bytes:
    data = encode(noise_image(), "WEBP", quality=80)
    return data[: len(data) // 2]


def _webp_vp8x_header(width: int, height: int) -> bytes:
    """An extended-format WebP header claiming a canvas, with no image data at all."""
    vp8x = (
        b"VP8X"
        + struct.pack("<I", 10)
        + b"\x00\x00\x00\x00"
        + (width - 1).to_bytes(3, "little")
        + (height - 1).to_bytes(3, "little")
    )
    body = b"WEBP" + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _gif_truncated() -> bytes:
    data = encode(noise_image().convert("P"), "GIF")
    return data[: len(data) // 2]


def _gif_huge_screen() -> bytes:
    """A tiny GIF whose logical screen claims 65535 x 65535 (4.3 gigapixels)."""
    data = bytearray(encode(noise_image((32, 32)).convert("P"), "GIF"))
    data[6:10] = struct.pack("<HH", 65535, 65535)
    return bytes(data)


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.txt", "not really a photo")
    return buffer.getvalue()


def _random_bytes() -> bytes:
    return np.random.default_rng(42).integers(0, 256, 4096, dtype=np.uint8).tobytes()


def _too_large() -> bytes:
    """A real JPEG padded past the default 20 MB limit (built only when a test asks)."""
    return sample_jpeg() + bytes(20 * MB)


def _iso_ftyp(major: bytes, compatible: bytes) -> bytes:
    box = b"ftyp" + major + b"\x00\x00\x00\x00" + compatible
    return struct.pack(">I", len(box) + 4) + box + b"\x00\x00\x00\x08mdat" + bytes(64)


def _small(size: tuple[int, int]) -> Callable[[], bytes]:
    return lambda: encode(noise_image(size), "PNG")


def _pillow(fmt: str, mode: str = "RGB", size: tuple[int, int] = (64, 48)) -> Callable[[], bytes]:
    return lambda: encode(noise_image(size).convert(mode), fmt)


def _jpeg_app1(payload: bytes) -> bytes:
    """One APP1 (EXIF) segment; ``payload`` at most 65533 bytes, as the format allows."""
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def _exif_ifd_loop() -> bytes:
    """A TIFF-structured EXIF block whose IFD's next-IFD pointer points back at itself."""
    entry = struct.pack("<HHII", 0x0112, 3, 1, 6)  # Orientation = 6
    ifd = struct.pack("<H", 1) + entry + struct.pack("<I", 8)  # next IFD: itself
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd


def jpeg_with_huge_exif(segments: int = 1) -> bytes:
    """A valid JPEG carrying ``segments`` maximal (64 KB) EXIF-like APP1 blocks."""
    block = _jpeg_app1(b"Exif\x00\x00" + b"II*\x00" + bytes(65533 - 10))
    data = sample_jpeg()
    return data[:2] + block * segments + data[2:]


def jpeg_with_exif_loop() -> bytes:
    """A valid JPEG whose EXIF block is malformed (an IFD that points at itself)."""
    data = sample_jpeg()
    return data[:2] + _jpeg_app1(_exif_ifd_loop()) + data[2:]


def _jpeg_exif_without_frame() -> bytes:
    """SOI, a 64 KB EXIF block and EOI: metadata with no picture in it."""
    return b"\xff\xd8" + _jpeg_app1(_exif_ifd_loop() + bytes(60000)) + b"\xff\xd9"


def _jpeg_huge_exif_truncated() -> bytes:
    data = jpeg_with_huge_exif(4)
    return data[: len(data) - len(sample_jpeg()) // 2]


def _bmp_with_size(width: int, height: int) -> bytes:
    """A small BMP whose header claims ``width`` x ``height``."""
    data = bytearray(encode(noise_image((32, 32)), "BMP"))
    data[18:26] = struct.pack("<ii", width, height)
    return bytes(data)


def _webp_vp8l_header(width: int, height: int) -> bytes:
    """A lossless WebP header claiming a size (14 bits per side), with no image data."""
    bits = (width - 1) | ((height - 1) << 14)
    chunk = b"VP8L" + struct.pack("<I", 5) + b"\x2f" + struct.pack("<I", bits) + b"\x00"
    body = b"WEBP" + chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body


@cache
def _png_real_zlib_bomb(width: int = 7000, height: int = 7000) -> bytes:
    """A real compression bomb: every row present, all zeros (≈ 150 MB inflated, ≈ 150 KB)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    squeeze = zlib.compressobj(9)
    row = bytes(1 + 3 * width)
    idat = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def _gzip(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data, mtime=0)


_SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480">'
    b"<script>alert(document.cookie)</script>"
    b'<rect width="640" height="480" fill="orange"/></svg>\n'
)
_HTML = (
    b"<!DOCTYPE html>\n<html><head><title>Sunset</title></head>"
    b'<body><img src="sunset.jpg"></body></html>\n'
)
_PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
_SVG_ONLOAD = b'<svg xmlns="http://www.w3.org/2000/svg" onload="fetch(\'/admin\')"><rect/></svg>'
_XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE photo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b"<photo>&xxe;</photo>\n"
)
#: a GIF header that is also the start of a JavaScript comment (the classic GIF/JS polyglot)
_GIF_JS = b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;alert(document.domain);//" + bytes(16)
_EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 640 480\nnewpath 0 0 moveto showpage\n"


BAD_IMAGE_CASES: list[BadImageCase] = [
    # nothing there
    BadImageCase("empty_file", b"", "empty_file"),
    # not an image at all
    BadImageCase("plain_text", b"This is a holiday note, not a photo.\n" * 8, "not_an_image"),
    BadImageCase("random_bytes", _random_bytes, "not_an_image"),
    BadImageCase("pdf", _PDF, "not_an_image"),
    BadImageCase("svg_with_script", _SVG, "not_an_image"),
    BadImageCase("html", _HTML, "not_an_image"),
    BadImageCase("json", b'{"image": "sunset.jpg", "mood": "calm"}\n', "not_an_image"),
    BadImageCase("zip", _zip, "not_an_image"),
    BadImageCase("mp4_video_header", lambda: _iso_ftyp(b"isom", b"isomiso2mp41"), "not_an_image"),
    BadImageCase("jpeg_with_junk_prefix", lambda: b"JUNK" * 16 + sample_jpeg(), "not_an_image"),
    # a known image format, but damaged or cut short
    BadImageCase("jpeg_truncated_half", lambda: _half(sample_jpeg()), "truncated"),
    BadImageCase("jpeg_corrupt_scan_data", _jpeg_corrupt_scan, "truncated"),
    BadImageCase("jpeg_headers_without_scan", _jpeg_headers_only, "truncated"),
    BadImageCase("jpeg_signature_only", b"\xff\xd8\xff\xe0", "truncated"),
    BadImageCase("png_truncated_half", lambda: _half(sample_png()), "truncated"),
    BadImageCase("png_corrupt_idat", _png_corrupt_idat, "truncated"),
    BadImageCase("png_bad_idat_crc", _png_bad_idat_crc, "truncated"),
    BadImageCase("png_bad_ihdr_crc", _png_bad_ihdr_crc, "truncated"),
    BadImageCase("png_signature_and_ihdr_only", _png_signature_and_ihdr, "truncated"),
    BadImageCase("webp_truncated_half", _webp_truncated, "truncated"),
    BadImageCase("gif_truncated_half", _gif_truncated, "truncated"),
    BadImageCase("gif87a_header_only", b"GIF87a", "truncated"),
    BadImageCase("gif89a_header_only", b"GIF89a", "truncated"),
    BadImageCase("bmp_truncated_half", lambda: _half(encode(noise_image(), "BMP")), "truncated"),
    BadImageCase("tiff_truncated_half", lambda: _half(encode(noise_image(), "TIFF")), "truncated"),
    # decompression bombs: huge claimed size, tiny file
    BadImageCase(
        "png_bomb_30000x30000_header", lambda: png_header_only(30000, 30000), "too_many_pixels"
    ),
    BadImageCase(
        "png_50mp_header_below_pillow_limit",
        lambda: png_header_only(10000, 5000),
        "too_many_pixels",
    ),
    BadImageCase("jpeg_48mp_header", lambda: _jpeg_with_size(8000, 6000), "too_many_pixels"),
    BadImageCase("webp_81mp_header", lambda: _webp_vp8x_header(9000, 9000), "too_many_pixels"),
    BadImageCase("gif_65535x65535_screen", _gif_huge_screen, "too_many_pixels"),
    # too small to read anything from
    BadImageCase("png_1x1", _small((1, 1)), "too_small"),
    BadImageCase("png_8x300", _small((8, 300)), "too_small"),
    # too many bytes (default limit 20 MB)
    BadImageCase("jpeg_padded_past_20mb", _too_large, "too_large"),
    # real images in formats tunelens does not accept
    BadImageCase("ico", _pillow("ICO", size=(32, 32)), "unsupported_format"),
    BadImageCase("ppm", _pillow("PPM"), "unsupported_format"),
    BadImageCase("tga", _pillow("TGA"), "unsupported_format"),
    BadImageCase("pcx", _pillow("PCX"), "unsupported_format"),
    BadImageCase("dds", _pillow("DDS", mode="RGBA"), "unsupported_format"),
    BadImageCase("eps", _EPS, "unsupported_format"),
    BadImageCase("heic_ftyp", lambda: _iso_ftyp(b"heic", b"mif1heic"), "unsupported_format"),
    BadImageCase("avif_ftyp", lambda: _iso_ftyp(b"avif", b"avifmif1miaf"), "unsupported_format"),
    BadImageCase("heif_mif1_ftyp", lambda: _iso_ftyp(b"mif1", b"mif1miaf"), "unsupported_format"),
    BadImageCase("jpeg_xl_codestream", b"\xff\x0a" + bytes(64), "unsupported_format"),
    # --- hostile files (issue 9): polyglots, scripts, bombs in other formats, metadata only
    BadImageCase("png_1x1_header_only", lambda: png_header_only(1, 1), "too_small"),
    BadImageCase("png_real_zlib_bomb_49mp", _png_real_zlib_bomb, "too_many_pixels"),
    BadImageCase("bmp_50000x50000_header", lambda: _bmp_with_size(50000, 50000), "too_many_pixels"),
    BadImageCase(
        "webp_lossless_16384x16384_header",
        lambda: _webp_vp8l_header(16384, 16384),
        "too_many_pixels",
    ),
    BadImageCase("svg_onload_no_prolog", _SVG_ONLOAD, "not_an_image"),
    BadImageCase("svgz_gzipped_svg", lambda: _gzip(_SVG), "not_an_image"),
    BadImageCase("xml_external_entity", _XXE, "not_an_image"),
    BadImageCase("html_then_jpeg_polyglot", lambda: _HTML + sample_jpeg(), "not_an_image"),
    BadImageCase("pdf_then_jpeg_polyglot", lambda: _PDF + sample_jpeg(), "not_an_image"),
    BadImageCase("gif_javascript_polyglot", _GIF_JS, "truncated"),
    BadImageCase("elf_executable_header", b"\x7fELF\x02\x01\x01" + bytes(57), "not_an_image"),
    BadImageCase("shell_script", b"#!/bin/sh\nrm -rf / --no-preserve-root\n", "not_an_image"),
    BadImageCase("jpeg_exif_without_frame", _jpeg_exif_without_frame, "truncated"),
    BadImageCase("jpeg_huge_exif_truncated", _jpeg_huge_exif_truncated, "truncated"),
]
