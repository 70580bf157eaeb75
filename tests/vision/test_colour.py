"""The colour statistics' fast hue binning against the textbook HSV formula, to the bit."""

from __future__ import annotations

import numpy as np

from tunelens.vision.colour import _HUE_EDGES, HUE_NAMES, _hue_bins, colour_stats


def test_hue_bins_are_digitize_of_the_hsv_hue_for_every_chromatic_colour_on_a_grid() -> None:
    levels = np.arange(0, 256, 3, dtype=np.uint8)
    rgb = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    rgb = rgb.astype(np.float32) / 255.0
    r, g, b = (np.ascontiguousarray(rgb[:, i]) for i in range(3))
    maxc = np.maximum(np.maximum(r, g), b)
    delta = maxc - np.minimum(np.minimum(r, g), b)
    safe = np.maximum(delta, 1e-6)
    hue = np.where(
        maxc == r,
        ((g - b) / safe) % 6.0,
        np.where(maxc == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0),
    )
    expected = np.digitize((hue * 60.0).astype(np.float32), _HUE_EDGES) % len(HUE_NAMES)
    chromatic = delta > 0
    got = _hue_bins(r[chromatic], g[chromatic], b[chromatic])
    assert np.array_equal(got, expected[chromatic])
    assert set(np.unique(got)) == set(range(len(HUE_NAMES)))


def test_a_grey_picture_has_no_hue_and_a_red_one_all_red() -> None:
    grey = colour_stats(np.full((8, 8, 3), 120, dtype=np.uint8))
    assert grey.dominant_hue == "grey" and sum(grey.hue_histogram) == 0.0
    red = colour_stats(np.tile(np.array([250, 5, 10], dtype=np.uint8), (8, 8, 1)))
    assert red.dominant_hue == "red" and red.hue_histogram[0] == 1.0
