"""Tests for tunelens.vision.imaging: every refusal has its exact code, every accepted picture comes
out upright, RGB, flattened and bounded in size, and the model input matches CLIP's."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import os
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image, ImageFile, ImageOps, JpegImagePlugin

from tests.conftest import require_shared
from tests.unit.bad_images import (
    BAD_IMAGE_CASES,
    BadImageCase,
    encode,
    noise_image,
    png_header_only,
)
from tunelens.core.errors import InvalidImage
from tunelens.core.settings import Settings
from tunelens.vision.imaging import (
    CLIP_MEAN,
    CLIP_STD,
    SUPPORTED_FORMATS,
    LoadedImage,
    load_image,
    thumbnail,
    to_model_input,
)
from tunelens.web.http_status import http_status

F = TypeVar("F", bound=Callable[..., Any])

PHOTOS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "photos"
MB = 1024 * 1024

# Explicit defaults, so a TUNELENS_* variable in the developer's shell cannot change outcomes.
DEFAULTS = Settings(max_image_bytes=20 * MB, max_image_pixels=40_000_000, min_image_side=16)

REJECTION_CODES = {
    "empty_file",
    "not_an_image",
    "truncated",
    "too_large",
    "too_many_pixels",
    "too_small",
    "unsupported_format",
}


def _rejection(data: bytes | str | Path, settings: Settings = DEFAULTS) -> InvalidImage:
    with pytest.raises(InvalidImage) as info:
        load_image(data, settings=settings)
    return info.value


def _quadrants(size: tuple[int, int] = (64, 48)) -> Image.Image:
    """Four flat colours: survives every format (GIF palette, JPEG) nearly unchanged."""
    width, height = size
    arr = np.zeros((height, width, 3), dtype=np.uint8)
    arr[: height // 2, : width // 2] = (220, 30, 30)
    arr[: height // 2, width // 2 :] = (30, 200, 40)
    arr[height // 2 :, : width // 2] = (40, 60, 210)
    arr[height // 2 :, width // 2 :] = (240, 240, 60)
    return Image.fromarray(arr)


def _centre_colours(pixels: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Mean colour in the middle of each quadrant, away from edges JPEG blurs."""
    h, w = pixels.shape[:2]
    spots = [(h // 4, w // 4), (h // 4, 3 * w // 4), (3 * h // 4, w // 4), (3 * h // 4, 3 * w // 4)]
    return np.array(
        [pixels[y - 3 : y + 3, x - 3 : x + 3].reshape(-1, 3).mean(axis=0) for y, x in spots]
    )


# --- the corpus of bad files ----------------------------------------------------------------


def test_corpus_covers_every_rejection_code_with_many_kinds() -> None:
    names = [case.name for case in BAD_IMAGE_CASES]
    assert len(names) == len(set(names))
    assert len(names) >= 20
    assert {case.code for case in BAD_IMAGE_CASES} == REJECTION_CODES
    assert all(isinstance(case, tuple) and len(case) == 3 for case in BAD_IMAGE_CASES)


@pytest.mark.parametrize("case", BAD_IMAGE_CASES, ids=lambda case: case.name)
def test_bad_bytes_are_rejected_with_their_code(case: BadImageCase) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        error = _rejection(case.data())
    assert error.code == case.code, error.message
    assert error.message.strip() and "\n" not in error.message
    assert "Traceback" not in error.message
    assert error.to_dict()["code"] == case.code
    assert 400 <= http_status(error) < 500
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


@pytest.mark.parametrize("case", BAD_IMAGE_CASES, ids=lambda case: case.name)
def test_bad_files_are_rejected_with_their_code(case: BadImageCase, tmp_path: Path) -> None:
    path = tmp_path / f"{case.name}.bin"
    path.write_bytes(case.data())
    assert _rejection(path).code == case.code


@pytest.mark.parametrize(
    "case",
    [case for case in BAD_IMAGE_CASES if case.code == "too_many_pixels"],
    ids=lambda case: case.name,
)
def test_bombs_are_rejected_from_the_header_without_decoding(
    case: BadImageCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = case.data()

    def refuse_to_decode(self: ImageFile.ImageFile) -> None:
        raise AssertionError(f"{self.format} pixel data was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse_to_decode)
    started = time.perf_counter()
    error = _rejection(data)
    elapsed = time.perf_counter() - started
    assert error.code == "too_many_pixels"
    assert error.details["limit"] == DEFAULTS.max_image_pixels
    assert error.details["actual"] > DEFAULTS.max_image_pixels
    assert elapsed < 1.0


def test_hand_built_30000_square_png_is_tiny_and_refused() -> None:
    data = png_header_only(30000, 30000)
    assert len(data) < 500
    error = _rejection(data)
    assert error.code == "too_many_pixels"
    assert error.details["actual"] == 900_000_000
    assert "40 megapixels" in error.message


def test_pillow_globals_are_left_alone() -> None:
    filters_before = list(warnings.filters)
    max_pixels_before = Image.MAX_IMAGE_PIXELS
    for case in BAD_IMAGE_CASES:
        if case.code in {"too_many_pixels", "truncated"}:
            _rejection(case.data())
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert max_pixels_before == Image.MAX_IMAGE_PIXELS
    assert list(warnings.filters) == filters_before


@pytest.mark.parametrize(("size", "pillow_signal"), [((40, 40), "warning"), ((64, 48), "error")])
def test_pillow_bomb_warning_and_error_become_too_many_pixels(
    size: tuple[int, int], pillow_signal: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Our own limit is set high, so only Pillow's guard (1600 px warns, 3072 px errors) fires.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    generous = Settings(max_image_pixels=10**9, min_image_side=16)
    error = _rejection(encode(_quadrants(size), "PNG"), generous)
    assert error.code == "too_many_pixels", pillow_signal
    assert error.details["actual"] == size[0] * size[1]


def test_concurrent_loads_keep_their_results_and_the_warning_filters() -> None:
    good = encode(_quadrants(), "PNG")
    bombs = [case.data() for case in BAD_IMAGE_CASES if case.code == "too_many_pixels"]
    filters_before = list(warnings.filters)

    def outcome(data: bytes) -> str:
        try:
            return load_image(data, settings=DEFAULTS).format
        except InvalidImage as error:
            return error.code

    jobs = [good, *bombs] * 25
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(outcome, jobs))
    assert results == [outcome(data) for data in jobs]
    assert results.count("PNG") == 25
    assert list(warnings.filters) == filters_before


# --- limits ---------------------------------------------------------------------------------


def test_too_large_bytes_with_a_small_limit() -> None:
    data = encode(noise_image(), "JPEG")
    error = _rejection(data, Settings(max_image_bytes=1000))
    assert error.code == "too_large"
    assert error.details == {"limit": 1000, "actual": len(data)}
    assert "limit" in error.message


def test_too_large_path_is_refused_by_stat_before_reading(tmp_path: Path) -> None:
    # A sparse 1 GiB file: reading it would be slow, and the reported size proves the
    # decision came from stat (a capped read would report limit + 1).
    path = tmp_path / "huge.jpg"
    with path.open("wb") as fh:
        fh.write(encode(noise_image(), "JPEG"))
        fh.truncate(1024 * MB)
    started = time.perf_counter()
    error = _rejection(path)
    assert time.perf_counter() - started < 1.0
    assert error.code == "too_large"
    assert error.details == {"limit": DEFAULTS.max_image_bytes, "actual": 1024 * MB}


def test_exactly_at_the_byte_limit_is_accepted() -> None:
    data = encode(noise_image(), "PNG")
    assert load_image(data, settings=Settings(max_image_bytes=len(data))).n_bytes == len(data)
    assert _rejection(data, Settings(max_image_bytes=len(data) - 1)).code == "too_large"


def test_pixel_limit_is_our_setting_not_pillows() -> None:
    tight = Settings(max_image_pixels=10_000)
    assert load_image(encode(_quadrants((100, 100)), "PNG"), settings=tight).original_size == (
        100,
        100,
    )
    error = _rejection(encode(_quadrants((101, 100)), "PNG"), tight)
    assert error.code == "too_many_pixels"
    assert error.details == {"limit": 10_000, "actual": 10_100, "width": 101, "height": 100}


@pytest.mark.parametrize(
    ("size", "min_side", "accepted"),
    [((16, 16), 16, True), ((15, 400), 16, False), ((400, 15), 16, False), ((16, 16), 32, False)],
)
def test_minimum_side(size: tuple[int, int], min_side: int, accepted: bool) -> None:
    data = encode(_quadrants(size), "PNG")
    settings = Settings(min_image_side=min_side)
    if accepted:
        assert load_image(data, settings=settings).original_size == size
    else:
        error = _rejection(data, settings)
        assert error.code == "too_small"
        assert error.details["limit"] == min_side
        assert error.details["actual"] == min(size)


# --- paths ----------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jpg"
    for source in (missing, str(missing)):
        error = _rejection(source)
        assert error.code == "file_not_found"
        assert str(missing) in error.message


def test_directory_is_not_an_image(tmp_path: Path) -> None:
    error = _rejection(tmp_path)
    assert error.code == "file_not_found"
    assert error.details["reason"] == "is_a_directory"
    assert "folder" in error.message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")
def test_named_pipe_is_refused_instead_of_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    error = _rejection(fifo)
    assert error.code == "file_not_found"
    assert error.details["reason"] == "not_a_regular_file"


def test_path_and_bytes_give_the_same_image(tmp_path: Path) -> None:
    data = encode(_quadrants(), "PNG")
    path = tmp_path / "q.png"
    path.write_bytes(data)
    from_path, from_bytes, from_str = load_image(path), load_image(data), load_image(str(path))
    for loaded in (from_path, from_str):
        assert np.array_equal(loaded.pixels, from_bytes.pixels)
        assert loaded.sha256 == from_bytes.sha256 == hashlib.sha256(data).hexdigest()
        assert loaded.n_bytes == from_bytes.n_bytes == len(data)


def test_default_settings_are_used_when_none_given() -> None:
    assert load_image(encode(_quadrants(), "PNG")).format == "PNG"


def test_work_side_must_be_positive() -> None:
    with pytest.raises(ValueError, match="work_side"):
        load_image(encode(_quadrants(), "PNG"), work_side=0)


# --- formats and modes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "params", "tolerance"),
    [
        ("JPEG", {"quality": 95}, 12),
        ("PNG", {}, 0),
        ("WEBP", {"lossless": True}, 0),
        ("GIF", {}, 0),
        ("BMP", {}, 0),
        ("TIFF", {}, 0),
        # Pillow only reports MPO for a real multi-picture file (camera stereo/depth pairs).
        (
            "MPO",
            {"quality": 95, "save_all": True, "append_images": [Image.new("RGB", (64, 48))]},
            12,
        ),
    ],
)
def test_supported_formats_round_trip(fmt: str, params: dict[str, Any], tolerance: int) -> None:
    source = _quadrants()
    data = encode(source, fmt, **params)
    loaded = load_image(data, settings=DEFAULTS)
    assert loaded.format == fmt
    assert fmt in SUPPORTED_FORMATS
    assert loaded.original_size == (64, 48)
    assert loaded.pixels.shape == (48, 64, 3)
    assert loaded.pixels.dtype == np.uint8
    assert loaded.sha256 == hashlib.sha256(data).hexdigest()
    assert loaded.n_bytes == len(data)
    expected = _centre_colours(np.asarray(source))
    assert np.abs(_centre_colours(loaded.pixels) - expected).max() <= tolerance


def test_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (32, 32), colour) for colour in [(255, 0, 0), (0, 0, 255)]]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    loaded = load_image(buffer.getvalue())
    assert loaded.format == "GIF"
    assert tuple(loaded.pixels[16, 16]) == (255, 0, 0)


def _jpeg_with_orientation(img: Image.Image, orientation: int, **params: Any) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(img, "JPEG", exif=exif, **params)


def test_exif_orientation_6_rotates_upright() -> None:
    stored = Image.new("RGB", (40, 20), (255, 0, 0))
    stored.paste((0, 0, 255), (20, 0, 40, 20))  # left red, right blue, as stored
    loaded = load_image(_jpeg_with_orientation(stored, 6, quality=95))
    # Orientation 6: the camera was turned; displayed upright, the stored left edge is on top.
    assert loaded.original_size == (20, 40)
    assert loaded.pixels.shape == (40, 20, 3)
    top, bottom = loaded.pixels[5, 10], loaded.pixels[35, 10]
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillow_exif_transpose(orientation: int) -> None:
    data = _jpeg_with_orientation(noise_image((48, 32)), orientation, quality=90)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))
    loaded = load_image(data)
    assert np.array_equal(loaded.pixels, expected)
    assert loaded.original_size == (expected.shape[1], expected.shape[0])


