"""Occlusion heatmaps land on the region that carries the mood; Grad-CAM has the same shape."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tunelens.core.types import EncoderInfo, Reading
from tunelens.explain.heatmap import Heatmap, HeatmapRequest, HotRegion, colormap
from tunelens.explain.occlusion import local_saliency, occlusion
from tunelens.explain.regions import COLS, ROWS, colour_content
from tunelens.explain.saliency import compute_heatmap
from tunelens.explain.text import HeatmapWords, explanation_text, region_label
from tunelens.reading.reader import Reader
from tunelens.vision.colour import ColourEncoder
from tunelens.vision.imaging import LoadedImage

COLOUR_INFO = EncoderInfo(name="colour", pretrained=False, fallback=False, model_id="colour-v1")
YELLOW = (255, 200, 0)


@pytest.fixture(scope="module")
def colour() -> tuple[ColourEncoder, Reader]:
    encoder = ColourEncoder()
    return encoder, Reader(encoder, None, COLOUR_INFO)


def patch_picture(row: int, col: int, colour: tuple[int, int, int] = YELLOW) -> LoadedImage:
    """A dull grey 360×240 field with one bright saturated patch inside third (row, col)."""
    pixels = np.full((240, 360, 3), 110, dtype=np.uint8)
    top, left = row * 80, col * 120
    pixels[top + 5 : top + 75, left + 5 : left + 115] = colour
    return LoadedImage.from_array(pixels)


def read(encoder: Any, reader: Reader, image: LoadedImage) -> Reading:
    return reader.read([image], encoder.embed_images([image]))[0]


@pytest.mark.parametrize(("row", "col"), [(0, 2), (2, 0), (1, 1)])
def test_hot_cell_lands_on_the_mood_bearing_patch(
    colour: tuple[ColourEncoder, Reader], row: int, col: int
) -> None:
    encoder, reader = colour
    image = patch_picture(row, col)
    reading = read(encoder, reader, image)
    # the patch is what makes this grey picture pleasant: contentment leads
    assert reading.top_emotion == "contentment"
    heatmap = occlusion(encoder, reader, image, reading)
    assert heatmap.method == "occlusion" and heatmap.grid.shape == (6, 6)
    assert heatmap.target == "contentment" and heatmap.target_kind == "emotion"
    assert float(heatmap.grid.max()) == pytest.approx(1.0)
    hot_row, hot_col = np.unravel_index(int(np.argmax(heatmap.grid)), heatmap.grid.shape)
    # a 6×6 lattice: third (row, col) is cells 2·row…2·row+1 × 2·col…2·col+1
    assert hot_row // 2 == row and hot_col // 2 == col
    # cells far from the patch carry nothing
    assert heatmap.grid[(row + 1) % 3 * 2, (col + 1) % 3 * 2] == 0.0
    first = heatmap.regions[0]
    assert (first.row, first.col) == (ROWS[row], COLS[col])
    assert first.share >= 0.4


def test_region_words_name_the_region_and_what_it_shows(
    colour: tuple[ColourEncoder, Reader],
) -> None:
    encoder, reader = colour
    labels = {}
    for row, col in ((0, 2), (2, 0)):
        image = patch_picture(row, col)
        heatmap = occlusion(encoder, reader, image, read(encoder, reader, image))
        labels[row, col] = region_label(heatmap.regions[0])
    assert labels == {(0, 2): "upper right: warm light", (2, 0): "lower left: yellow tones"}


def test_sky_and_other_content_words() -> None:
    sky = np.zeros((20, 60, 3), dtype=np.uint8) + np.array([90, 150, 235], dtype=np.uint8)
    assert colour_content(sky, "upper") == ("sky", "feature")
    assert colour_content(sky, "lower") == ("water", "feature")
    assert colour_content(np.full((10, 10, 3), 20, np.uint8), "middle") == ("shadows", "feature")
    assert colour_content(np.full((10, 10, 3), 230, np.uint8), "upper") == ("clouds", "feature")
    leaves = np.zeros((10, 10, 3), dtype=np.uint8) + np.array([40, 160, 50], dtype=np.uint8)
    assert colour_content(leaves, None) == ("greenery", "feature")
    band = HotRegion(row="upper", col=None, share=0.7, content="sky", content_kind="feature")
    assert region_label(band) == "upper third: sky"


def test_a_flat_picture_has_no_hot_region(colour: tuple[ColourEncoder, Reader]) -> None:
    encoder, reader = colour
    image = LoadedImage.from_array(np.full((120, 180, 3), 128, dtype=np.uint8))
    reading = read(encoder, reader, image)
    heatmap = occlusion(encoder, reader, image, reading)
    assert heatmap.is_flat and heatmap.regions == []
    text = explanation_text(reading, heatmap=HeatmapWords(heatmap.regions))
    assert "No single region" in text


def test_genre_target(colour: tuple[ColourEncoder, Reader]) -> None:
    encoder, reader = colour
    image = patch_picture(0, 2)
    reading = read(encoder, reader, image)
    heatmap = occlusion(encoder, reader, image, reading, HeatmapRequest(target="genre"))
    assert heatmap.target_kind == "genre"
    assert heatmap.target == max(reading.genres, key=lambda g: reading.genres[g])


def test_colormap_is_rgb_hot_is_red_cold_is_blue() -> None:
    hot, cold = colormap(np.array([1.0, 0.0]))
    assert hot[0] > 180 and hot[2] < 60, hot  # red in an RGB image (not BGR's blue)
    assert cold[2] > cold[0] and cold[2] > cold[1], cold


def test_overlay_is_an_rgb_png_red_where_hot(colour: tuple[ColourEncoder, Reader]) -> None:
    encoder, reader = colour
    image = patch_picture(0, 2)
    heatmap = occlusion(encoder, reader, image, read(encoder, reader, image))
    url = heatmap.data_url(image.pixels)
    assert url.startswith("data:image/png;base64,")
    png = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert png.format == "PNG" and png.mode == "RGB" and png.size == (360, 240)
    # on a plain grey photo the overlay's colour is the colour map's: hot red, cold blue
    grey = np.full((240, 360, 3), 128, dtype=np.uint8)
    overlay = np.asarray(heatmap.overlay(grey), dtype=np.int32)
    hot_row, hot_col = np.unravel_index(int(np.argmax(heatmap.grid)), heatmap.grid.shape)
    y, x = int((hot_row + 0.5) * 40), int((hot_col + 0.5) * 60)
    red, green, blue = overlay[y, x]
    assert red > 150 and red > blue + 60, (red, green, blue)
    red, green, blue = overlay[220, 20]
    assert blue > red + 10 and blue > green, (red, green, blue)


def test_overlay_is_capped_at_512_pixels(colour: tuple[ColourEncoder, Reader]) -> None:
    heatmap = Heatmap(
        grid=np.eye(3, dtype=np.float32),
        method="occlusion",
        target_kind="emotion",
        target="awe",
        base_score=0.5,
    )
    big = np.zeros((600, 1000, 3), dtype=np.uint8)
    assert heatmap.overlay(big).size == (512, 307)


# --- CLIP: occlusion through ONNX, Grad-CAM through PyTorch ---------------------------------


@pytest.mark.torch
def test_gradcam_agrees_in_shape_with_occlusion(tiny_clip_dirs: tuple[Path, Path]) -> None:
    from tunelens.reading.zeroshot import ZeroShotHeads
    from tunelens.vision.onnx_clip import ClipOnnxEncoder
    from tunelens.vision.torch_clip import ClipTorchEncoder

    checkpoint, export = tiny_clip_dirs
    torch_encoder = ClipTorchEncoder.from_checkpoint(checkpoint, pretrained=False)
    onnx_encoder = ClipOnnxEncoder.from_dir(export)
    rng = np.random.default_rng(3)
    image = LoadedImage.from_array(rng.integers(0, 255, size=(240, 320, 3), dtype=np.uint8))

    def reader_for(encoder: Any) -> Reader:
        info = EncoderInfo(
            name=encoder.name, pretrained=False, fallback=False, model_id=encoder.model_id
        )
        return Reader(encoder, ZeroShotHeads(encoder, None), info)

    torch_reader, onnx_reader = reader_for(torch_encoder), reader_for(onnx_encoder)
    reading = read(torch_encoder, torch_reader, image)
    grad = compute_heatmap(torch_encoder, torch_reader, image, reading)  # auto → Grad-CAM
    occl = compute_heatmap(onnx_encoder, onnx_reader, image, read(onnx_encoder, onnx_reader, image))
    assert grad.method == "gradcam" and occl.method == "occlusion"
    # ViT-B/32-style patching: 224 / 32 = 7 × 7 tokens, over the centre crop
    assert grad.grid.shape == (7, 7) and occl.grid.shape == (6, 6)
    assert grad.extent == pytest.approx((40 / 320, 0.0, 280 / 320, 1.0))
    for heatmap in (grad, occl):
        assert heatmap.grid.dtype == np.float32
        assert 0.0 <= float(heatmap.grid.min()) <= float(heatmap.grid.max()) <= 1.0
        assert heatmap.target == reading.top_emotion or heatmap is occl
        assert all(isinstance(r, HotRegion) for r in heatmap.regions)
        assert heatmap.full_map(60, 80).shape == (60, 80)
    assert grad.overlay(image.pixels).size == occl.overlay(image.pixels).size == (320, 240)
    # outside the centre crop Grad-CAM says nothing
    assert float(grad.full_map(60, 80)[:, :8].max()) == 0.0
    with pytest.raises(ValueError, match="Grad-CAM needs"):
        compute_heatmap(onnx_encoder, onnx_reader, image, reading, HeatmapRequest(method="gradcam"))


def test_a_move_every_cell_shares_is_no_saliency() -> None:
    # an even deep-blue sky: hiding any cell moves the reading by 0.10–0.15
    even = 0.12 + 0.02 * np.random.default_rng(0).random((6, 6))
    assert not local_saliency(even).any()
    telling = np.full((6, 6), 0.01)
    telling[1, 2] = 0.05
    saliency = local_saliency(telling)
    assert saliency[1, 2] == pytest.approx(1.0) and saliency[0, 0] == 0.0


def test_an_even_sky_points_at_no_region(colour: tuple[ColourEncoder, Reader]) -> None:
    encoder, reader = colour
    rng = np.random.default_rng(1)
    sky = np.zeros((240, 360, 3), dtype=np.float64) + np.array([30.0, 80.0, 200.0])
    sky += rng.normal(0.0, 6.0, sky.shape)
    image = LoadedImage.from_array(np.clip(sky, 0, 255).astype(np.uint8))
    reading = read(encoder, reader, image)
    heatmap = occlusion(encoder, reader, image, reading)
    assert heatmap.is_flat and heatmap.regions == []
    text = explanation_text(reading, heatmap=HeatmapWords(heatmap.regions))
    assert "comes mostly from" not in text and "depends most on" not in text
