"""The transformers.js folder layout: preprocessing read from preprocessor_config.json, graph
files per precision, and the ONNX encoder on a tiny random CLIP in that exact layout compared
with PyTorch. Random weights: agreement numbers measure the runtime, never quality."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.tiny_clip import tiny_hf_layout
from tunelens.core.errors import ModelUnavailable
from tunelens.vision.clip_spec import open_spec
from tunelens.vision.hf_layout import pixel_recipe, read_config, tower_file
from tunelens.vision.imaging import CLIP_MEAN, LoadedImage
from tunelens.vision.onnx_clip import ClipOnnxEncoder

#: the preprocessor_config.json of Xenova/mobileclip_s0 (read from the hub), the layout the
#: MobileCLIP repositories share
MOBILECLIP = {
    "crop_size": {"height": 256, "width": 256},
    "do_center_crop": True,
    "do_convert_rgb": True,
    "do_normalize": False,
    "do_rescale": True,
    "do_resize": True,
    "feature_extractor_type": "CLIPFeatureExtractor",
    "image_processor_type": "CLIPFeatureExtractor",
    "resample": 2,
    "rescale_factor": 0.00392156862745098,
    "size": {"shortest_edge": 256},
}
#: the older form openai/clip-vit-base-patch32 and its ONNX copies use
OPENAI_CLIP = {
    "crop_size": 224,
    "do_center_crop": True,
    "do_normalize": True,
    "do_resize": True,
    "feature_extractor_type": "CLIPFeatureExtractor",
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "resample": 3,
    "size": 224,
}


def _folder(tmp_path: Path, preprocessor: dict[str, Any] | None) -> Path:
    (tmp_path / "onnx").mkdir(exist_ok=True)
    if preprocessor is not None:
        (tmp_path / "preprocessor_config.json").write_text(json.dumps(preprocessor))
    return tmp_path


def test_preprocessing_is_read_from_the_repository(tmp_path: Path) -> None:
    mobile = pixel_recipe(_folder(tmp_path, MOBILECLIP))
    assert (mobile.size, mobile.resize, mobile.resample) == (256, 256, "bilinear")
    assert mobile.mean == (0.0, 0.0, 0.0) and mobile.std == (1.0, 1.0, 1.0)
    grey = LoadedImage.from_array(np.full((300, 400, 3), 128, dtype=np.uint8))
    np.testing.assert_allclose(mobile.batch([grey]), 128 / 255, atol=1e-6)  # no normalising

    clip = pixel_recipe(_folder(tmp_path, OPENAI_CLIP))
    assert (clip.size, clip.resize, clip.resample, clip.mean) == (224, 224, "bicubic", CLIP_MEAN)
    wide = pixel_recipe(_folder(tmp_path, {**OPENAI_CLIP, "size": {"shortest_edge": 256}}))
    assert (wide.resize, wide.size) == (256, 224)  # resize the short side, then crop
    assert wide.batch([grey]).shape == (1, 3, 224, 224)
    (tmp_path / "preprocessor_config.json").unlink()
    assert pixel_recipe(tmp_path).size == 224  # CLIP's own defaults without a file


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"crop_size": {"height": 224, "width": 200}}, "equal height and width"),
        ({"do_rescale": False}, "rescaled by 1/255"),
        ({"crop_size": 300}, "larger than size"),
        ({"resample": 9}, "unknown resample"),
        ({"do_normalize": True, "image_mean": [0.5, 0.5]}, "3 numbers"),
    ],
)
def test_preprocessing_tunelens_cannot_do_is_refused(
    tmp_path: Path, change: dict[str, Any], words: str
) -> None:
    with pytest.raises(ModelUnavailable) as info:
        pixel_recipe(_folder(tmp_path, {**MOBILECLIP, **change}))
    assert info.value.code == "model_corrupt" and words in info.value.message


def test_graph_files_per_precision(tmp_path: Path) -> None:
    folder = _folder(tmp_path, None)
    for name in ("vision_model.onnx", "vision_model_quantized.onnx", "vision_model_int8.onnx"):
        (folder / "onnx" / name).write_bytes(b"x")
    assert tower_file(folder, "image", "fp32") == "onnx/vision_model.onnx"
    assert tower_file(folder, "image", "int8") == "onnx/vision_model_int8.onnx"
    (folder / "onnx" / "vision_model_int8.onnx").unlink()
    assert tower_file(folder, "image", "int8") == "onnx/vision_model_quantized.onnx"
    (folder / "onnx" / "model.onnx").write_bytes(b"x")
    with pytest.raises(ModelUnavailable) as info:
        tower_file(folder, "text", "fp16")
    message = info.value.message
    assert "onnx/text_model_fp16.onnx" in message and "onnx/vision_model.onnx" in message
    assert "both towers in one graph" in message


def test_int8_local_needs_its_own_image_graph_but_not_text(tmp_path: Path) -> None:
    """int8-local is an image graph made here; the text tower (never run per request) is the
    folder's 8-bit one, and a folder without the made image graph does not silently use the
    hub's."""
    folder = _folder(tmp_path, None)
    for name in ("vision_model_quantized.onnx", "text_model_quantized.onnx"):
        (folder / "onnx" / name).write_bytes(b"x")
    with pytest.raises(ModelUnavailable) as info:
        tower_file(folder, "image", "int8-local")
    assert "onnx/vision_model_int8_local.onnx" in info.value.message
    (folder / "onnx" / "vision_model_int8_local.onnx").write_bytes(b"x")
    assert tower_file(folder, "image", "int8-local") == "onnx/vision_model_int8_local.onnx"
    assert tower_file(folder, "text", "int8-local") == "onnx/text_model_quantized.onnx"


