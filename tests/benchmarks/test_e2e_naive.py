"""The naive baseline's preprocessing is a fair one: it feeds the model (nearly) the pixels the
fused fast path does. (No timings are asserted anywhere in the suite.)"""

from __future__ import annotations

import numpy as np
from benchmarks.e2e_naive import processor_like
from PIL import Image

from tests.conftest import PHOTOS_DIR, require_shared
from tunelens.vision.imaging import LoadedImage, to_model_input


def test_naive_preprocessing_matches_the_fused_path() -> None:
    """Both pipelines feed the model (nearly) the same pixels, so the comparison is fair."""
    with Image.open(require_shared(PHOTOS_DIR / "forest_path_01.jpg")) as img:
        pixels = np.asarray(img.convert("RGB"))
    naive = processor_like(pixels)
    fused = to_model_input([LoadedImage.from_array(pixels)])
    assert naive.shape == fused.shape == (1, 3, 224, 224)
    assert float(np.abs(naive - fused).mean()) < 0.05
