"""The exposure changes the reader fit penalises and ``eval moods`` measures."""

from __future__ import annotations

import numpy as np
import pytest

from tunelens.vision.exposure import shifted_exposure
from tunelens.vision.imaging import LoadedImage


def test_shifted_exposure_scales_brightness() -> None:
    pixels = np.full((20, 30, 3), 100, dtype=np.uint8)
    image = LoadedImage.from_array(pixels)
    assert shifted_exposure(image, 1.1).pixels.mean() == pytest.approx(110, abs=1)
    assert shifted_exposure(image, 0.9).pixels.mean() == pytest.approx(90, abs=1)
    assert np.array_equal(shifted_exposure(image, 1.0).pixels, pixels)


def test_brighter_clips_at_white_and_keeps_the_shape() -> None:
    pixels = np.full((4, 5, 3), 250, dtype=np.uint8)
    brighter = shifted_exposure(LoadedImage.from_array(pixels), 1.1).pixels
    assert brighter.shape == pixels.shape and brighter.dtype == np.uint8
    assert int(brighter.max()) == 255