def test_config_json(tmp_path: Path) -> None:
    assert read_config(tmp_path).pretrained and read_config(tmp_path).name == tmp_path.name
    (tmp_path / "config.json").write_text(
        json.dumps(
            {
                "_name_or_path": "openai/clip-vit-base-patch32",
                "text_config": {"max_position_embeddings": 77},
                "tunelens_random_weights": True,
            }
        )
    )
    config = read_config(tmp_path)
    assert (config.name, config.pretrained, config.context_length) == (
        "clip-vit-base-patch32",
        False,
        77,
    )
    assert read_config(tmp_path, "mobileclip-s1").name == "mobileclip-s1"


def test_a_folder_of_neither_layout_says_what_it_holds(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"x")
    with pytest.raises(ModelUnavailable) as info:
        open_spec(tmp_path)
    assert "model.safetensors" in info.value.message and "transformers.js" in info.value.message


# ------------------------------------------------------------------ the tiny model in the layout
pytorch_only = pytest.mark.torch


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch", reason="building the tiny model needs the torch extra")
    pytest.importorskip("transformers", reason="building the tiny model needs the torch extra")
    return tiny_hf_layout(tmp_path_factory.getbasetemp() / "tiny-hf")


@pytest.fixture(scope="module")
def pictures() -> list[LoadedImage]:
    rng = np.random.default_rng(1)
    return [
        LoadedImage.from_array(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        for h, w in ((224, 224), (300, 200), (240, 420))
    ]


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.asarray((a * b).sum(axis=1))


@pytorch_only
def test_the_layout_matches_pytorch(tiny_hf: Path, pictures: list[LoadedImage]) -> None:
    import torch
    from transformers import AutoTokenizer, CLIPModel

    ckpt = tiny_hf.parent / f"{tiny_hf.name}-checkpoint"
    model: Any = CLIPModel.from_pretrained(ckpt).eval()
    encoder = ClipOnnxEncoder.from_dir(tiny_hf)
    assert (encoder.dim, encoder.layout, encoder.is_pretrained) == (16, "transformers.js", False)
    pixels = encoder.recipe.batch(pictures)
    with torch.no_grad():
        ref = model.get_image_features(pixel_values=torch.from_numpy(pixels)).pooler_output
    assert _cos(encoder.embed_images(pictures), ref.numpy()).min() > 0.9999
    texts = ["a photo of a cat", "a sad rainy street in autumn", ""]
    tokens = AutoTokenizer.from_pretrained(ckpt)(texts, padding=True, return_tensors="pt")
    assert encoder.tokenize(texts)[0].tolist() == tokens["input_ids"].tolist()
    with torch.no_grad():
        ref_t = model.get_text_features(**tokens).pooler_output
    assert _cos(encoder.embed_texts(texts), ref_t.numpy()).min() > 0.9999


@pytorch_only
def test_precisions_are_different_models(tiny_hf: Path, pictures: list[LoadedImage]) -> None:
    fp32 = ClipOnnxEncoder.from_dir(tiny_hf, variant="fp32")
    int8 = ClipOnnxEncoder.from_dir(tiny_hf, variant="int8")
    assert int8.spec.image_file.name == "vision_model_quantized.onnx"
    assert fp32.model_id != int8.model_id and int8.name.endswith("-int8")
    assert _cos(fp32.embed_images(pictures), int8.embed_images(pictures)).min() > 0.9
    with pytest.raises(ModelUnavailable) as info:
        ClipOnnxEncoder.from_dir(tiny_hf, variant="fp16")
    assert info.value.code == "model_missing" and "vision_model_fp16" in info.value.message


@pytorch_only
def test_a_text_graph_without_a_mask_gets_the_full_context(
    tiny_hf: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """MobileCLIP-style: ``input_ids`` only, fixed 77 tokens, ``_int8`` file names."""
    plain = tiny_hf_layout(
        tmp_path_factory.getbasetemp() / "tiny-hf", int8_suffix="_int8", text_mask=False
    )
    encoder = ClipOnnxEncoder.from_dir(plain, variant="int8")
    assert encoder.spec.text_file.name == "text_model_int8.onnx"
    texts = ["a calm lake", "neon city lights at night"]
    ids, _ = encoder.tokenize(texts)
    assert ids.shape == (2, 77) and encoder._text_graph is not None
    assert encoder._text_graph.mask is None and encoder._text_graph.length == 77
    masked = ClipOnnxEncoder.from_dir(tiny_hf)
    unmasked = ClipOnnxEncoder.from_dir(plain)
    assert _cos(unmasked.embed_texts(texts), masked.embed_texts(texts)).min() > 0.9999


@pytorch_only
def test_preprocessing_that_does_not_fit_the_graph_is_refused(
    tiny_hf: Path, tmp_path: Path
) -> None:
    copy = Path(shutil.copytree(tiny_hf, tmp_path / "copy"))
    config = json.loads((copy / "preprocessor_config.json").read_text())
    config |= {"size": {"shortest_edge": 256}, "crop_size": {"height": 256, "width": 256}}
    (copy / "preprocessor_config.json").write_text(json.dumps(config))
    with pytest.raises(ModelUnavailable) as info:
        ClipOnnxEncoder.from_dir(copy)
    assert "takes 224×224 pictures" in info.value.message and "256" in info.value.message
