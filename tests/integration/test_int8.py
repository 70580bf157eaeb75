"""Dynamic int8 quantisation keeps CLIP's image embeddings: cosine ≥ 0.98 against fp32.

On the tiny random CLIP (the full-size ViT-B/32 figure is in the benchmark output). Random
weights say nothing about reading quality; this checks that quantisation preserves vectors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import PHOTOS_DIR, require_shared
from tests.tiny_clip import exported_tiny_clip
from tunelens.vision.imaging import load_image
from tunelens.vision.onnx_clip import ClipOnnxEncoder, session_options

pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    return exported_tiny_clip(tmp_path_factory.mktemp("tiny-clip-int8"))[1]


def test_int8_image_embeddings_match_fp32(tiny_export: Path) -> None:
    fp32 = ClipOnnxEncoder.from_dir(tiny_export, variant="fp32")
    int8 = ClipOnnxEncoder.from_dir(tiny_export, variant="int8")
    assert int8.model_id != fp32.model_id  # caches keyed by model id never mix them
    photos = sorted(require_shared(PHOTOS_DIR).glob("*.jpg"))[:12]
    images = [load_image(p) for p in photos]
    a, b = fp32.embed_images(images), int8.embed_images(images)
    cosine = (a * b).sum(axis=1)
    assert cosine.min() >= 0.98, cosine
    texts = ["a photo of a happy dog", "a sad rainy street"]
    text_cosine = (fp32.embed_texts(texts) * int8.embed_texts(texts)).sum(axis=1)
    assert np.all(text_cosine >= 0.98), text_cosine


def test_session_options_do_not_spin() -> None:
    options = session_options(2)
    assert options.intra_op_num_threads == 2
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
