"""``int8-local``: a pull from the fake hub on loopback downloads the fp32 image graph and makes
the int8 one here, locks it with its recipe, and every load checks it; a made graph that goes
missing is made again from the cache without the network; a damaged source is never quantised.

The model is a tiny random CLIP in the exact transformers.js layout; its numbers mean nothing
(the cosine below checks the quantiser's arithmetic, not accuracy).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import warnings
from pathlib import Path

import numpy as np
import pytest

from tests.fake_hub import FakeHub
from tests.modelhub.conftest import REPO
from tunelens.core.errors import ConfigError, ModelUnavailable
from tunelens.core.settings import Settings
from tunelens.modelhub.derive import RECIPES, derive_file, quiet_quantiser, up_to_date
from tunelens.modelhub.download import pull
from tunelens.modelhub.loader import load_encoder
from tunelens.modelhub.registry import LOCAL_INT8_RECIPE, LOCAL_INT8_VISION, Derivation, choose
from tunelens.vision.lock import ModelLock
from tunelens.vision.onnx_clip import ClipOnnxEncoder

pytestmark = [pytest.mark.torch, pytest.mark.slow]

FP32_VISION = "onnx/vision_model.onnx"
DOWNLOADED = [
    "tokenizer.json",
    "preprocessor_config.json",
    "config.json",
    FP32_VISION,
    "onnx/text_model_quantized.onnx",
]


def _settings(**kwargs: object) -> Settings:
    return Settings(**{"model_repo": REPO, "model_precision": "int8-local", **kwargs})  # type: ignore[arg-type]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_pull_downloads_fp32_and_makes_int8_here(hub: FakeHub, tiny_hf: Path) -> None:
    settings = _settings()
    choice = choose(settings)
    result = pull(choice, settings.models_dir)

    assert sorted(result.fetched) == sorted(DOWNLOADED)
    assert result.derived == (LOCAL_INT8_VISION,)
    made = result.folder / LOCAL_INT8_VISION
    assert made.is_file() and not made.with_name(made.name + ".partial").exists()
    assert made.stat().st_size < (result.folder / FP32_VISION).stat().st_size
    lock = ModelLock.load(result.folder)
    assert lock is not None
    assert lock.files[LOCAL_INT8_VISION].sha256 == _sha(made.read_bytes())
    how = lock.derived[LOCAL_INT8_VISION]
    assert how.source == FP32_VISION and how.recipe == LOCAL_INT8_RECIPE
    assert how.source_sha256 == _sha((tiny_hf / FP32_VISION).read_bytes())
    assert how.tool.startswith("onnxruntime ")

    encoder, _ = load_encoder("clip", settings)
    assert isinstance(encoder, ClipOnnxEncoder) and encoder.variant == "int8-local"
    assert encoder.spec.image_file == made
    assert encoder.name.endswith("-int8-local")
    fp32, _ = load_encoder("clip", Settings(model_dir=tiny_hf, model_precision="fp32"))
    assert encoder.model_id != fp32.model_id  # caches keyed by model never mix the two
    assert isinstance(fp32, ClipOnnxEncoder)
    side = encoder.image_size
    pixels = np.random.default_rng(0).random((4, 3, side, side), dtype=np.float32)
    cosine = (encoder.embed_pixels(pixels) * fp32.embed_pixels(pixels)).sum(axis=1)
    assert cosine.min() > 0.98  # int8 arithmetic of the same graph, not a different model
    assert encoder.embed_texts(["a calm lake"]).shape == (1, encoder.dim)

    again = pull(choice, settings.models_dir)  # nothing to fetch, nothing to make
    assert again.fetched == () and again.derived == ()


def test_a_missing_made_graph_is_made_again_offline(
    hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings()
    result = pull(choose(settings), settings.models_dir)
    made = result.folder / LOCAL_INT8_VISION
    first = made.read_bytes()
    made.unlink()
    hub.stop()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    seen = len(hub.requests)
    encoder, notices = load_encoder("auto", settings)
    assert isinstance(encoder, ClipOnnxEncoder) and encoder.variant == "int8-local"
    assert not any("colour" in n for n in notices) and len(hub.requests) == seen
    assert made.read_bytes() == first  # the recipe is deterministic for one ORT version


def test_a_changed_made_graph_is_caught_on_load(hub: FakeHub) -> None:
    settings = _settings()
    result = pull(choose(settings), settings.models_dir)
    made = result.folder / LOCAL_INT8_VISION
    raw = bytearray(made.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    made.write_bytes(bytes(raw))
    with pytest.raises(ModelUnavailable) as info:
        load_encoder("clip", settings)
    assert info.value.code == "model_corrupt" and str(made) in info.value.message
    repaired = pull(choose(settings), settings.models_dir, force=True)
    assert repaired.derived == (LOCAL_INT8_VISION,)
    encoder, _ = load_encoder("clip", settings)
    assert isinstance(encoder, ClipOnnxEncoder)


def test_a_damaged_source_is_not_quantised(hub: FakeHub) -> None:
    settings = _settings()
    choice = choose(settings)
    result = pull(choice, settings.models_dir)
    folder, target = result.folder, choice.model.towers("int8-local").vision
    source = folder / FP32_VISION
    raw = bytearray(source.read_bytes())
    raw[len(raw) // 3] ^= 0xFF
    source.write_bytes(bytes(raw))
    lock = ModelLock.load(folder)
    assert lock is not None and up_to_date(folder, lock, target)
    with pytest.raises(ModelUnavailable) as info:
        derive_file(folder, target, lock, force=True)
    assert info.value.code == "model_corrupt" and str(source) in info.value.message

    assert target.derive is not None
    unknown = dataclasses.replace(
        target, derive=Derivation(target.derive.source, "int3-telepathic")
    )
    with pytest.raises(ConfigError) as config:
        derive_file(folder, unknown, lock)
    assert "int3-telepathic" in config.value.message and LOCAL_INT8_RECIPE in config.value.message
    assert set(RECIPES) == {LOCAL_INT8_RECIPE}


def test_the_quantiser_leaves_the_root_logger_and_warnings_as_they_were() -> None:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet_quantiser():
            assert root.level == logging.ERROR
            root.addHandler(logging.NullHandler())  # as the quantiser may do
            warnings.warn("advice", UserWarning, stacklevel=1)
        assert caught == []
    assert (root.level, root.handlers) == (level, handlers)
