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
    FEATURE_GROUPS,
    FEATURE_NAMES,
    perceptual_features,
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
