"""The transformers.js model-folder layout, as public hub repositories publish CLIP models.

``Xenova/clip-vit-base-patch32`` and ``Xenova/mobileclip_s1`` / ``_s2`` / ``_b`` hold::

    onnx/vision_model.onnx            pixel_values [N, 3, S, S]   -> image_embeds [N, D]
    onnx/vision_model_quantized.onnx  int8 variants (``_int8`` in the MobileCLIP repos too)
    onnx/vision_model_fp16.onnx       half precision
    onnx/vision_model_int8_local.onnx made by tunelens from vision_model.onnx (``int8-local``,
                                      :mod:`tunelens.modelhub.derive`), not on the hub
    onnx/text_model*.onnx             input_ids (+ attention_mask) -> text_embeds [N, D]
    tokenizer.json                    CLIP's BPE tokenizer for the ``tokenizers`` library
    preprocessor_config.json          resize, crop, mean/std, resample
    config.json                       ``model_type`` (and, for tunelens's random test
                                      models, ``"tunelens_random_weights": true``)

This module reads such a folder without running anything: which graph file serves a tower at
a precision, how pictures are prepared (from ``preprocessor_config.json``), and the model's
name. Tensor names are not read here: :mod:`tunelens.vision.graphs` reads them from the graphs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunelens.core.errors import ModelUnavailable
from tunelens.vision.base import PixelRecipe
from tunelens.vision.imaging import CLIP_MEAN, CLIP_STD

ONNX_DIR = "onnx"
TOKENIZER_FILE = "tokenizer.json"
PREPROCESSOR_FILE = "preprocessor_config.json"
CONFIG_FILE = "config.json"
ROOT_FILES = (TOKENIZER_FILE, PREPROCESSOR_FILE, CONFIG_FILE)
TOWER_STEMS = {"image": "vision_model", "text": "text_model"}
#: file-name suffixes of each precision, tried in this order
PRECISION_SUFFIXES: dict[str, tuple[str, ...]] = {
    "fp32": ("",),
    "int8": ("_int8", "_quantized", "_uint8"),
    "fp16": ("_fp16",),
    # the image graph tunelens quantised locally (tunelens.modelhub.derive); the text tower,
    # which a request never runs, stays the hub's 8-bit one
    "int8-local": ("_int8_local",),
}
#: a tower without a file of its own at a precision uses this precision's files instead
TOWER_FALLBACK = {("text", "int8-local"): "int8"}
#: Pillow's resample codes, as transformers' image processors write them
RESAMPLE_NAMES = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}
#: OpenAI's CLIP and MobileCLIP both train their temperature up to the clamp at 100
DEFAULT_LOGIT_SCALE = 100.0
RANDOM_WEIGHTS_KEY = "tunelens_random_weights"


@dataclass(frozen=True)
class FolderConfig:
    """What ``config.json`` says that tunelens uses."""

    name: str
    pretrained: bool
    #: the text tower's positions, when the config says (else the graph or 77)
    context_length: int | None


def is_hf_layout(folder: Path) -> bool:
    """True when ``folder`` has an ``onnx/`` directory (the transformers.js layout)."""
    return (folder / ONNX_DIR).is_dir()


def graph_files(folder: Path) -> list[str]:
    """The ``onnx/*.onnx`` files present, relative to ``folder`` (for messages)."""
    directory = folder / ONNX_DIR
    if not directory.is_dir():
        return []
    return sorted(f"{ONNX_DIR}/{p.name}" for p in directory.glob("*.onnx"))


def tower_file(folder: Path, tower: str, precision: str) -> str:
    """The folder-relative graph file of ``tower`` ("image"/"text") at ``precision``."""
    if precision not in PRECISION_SUFFIXES:
        raise ModelUnavailable(
            f"Unknown precision {precision!r}; use one of {', '.join(PRECISION_SUFFIXES)}.",
            code="model_missing",
        )
    stem = TOWER_STEMS[tower]
    suffixes = PRECISION_SUFFIXES[precision]
    fallback = TOWER_FALLBACK.get((tower, precision))
    if fallback is not None:
        suffixes += PRECISION_SUFFIXES[fallback]
    for suffix in suffixes:
        rel = f"{ONNX_DIR}/{stem}{suffix}.onnx"
        if (folder / rel).is_file():
            return rel
    tried = ", ".join(f"{ONNX_DIR}/{stem}{s}.onnx" for s in suffixes)
    found = ", ".join(graph_files(folder)) or "no .onnx files"
    combined = " (onnx/model*.onnx holds both towers in one graph, which tunelens does not run)"
    raise ModelUnavailable(
        f"The model folder {folder} has no {precision} {tower} graph: looked for {tried}; "
        f"found {found}"
        + (combined if any(f.startswith(f"{ONNX_DIR}/model") for f in graph_files(folder)) else "")
        + ". Pull that precision (`tunelens models pull --precision …`) or choose another.",
        code="model_missing",
        details={"path": str(folder), "precision": precision, "found": graph_files(folder)},
    )


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise ModelUnavailable(
            f"{path} is not a readable JSON object; pull the model again.",
            code="model_corrupt",
            details={"path": str(path)},
        )
    return data


def read_config(folder: Path, name: str | None = None) -> FolderConfig:
    """``config.json``'s name, random-weights marker and text positions (all optional)."""
    data = _read_json(folder / CONFIG_FILE) or {}
    text = data.get("text_config")
    positions = text.get("max_position_embeddings") if isinstance(text, dict) else None
    label = name or str(data.get("_name_or_path") or "") or folder.name
    return FolderConfig(
        name=label.rsplit("/", 1)[-1],
        pretrained=not bool(data.get(RANDOM_WEIGHTS_KEY, False)),
        context_length=int(positions) if isinstance(positions, int) and positions > 2 else None,
    )


def _side(value: Any, what: str, path: Path) -> int:
    """An image-processor size: an int, ``{"shortest_edge": n}`` or a square height/width."""
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, dict):
        if isinstance(value.get("shortest_edge"), int):
            return int(value["shortest_edge"])
        height, width = value.get("height"), value.get("width")
        if isinstance(height, int) and height == width and height > 0:
            return height
    raise ModelUnavailable(
        f"{path} sets {what} to {value!r}; tunelens prepares square crops and needs an integer, "
        "a shortest_edge or equal height and width.",
        code="model_corrupt",
        details={"path": str(path)},
    )


def _triple(value: Any, default: tuple[float, float, float]) -> tuple[float, float, float]:
    if value is None:
        return default
    values = [float(v) for v in value]
    if len(values) != 3:
        raise ValueError("need 3 values")
    return (values[0], values[1], values[2])


def pixel_recipe(folder: Path) -> PixelRecipe:
    """How the model's own preprocessor prepares a picture (CLIP's defaults without one)."""
    path = folder / PREPROCESSOR_FILE
    data = _read_json(path)
    if data is None:
        return PixelRecipe(224, CLIP_MEAN, CLIP_STD, 224, "bicubic")
    resize = _side(data.get("size", 224), "size", path)
    crop = _side(data.get("crop_size", resize), "crop_size", path)
    if not data.get("do_center_crop", True):
        crop = resize
    rescale = float(data.get("rescale_factor", 1 / 255))
    problems = []
    if not data.get("do_rescale", True) or abs(rescale * 255 - 1) > 1e-6:
        problems.append("pixels must be rescaled by 1/255")
    if crop > resize:
        problems.append(f"crop_size {crop} is larger than size {resize}")
    resample = RESAMPLE_NAMES.get(int(data.get("resample", 3)))
    if resample is None:
        problems.append(f"unknown resample {data.get('resample')!r}")
    try:
        if data.get("do_normalize", True):
            mean = _triple(data.get("image_mean"), CLIP_MEAN)
            std = _triple(data.get("image_std"), CLIP_STD)
        else:
            mean, std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    except (TypeError, ValueError):
        problems.append("image_mean and image_std need 3 numbers each")
        mean, std = CLIP_MEAN, CLIP_STD
    if min(std) <= 0:
        problems.append("image_std must be positive")
    if problems or resample is None:
        raise ModelUnavailable(
            f"{path} asks for preprocessing tunelens cannot do: {'; '.join(problems)}.",
            code="model_corrupt",
            details={"path": str(path)},
        )
    return PixelRecipe(crop, mean, std, resize, resample)