def test_rgba_is_flattened_onto_white() -> None:
    arr = np.zeros((32, 48, 4), dtype=np.uint8)
    arr[:, :16] = (255, 0, 0, 0)  # fully transparent red -> white
    arr[:, 16:32] = (255, 0, 0, 128)  # half-transparent red -> pink
    arr[:, 32:] = (0, 0, 255, 255)  # opaque blue stays blue
    loaded = load_image(encode(Image.fromarray(arr, "RGBA"), "PNG"))
    assert loaded.pixels.shape == (32, 48, 3)
    assert tuple(loaded.pixels[10, 5]) == (255, 255, 255)
    assert np.allclose(loaded.pixels[10, 20], (255, 127, 127), atol=2)
    assert tuple(loaded.pixels[10, 40]) == (0, 0, 255)


def test_greyscale_with_alpha_is_flattened_onto_white() -> None:
    arr = np.zeros((20, 20, 2), dtype=np.uint8)  # black, fully transparent on the left
    arr[:, 10:, 1] = 255
    loaded = load_image(encode(Image.fromarray(arr, "LA"), "PNG"))
    assert tuple(loaded.pixels[5, 2]) == (255, 255, 255)
    assert tuple(loaded.pixels[5, 15]) == (0, 0, 0)


def test_palette_png_with_transparency_is_flattened_onto_white() -> None:
    img = Image.new("P", (20, 20), 0)
    img.putpalette([10, 20, 30, 0, 200, 0] + [0] * 762)
    img.paste(1, (10, 0, 20, 20))
    data = encode(img, "PNG", transparency=0)
    reopened = Image.open(io.BytesIO(data))
    assert reopened.mode == "P" and "transparency" in reopened.info
    loaded = load_image(data)
    assert tuple(loaded.pixels[5, 2]) == (255, 255, 255)
    assert tuple(loaded.pixels[5, 15]) == (0, 200, 0)


