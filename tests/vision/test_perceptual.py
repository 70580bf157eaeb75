"""Perceptual features: CIELAB against reference values, and each feature on pictures whose
answer is known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import PHOTOS_DIR, require_shared
from tunelens.core.settings import Settings
from tunelens.vision.colour import colour_stats
from tunelens.vision.imaging import load_image, thumbnail
from tunelens.vision.perceptual import (
    _RGB_TO_XYZ,
    _WHITE,
    FEATURE_GROUPS,
    FEATURE_NAMES,
    LINEAR,
    edge_share,
    hue_angle,
    lab_planes,
    perceptual_features,
    share,
    srgb_to_lab,
)


def solid(rgb: tuple[int, int, int], size: int = 48) -> np.ndarray:
    return np.full((size, size, 3), rgb, dtype=np.uint8)


@pytest.mark.parametrize(
    ("rgb", "lab"),
    [
        # CIE reference values (D65) for the sRGB primaries, white, black and mid grey
        ((255, 255, 255), (100.0, 0.0, 0.0)),
        ((0, 0, 0), (0.0, 0.0, 0.0)),
        ((255, 0, 0), (53.24, 80.09, 67.20)),
        ((0, 255, 0), (87.73, -86.18, 83.18)),
        ((0, 0, 255), (32.30, 79.19, -107.86)),
        ((119, 119, 119), (50.03, 0.0, 0.0)),
    ],
)
def test_lab_matches_reference_values(rgb: tuple[int, int, int], lab: tuple[float, ...]) -> None:
    got = srgb_to_lab(np.array([[rgb]], dtype=np.uint8))[0, 0]
    assert got == pytest.approx(lab, abs=0.1)


def test_every_feature_is_reported_in_group_order() -> None:
    features = perceptual_features(solid((90, 140, 200)))
    assert tuple(features) == FEATURE_NAMES
    assert [n for g in FEATURE_GROUPS.values() for n in g] == list(FEATURE_NAMES)
    assert all(np.isfinite(v) for v in features.values())


def test_grey_has_no_chroma_no_hue_and_no_variety() -> None:
    grey = perceptual_features(solid((128, 128, 128)))
    assert grey["chroma"] == pytest.approx(0.0, abs=1e-3)
    assert grey["hue_variety"] == 0.0 and grey["warmth"] == 0.0
    assert grey["warm_share"] == grey["blue_share"] == grey["green_share"] == 0.0
    assert grey["edge_density"] == 0.0 and grey["lightness_spread"] == pytest.approx(0.0)


def test_lightness_shares() -> None:
    black, white = (
        perceptual_features(solid((5, 5, 5))),
        perceptual_features(solid((250, 250, 250))),
    )
    assert black["dark_share"] == 1.0 and black["bright_share"] == 0.0
    assert white["bright_share"] == 1.0 and white["dark_share"] == 0.0
    assert white["lightness"] > 0.95 and black["lightness"] < 0.05


def test_hue_shares_and_variety() -> None:
    red, green, blue = solid((220, 40, 30)), solid((40, 170, 60)), solid((30, 70, 220))
    assert perceptual_features(red)["warm_share"] == 1.0
    assert perceptual_features(green)["green_share"] == 1.0
    assert perceptual_features(blue)["blue_share"] == 1.0
    assert perceptual_features(red)["warmth"] > 0.9 and perceptual_features(blue)["warmth"] < -0.9
    one = perceptual_features(red)["hue_variety"]
    three = perceptual_features(np.concatenate([red, green, blue], axis=1))["hue_variety"]
    assert one == pytest.approx(0.0, abs=1e-6) and three > 0.3


def test_layout_sees_a_blue_sky_over_dark_land_and_a_lit_centre() -> None:
    landscape = np.concatenate([solid((80, 140, 230))[:16], solid((40, 35, 30))[:32]], axis=0)
    features = perceptual_features(landscape)
    assert features["sky_share"] == 1.0
    assert features["upper_minus_lower"] > 0.3
    assert features["block_lightness_spread"] > 0.1
    spot = solid((20, 20, 20))
    spot[12:36, 12:36] = 230
    lit = perceptual_features(spot)
    assert lit["centre_minus_surround"] > 0.5
    assert perceptual_features(255 - spot)["centre_minus_surround"] < -0.5


def test_chroma_spread_and_colourfulness_grow_with_vivid_contrast() -> None:
    dull = np.concatenate([solid((120, 110, 100)), solid((130, 120, 110))], axis=1)
    vivid = np.concatenate([solid((230, 30, 30)), solid((30, 200, 40))], axis=1)
    a, b = perceptual_features(dull), perceptual_features(vivid)
    assert b["chroma_spread"] > a["chroma_spread"] and b["colourfulness"] > a["colourfulness"]


def test_edges_of_a_checkerboard() -> None:
    checker = (np.indices((32, 32)).sum(axis=0) % 2 * 255).astype(np.uint8)
    features = perceptual_features(np.repeat(checker[:, :, None], 3, axis=2))
    assert features["edge_density"] > 0.9 and features["lightness_spread"] > 0.45


def test_tiny_pictures_do_not_break() -> None:
    for size in (1, 2, 3):
        features = perceptual_features(solid((200, 100, 50), size=size))
        assert all(np.isfinite(v) for v in features.values())


def test_colour_stats_carry_the_features_of_a_real_photo() -> None:
    image = load_image(
        require_shared(PHOTOS_DIR / "kite_blue_sky_clouds_01.jpg"),
        settings=Settings(_env_file=None),
    )
    pixels = thumbnail(image)
    stats = colour_stats(pixels)
    assert stats.perceptual == perceptual_features(pixels)
    assert "perceptual" not in stats.as_dict()
    # a kite in a deep-blue sky: mostly blue, the sky above brighter than below
    assert stats.perceptual["blue_share"] > 0.5 and stats.perceptual["sky_share"] > 0.5


def _every_colour(step: int) -> np.ndarray:
    """A picture holding every colour on a grid of ``step`` levels per channel."""
    levels = np.arange(0, 256, step, dtype=np.uint8)
    cube = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1)
    return cube.reshape(len(levels), -1, 3)


def test_the_linear_table_is_the_transfer_formula_for_every_uint8_value() -> None:
    c = np.arange(256, dtype=np.float32) / 255.0
    formula = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    assert LINEAR.dtype == np.float32 and np.array_equal(LINEAR, formula)
    # and CIELAB by lookup is the per-pixel formula to the bit, for every value of each channel
    pixels = np.stack([np.roll(np.arange(256), k) for k in (0, 85, 170)], -1).astype(np.uint8)
    c = pixels.astype(np.float32) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = (linear @ _RGB_TO_XYZ.T) / _WHITE
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    expected = np.stack(
        [116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=-1
    )
    assert np.array_equal(srgb_to_lab(pixels), expected)
    lightness, a, b = lab_planes(pixels[None])
    assert np.array_equal(np.stack([lightness[0], a[0], b[0]], -1), expected)


def test_hue_angle_is_the_remainder_formula_to_the_bit() -> None:
    _, a, b = lab_planes(_every_colour(5))
    expected = ((np.degrees(np.arctan2(b, a)) + 360.0) % 360.0).astype(np.float32)
    got = hue_angle(a, b)
    assert got.dtype == np.float32 and np.array_equal(got, expected)
    assert got.min() >= 0.0 and got.max() < 360.0


def _hypot_edges(plane: np.ndarray, threshold: float) -> float:
    gy = np.abs(np.diff(plane, axis=0))[:, :-1]
    gx = np.abs(np.diff(plane, axis=1))[:-1, :]
    return float((np.hypot(gx, gy) > threshold).mean()) if gx.size else 0.0


@pytest.mark.parametrize("threshold", [0.08, 8.0])
def test_edge_share_is_the_hypot_comparison_also_at_the_threshold(threshold: float) -> None:
    rng = np.random.default_rng(3)
    t = np.float32(threshold)
    for _ in range(40):
        height, width = rng.integers(1, 40, size=2)
        plane = rng.random((height, width), dtype=np.float32) * np.float32(threshold * 1.5)
        assert edge_share(plane, threshold) == _hypot_edges(plane, threshold)
    # gradients exactly at, one step below and one step above the threshold, where only
    # hypot itself can tell (its own rounding decides)
    for step in (t, np.nextafter(t, np.float32(0)), np.nextafter(t, np.float32(99))):
        for angle in (0.0, 0.3, np.pi / 4, 1.2):
            dx, dy = np.float32(step * np.cos(angle)), np.float32(step * np.sin(angle))
            ramp = np.arange(6, dtype=np.float32)
            plane = ramp[None, :] * dx + ramp[:, None] * dy
            assert edge_share(plane, threshold) == _hypot_edges(plane, threshold)
    assert edge_share(np.zeros((1, 5), np.float32), threshold) == 0.0


def test_share_is_the_mean_of_a_mask() -> None:
    mask = np.random.default_rng(4).random((37, 53)) > 0.3
    assert share(mask) == float(mask.mean()) and isinstance(share(mask), float)
