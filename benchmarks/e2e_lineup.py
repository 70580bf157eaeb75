"""Which models and files the end-to-end benchmark runs, and each image graph on its own.

Every contender is a model folder plus a precision, opened by tunelens's own loader exactly as
``TUNELENS_MODEL_DIR`` + ``TUNELENS_MODEL_PRECISION`` would open it, so the whole request
(decode → reading → songs) is the product's path. The folders are random-weight models with the
registry's file layout (:mod:`benchmarks.mobileclip`):

* ``clip-vit-base-patch32`` fp32, int8 (the hub's ``_quantized`` file: the issue's batch
  reference) and int8-local (the fp32 graph quantised by :mod:`tunelens.modelhub.derive`'s
  recipe, exactly as a pull makes ``onnx/vision_model_int8_local.onnx``: the default),
* ``vit-b32-export`` int8: the same random ViT-B/32 through ``tunelens models export``'s own
  int8 (MatMul/Gemm weights only, per tensor), the reference of the earlier runs,
* ``mobileclip-s0`` / ``-s1`` / ``-s2`` / ``-b`` fp32, and B (a ViT-B/16) also at int8 (the
  hub's ``_int8`` file) and int8-local.

The convolutional S0–S2's 8-bit files (``_int8``: int8-weight ``ConvInteger``; ``_quantized``:
uint8 weights) are timed only on their own (:func:`encoder_alone`): every earlier run measured
them slower than fp32 (whole request 0.6–1.5× the naive pipeline; ``benchmarks/results/
full-first.json``), and whole-request runs of them took most of the benchmark's time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.mobileclip import (
    BUILD_FILE,
    MOBILECLIP,
    ensure_mobileclip,
    ensure_vit_b32_hub,
)
from tunelens.modelhub.derive import RECIPES
from tunelens.modelhub.registry import LOCAL_INT8_RECIPE, LOCAL_INT8_VISION
from tunelens.vision.onnx_clip import session_options

Progress = Callable[[str], None]
#: the contender the issue's throughput target is measured against
REFERENCE_INT8 = "clip-vit-base-patch32 int8"
#: the registry's default model and precision
LOCAL_INT8 = "clip-vit-base-patch32 int8-local"


@dataclass(frozen=True)
class Contender:
    """One model folder at one precision, as the benchmark loads and reports it."""

    key: str
    #: the registry's name for the model
    model: str
    precision: str
    #: the image graph this precision runs, relative to the folder
    vision_file: str
    folder: Path
    #: measured in fresh processes too (cold start, peak memory)
    cold: bool = False

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["folder"] = str(self.folder)
        return data


def build_facts(folder: Path) -> dict[str, Any]:
    """What the builder recorded: image size, parameters, multiply-adds, file sizes."""
    path = folder / BUILD_FILE
    if not path.is_file():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def lineup(work_dir: Path, vit: tuple[Path, Path], progress: Progress) -> list[Contender]:
    """Build (or find) every folder and name the contenders, ViT-B/32 first."""
    checkpoint, export_dir = vit
    hub_vit = ensure_vit_b32_hub(work_dir, checkpoint, export_dir)
    contenders = [
        Contender(
            "clip-vit-base-patch32 fp32",
            "clip-vit-base-patch32",
            "fp32",
            "onnx/vision_model.onnx",
            hub_vit,
            cold=True,
        ),
        Contender(
            REFERENCE_INT8,
            "clip-vit-base-patch32",
            "int8",
            "onnx/vision_model_quantized.onnx",
            hub_vit,
            cold=True,
        ),
        Contender(
            LOCAL_INT8,
            "clip-vit-base-patch32",
            "int8-local",
            ensure_local_int8(hub_vit, progress),
            hub_vit,
            cold=True,
        ),
        Contender("vit-b32-export int8", "vit-b32-export", "int8", "image.int8.onnx", export_dir),
    ]
    tokenizer = export_dir / "tokenizer.json"
    for model in MOBILECLIP.values():
        folder = ensure_mobileclip(work_dir, model, tokenizer, progress)
        contenders.append(
            Contender(
                f"{model.name} fp32",
                model.name,
                "fp32",
                "onnx/vision_model.onnx",
                folder,
                cold=True,
            )
        )
        if model.int8_file != "_int8":  # convolutional: its 8-bit files are timed alone only
            continue
        contenders.append(
            Contender(
                f"{model.name} int8", model.name, "int8", "onnx/vision_model_int8.onnx", folder
            )
        )
        local = ensure_local_int8(folder, progress)
        contenders.append(
            Contender(f"{model.name} int8-local", model.name, "int8-local", local, folder)
        )
    return contenders


def ensure_local_int8(folder: Path, progress: Progress) -> str:
    """``onnx/vision_model_int8_local.onnx`` made from the folder's fp32 image graph by the
    registry's recipe (the function a pull runs), once; returns its relative path."""
    target = folder / LOCAL_INT8_VISION
    if not target.is_file():
        progress(f"quantising {folder.name}'s image graph ({LOCAL_INT8_RECIPE})")
        partial = target.with_name(target.name + ".partial")
        RECIPES[LOCAL_INT8_RECIPE](folder / "onnx" / "vision_model.onnx", partial)
        partial.replace(target)
    return LOCAL_INT8_VISION


def vision_graphs(contenders: list[Contender]) -> dict[str, tuple[Path, int]]:
    """Every image graph in the contenders' folders (the ``_int8`` files too), with the side
    it takes: ``{"<model> <file name>": (path, side)}``."""
    graphs: dict[str, tuple[Path, int]] = {}
    for contender in contenders:
        side = int(build_facts(contender.folder).get("image_size", 224))
        folder = contender.folder
        files = sorted((folder / "onnx").glob("vision_model*.onnx"))
        if not files:
            files = [folder / contender.vision_file]
        for path in files:
            graphs.setdefault(f"{contender.model} {path.name}", (path, side))
    return graphs


def encoder_alone(
    path: Path, side: int, *, batch: int = 16, budget_s: float = 8.0
) -> dict[str, Any]:
    """The image graph alone in ONNX Runtime with tunelens's session options: median ms at
    batch 1 and per picture at ``batch``, on random pixels. Runs stop early once ``budget_s``
    is spent, so a pathologically slow graph costs seconds, not minutes."""
    import onnxruntime as ort

    session = ort.InferenceSession(
        str(path), sess_options=session_options(), providers=["CPUExecutionProvider"]
    )
    name = session.get_inputs()[0].name
    rng = np.random.default_rng(0)
    out: dict[str, Any] = {"mb": round(path.stat().st_size / 1e6, 1)}
    for size, runs, key in ((1, 7, "batch1_ms"), (batch, 3, f"batch{batch}_ms_per_image")):
        pixels = rng.random((size, 3, side, side), dtype=np.float32)
        session.run(None, {name: pixels})
        times: list[float] = []
        started = time.perf_counter()
        while len(times) < runs and (not times or time.perf_counter() - started < budget_s):
            t = time.perf_counter()
            session.run(None, {name: pixels})
            times.append((time.perf_counter() - t) * 1000 / size)
        out[key] = round(float(np.median(times)), 1)
        out[f"{key}_runs"] = len(times)
    return out