def test_cmyk_jpeg_becomes_rgb() -> None:
    data = encode(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    loaded = load_image(data)
    assert loaded.pixels.shape == (32, 32, 3)
    assert np.allclose(loaded.pixels[16, 16], (255, 0, 0), atol=6)


def test_sixteen_bit_grey_png_mid_grey_stays_mid_grey() -> None:
    data = encode(Image.fromarray(np.full((32, 32), 32768, dtype=np.uint16)), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    loaded = load_image(data)
    assert np.all(np.abs(loaded.pixels.astype(int) - 128) <= 1)


def test_sixteen_bit_grey_png_keeps_its_full_range() -> None:
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (16, 1))
    loaded = load_image(encode(Image.fromarray(ramp), "PNG"))
    row = loaded.pixels[8, :, 0].astype(int)
    assert row[0] == 0 and row[-1] == 255
    assert np.all(np.diff(row) >= 0)
    # A dark 16-bit image stays dark rather than being mistaken for 8-bit data.
    dark = load_image(encode(Image.fromarray(np.full((16, 16), 200, np.uint16)), "PNG"))
    assert dark.pixels.max() <= 1


@pytest.mark.parametrize(
    ("img", "expected"),
    [
        (Image.new("F", (16, 16), 0.5), 128),
        (Image.new("I", (16, 16), 32768), 128),
        (Image.new("I", (16, 16), 100), 100),
        (Image.new("L", (16, 16), 77), 77),
        (Image.new("1", (16, 16), 1), 255),
    ],
    ids=["F", "I-16bit-range", "I-8bit-range", "L", "1"],
)
def test_tiff_modes_become_8bit_rgb(img: Image.Image, expected: int) -> None:
    loaded = load_image(encode(img, "TIFF"))
    assert loaded.pixels.shape == (16, 16, 3)
    assert np.all(np.abs(loaded.pixels.astype(int) - expected) <= 1)


# --- draft decoding and size ----------------------------------------------------------------


def _big_jpeg(size: tuple[int, int] = (4000, 3000), orientation: int | None = None) -> bytes:
    width, height = size
    ramp = np.linspace(0, 255, width, dtype=np.uint8)
    arr = np.repeat(np.repeat(ramp[None, :, None], height, axis=0), 3, axis=2)
    img = Image.fromarray(arr)
    if orientation is None:
        return encode(img, "JPEG", quality=80)
    return _jpeg_with_orientation(img, orientation, quality=80)


@pytest.fixture
def draft_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Record (requested size, size libjpeg will decode at) for every JPEG draft."""
    calls: list[tuple[tuple[int, int], tuple[int, int]]] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def recording_draft(
        self: JpegImagePlugin.JpegImageFile, mode: str | None, size: tuple[int, int] | None
    ) -> Any:
        result = original(self, mode, size)
        assert size is not None
        calls.append((size, self.size))
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", recording_draft)
    return calls


def test_large_jpeg_is_decoded_in_draft_mode(
    draft_calls: list[tuple[tuple[int, int], tuple[int, int]]],
) -> None:
    loaded = load_image(_big_jpeg(), settings=DEFAULTS, work_side=448)
    assert loaded.original_size == (4000, 3000)
    assert 448 <= min(loaded.pixels.shape[:2]) < 3000
    assert len(draft_calls) == 1
    _, decoded = draft_calls[0]
    assert decoded == (1000, 750)  # libjpeg scaled by 1/4: short side still >= 448
    assert loaded.pixels.shape == (448, 597, 3)


def test_draft_keeps_the_short_side_at_least_work_side(
    draft_calls: list[tuple[tuple[int, int], tuple[int, int]]],
) -> None:
    for work_side in (200, 448, 700, 1400):
        load_image(_big_jpeg(), settings=DEFAULTS, work_side=work_side)
    assert [min(decoded) for _, decoded in draft_calls] == [375, 750, 750, 1500]


def test_draft_with_rotation_reports_the_rotated_full_size() -> None:
    loaded = load_image(_big_jpeg(orientation=6), settings=DEFAULTS)
    assert loaded.original_size == (3000, 4000)
    assert loaded.pixels.shape == (597, 448, 3)


def test_non_jpeg_is_reduced_to_work_side() -> None:
    data = encode(noise_image((1200, 800)), "PNG")
    assert load_image(data).pixels.shape == (448, 672, 3)
    assert load_image(data, work_side=100).pixels.shape == (100, 150, 3)
    assert load_image(data).original_size == (1200, 800)


def test_small_images_are_never_upscaled() -> None:
    loaded = load_image(encode(_quadrants((100, 50)), "PNG"))
    assert loaded.pixels.shape == (50, 100, 3)


# --- LoadedImage, model input, thumbnail ----------------------------------------------------


def test_from_array() -> None:
    arr = np.asarray(_quadrants((30, 20)))
    loaded = LoadedImage.from_array(arr)
    assert np.array_equal(loaded.pixels, arr)
    assert loaded.original_size == (30, 20)
    assert loaded.sha256 == ""
    assert loaded.format == "array"
    assert loaded.n_bytes == arr.nbytes
    assert loaded.pixels.flags.c_contiguous
    assert LoadedImage.from_array(arr[:, ::-1]).pixels.flags.c_contiguous


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 4), np.uint8),
        np.zeros((4, 4, 4), np.uint8),
        np.zeros((4, 4, 3), np.float32),
        np.zeros((0, 4, 3), np.uint8),
    ],
    ids=["2d", "rgba", "float", "empty"],
)
def test_from_array_rejects_wrong_arrays(bad: np.ndarray[Any, Any]) -> None:
    with pytest.raises(ValueError, match="expected"):
        LoadedImage.from_array(bad)


def test_loaded_image_is_frozen() -> None:
    loaded = LoadedImage.from_array(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.format = "PNG"  # type: ignore[misc]


def test_model_input_shape_and_dtype() -> None:
    images = [
        load_image(encode(noise_image((640, 480)), "PNG")),
        LoadedImage.from_array(np.asarray(noise_image((100, 300)))),
    ]
    batch = to_model_input(images)
    assert batch.shape == (2, 3, 224, 224)
    assert batch.dtype == np.float32
    assert to_model_input(images, size=32).shape == (2, 3, 32, 32)
    assert to_model_input([]).shape == (0, 3, 224, 224)


def test_constant_colour_normalises_to_clip_values() -> None:
    colour = (10, 128, 250)
    image = LoadedImage.from_array(np.full((300, 500, 3), colour, dtype=np.uint8))
    batch = to_model_input([image])
    expected = (np.array(colour) / 255.0 - np.array(CLIP_MEAN)) / np.array(CLIP_STD)
    for channel in range(3):
        assert np.allclose(batch[0, channel], expected[channel], atol=1e-5)


def test_model_input_takes_the_centre_crop() -> None:
    arr = np.zeros((100, 300, 3), dtype=np.uint8)
    arr[:, :100] = (255, 0, 0)
    arr[:, 100:200] = (0, 255, 0)
    arr[:, 200:] = (0, 0, 255)
    batch = to_model_input([LoadedImage.from_array(arr)], size=64)
    green = (np.array([0.0, 1.0, 0.0]) - np.array(CLIP_MEAN)) / np.array(CLIP_STD)
    assert np.allclose(batch[0, :, 4:60, 4:60].mean(axis=(1, 2)), green, atol=1e-4)


def test_model_input_matches_two_step_resize_then_crop() -> None:
    """The one-pass crop must agree with CLIP's Resize + CenterCrop done the long way."""
    y, x = np.mgrid[0:300, 0:500]
    arr = np.stack([x * 255 // 499, y * 255 // 299, (x + y) * 255 // 798], axis=-1)
    arr = arr.astype(np.uint8)
    resized = Image.fromarray(arr).resize((373, 224), Image.Resampling.BICUBIC)  # int(224*500/300)
    left = round((373 - 224) / 2.0)
    reference = np.asarray(resized.crop((left, 0, left + 224, 224)), dtype=np.float64)
    batch = to_model_input([LoadedImage.from_array(arr)])
    pixels = (batch[0].transpose(1, 2, 0) * np.array(CLIP_STD) + np.array(CLIP_MEAN)) * 255.0
    diff = np.abs(pixels - reference)
    assert diff.mean() < 0.75
    assert diff.max() <= 3.0


def test_model_input_resizes_then_crops_with_the_models_filter() -> None:
    """MobileCLIP-style (bilinear, short side 256) and a resize larger than the crop, each
    against the two-step Resize + CenterCrop with the same filter."""
    y, x = np.mgrid[0:300, 0:500]
    arr = np.stack([x * 255 // 499, y * 255 // 299, (x * y) % 256], axis=-1).astype(np.uint8)
    image = LoadedImage.from_array(arr)
    zeros, ones = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    for resample, short, crop in (("bilinear", 256, 256), ("bicubic", 256, 224)):
        filt = Image.Resampling.BILINEAR if resample == "bilinear" else Image.Resampling.BICUBIC
        long = int(short * 500 / 300)
        resized = Image.fromarray(arr).resize((long, short), filt)
        left, top = round((long - crop) / 2.0), round((short - crop) / 2.0)
        reference = np.asarray(resized.crop((left, top, left + crop, top + crop)), np.float64)
        batch = to_model_input(
            [image], size=crop, mean=zeros, std=ones, resize=short, resample=resample
        )
        assert batch.shape == (1, 3, crop, crop)
        diff = np.abs(batch[0].transpose(1, 2, 0) * 255.0 - reference)
        assert diff.mean() < 0.75 and diff.max() <= 3.0
    bilinear = to_model_input([image], resample="bilinear")
    assert not np.allclose(bilinear, to_model_input([image]))  # the filter is really used
    with pytest.raises(ValueError, match="resample"):
        to_model_input([image], resample="sinc")
    with pytest.raises(ValueError, match="at least the crop"):
        to_model_input([image], size=224, resize=200)


def test_thumbnail_bounds_the_long_side_and_keeps_colour() -> None:
    image = LoadedImage.from_array(np.asarray(noise_image((672, 448))))
    thumb = thumbnail(image)
    assert thumb.dtype == np.uint8
    assert thumb.shape == (171, 256, 3)
    assert np.allclose(thumb.mean(axis=(0, 1)), image.pixels.mean(axis=(0, 1)), atol=2.0)
    assert thumbnail(image, max_side=64).shape == (43, 64, 3)
    small = LoadedImage.from_array(np.zeros((20, 30, 3), np.uint8))
    assert thumbnail(small).shape == (20, 30, 3)


# --- robustness -----------------------------------------------------------------------------


def _apply(marks: list[pytest.MarkDecorator]) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        for mark in marks:
            func = mark(func)
        return func

    return decorate


def _seed_images() -> list[bytes]:
    img = noise_image((48, 40), seed=3)
    return [
        encode(img, "JPEG", quality=80),
        encode(img, "PNG"),
        encode(img, "WEBP", quality=80),
        encode(img.convert("P"), "GIF"),
        encode(img, "BMP"),
        encode(img, "TIFF"),
        encode(img, "TIFF", compression="tiff_deflate"),
    ]


SEED_IMAGES = _seed_images()

# Pillow's TIFF reader warns (rather than raises) about damaged metadata it can skip.
_PILLOW_DAMAGE_WARNINGS = [
    pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning"),
    pytest.mark.filterwarnings("ignore:Truncated File Read:UserWarning"),
    pytest.mark.filterwarnings("ignore:Possibly corrupt EXIF:UserWarning"),
]


@_apply(_PILLOW_DAMAGE_WARNINGS)
@hypothesis_settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.sampled_from(SEED_IMAGES),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), max_size=6),
)
def test_damaged_images_load_or_raise_invalid_image(
    seed: bytes, cut: float, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(seed[: max(1, int(len(seed) * (0.5 + cut / 2)))])
    for where, mask in flips:
        data[int(where * (len(data) - 1))] ^= mask
    try:
        loaded = load_image(bytes(data), settings=DEFAULTS)
    except InvalidImage as error:
        assert error.code in REJECTION_CODES
    else:
        assert loaded.pixels.ndim == 3 and loaded.pixels.shape[2] == 3


@_apply(_PILLOW_DAMAGE_WARNINGS)
@hypothesis_settings(max_examples=200, deadline=None, derandomize=True)
@given(st.binary(max_size=512))
def test_arbitrary_bytes_load_or_raise_invalid_image(data: bytes) -> None:
    try:
        load_image(data, settings=DEFAULTS)
    except InvalidImage as error:
        assert error.code in REJECTION_CODES


# --- real photographs -----------------------------------------------------------------------


def _photo_rows() -> list[dict[str, str]]:
    index = PHOTOS_DIR / "photos.csv"
    if not index.is_file():
        return []
    with index.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


PHOTO_ROWS = _photo_rows()


@pytest.mark.skipif(
    not PHOTO_ROWS, reason=f"shared test photos not found at {PHOTOS_DIR} (../shared/data)"
)
@pytest.mark.parametrize("row", PHOTO_ROWS, ids=lambda row: row["file"])
def test_real_photos_load(row: dict[str, str]) -> None:
    path = PHOTOS_DIR / row["file"]
    loaded = load_image(path, settings=DEFAULTS)
    width, height = int(row["width"]), int(row["height"])
    assert loaded.format in SUPPORTED_FORMATS
    assert loaded.original_size == (width, height)
    assert loaded.sha256 == row["sha256"]
    assert loaded.n_bytes == int(row["bytes"])
    assert loaded.pixels.dtype == np.uint8 and loaded.pixels.shape[2] == 3
    assert min(loaded.pixels.shape[:2]) == min(448, width, height)
    assert to_model_input([loaded]).shape == (1, 3, 224, 224)


def test_real_photos_folder_is_where_the_docs_say() -> None:
    require_shared(PHOTOS_DIR)
    files = [p for p in PHOTOS_DIR.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"}]
    assert len(files) == len(PHOTO_ROWS) > 0
