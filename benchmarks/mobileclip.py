"""Random-weight models in the transformers.js layout, for the speed benchmark.

The registry's models are published as transformers.js repositories (``Xenova/mobileclip_s1``,
``_s2``, ``_b``, ``Xenova/clip-vit-base-patch32``): ``onnx/vision_model{,_int8,_quantized}.onnx``,
``onnx/text_model{…}.onnx``, and ``tokenizer.json``, ``preprocessor_config.json`` and
``config.json`` at the root. Their weights cannot be downloaded here, so this module builds
folders with the same files, architectures and sizes and *random* weights:

* **MobileCLIP S0 / S1 / S2 / B** — open_clip + timm (``pretrained=None``) in a child process
  (:mod:`benchmarks.mobileclip_export`) whose packages live in ``<work>/site``, installed by pip
  from ``requirements-mobileclip.txt`` on first use (why not in the venv: see that file).
* **ViT-B/32** — the benchmark's existing random export (:mod:`benchmarks.model`), linked into
  the same layout, so it also gets the hub's ``_quantized`` file.

The 8-bit files follow transformers.js's quantisation recipe (``scripts/quantize.py``): dynamic
quantisation of every op type ONNX Runtime can run on integers (Conv, MatMul, Gather, …),
uint8 activations, per-tensor weights; ``_int8`` has int8 weights, ``_quantized`` ("q8") has
uint8 weights whenever the graph has a convolution (both vision towers do: MobileCLIP is mostly
convolutions, ViT-B/32 has its patch embedding) and int8 weights otherwise.

``config.json`` carries ``"tunelens_random_weights": true`` so tunelens's loader says the
readings are meaningless. Nothing measured with these models says anything about quality.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunelens.modelhub.derive import quiet_quantiser

Progress = Callable[[str], None]

REQUIREMENTS = Path(__file__).with_name("requirements-mobileclip.txt")
BUILD_FILE = "benchmark-build.json"
RANDOM_KEY = "tunelens_random_weights"
#: transformers.js writes uint8 weights for graphs with these ops (onnxruntime-web has no
#: int8-weight ConvInteger)
_QUINT8_OPS = frozenset({"Conv", "MultiHeadAttention", "GroupQueryAttention"})


@dataclass(frozen=True)
class HubModel:
    """A registry model the benchmark rebuilds with random weights."""

    #: the registry's name for it
    name: str
    #: open_clip's model name (``open_clip.list_models()``)
    open_clip: str
    #: the public repository whose files the folder imitates
    repo: str
    #: the 8-bit image graph worth running on a CPU: ``_int8`` (int8 weights: ONNX Runtime's
    #: fast u8×s8 kernels for MatMul) for transformer towers, ``_quantized`` (uint8 weights) for
    #: convolutional ones, whose int8-weight ConvInteger has no fast kernel (measured: ≈ 7–10×
    #: slower than fp32 on AVX2 without VNNI)
    int8_file: str = "_quantized"
    #: how the rebuilt model differs from the published one, if it does
    caveat: str = ""


MOBILECLIP: dict[str, HubModel] = {
    m.name: m
    for m in (
        HubModel(
            "mobileclip-s0",
            "MobileCLIP2-S0",
            "Xenova/mobileclip_s0",
            caveat="image tower MCi0 as MobileCLIP-S0's (open_clip has no MobileCLIP-S0); its "
            "text tower is the 63.4M transformer, not S0's 42.4M MCt",
        ),
        HubModel("mobileclip-s1", "MobileCLIP-S1", "Xenova/mobileclip_s1"),
        HubModel("mobileclip-s2", "MobileCLIP-S2", "Xenova/mobileclip_s2"),
        HubModel("mobileclip-b", "MobileCLIP-B", "Xenova/mobileclip_b", int8_file="_int8"),
    )
}
VIT_B32 = HubModel("clip-vit-base-patch32", "ViT-B-32", "Xenova/clip-vit-base-patch32")


# --------------------------------------------------------------------------- the packages


def site_dir(work_dir: Path) -> Path:
    return work_dir / "site"


def ensure_site(work_dir: Path, progress: Progress) -> Path:
    """open_clip, timm and torchvision in ``<work>/site`` (pip, once per requirements file)."""
    site = site_dir(work_dir)
    marker = site / ".requirements"
    wanted = REQUIREMENTS.read_text(encoding="utf-8")
    if marker.is_file() and marker.read_text(encoding="utf-8") == wanted:
        return site
    progress(f"installing open_clip + timm into {site} (pip, {REQUIREMENTS.name})")
    shutil.rmtree(site, ignore_errors=True)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    command += ["--no-deps", "--target", str(site), "-r", str(REQUIREMENTS)]
    subprocess.run(command, check=True)
    marker.write_text(wanted, encoding="utf-8")
    return site


# --------------------------------------------------------------------------- MobileCLIP


def ensure_mobileclip(
    work_dir: Path, model: HubModel, tokenizer: Path, progress: Progress, *, seed: int = 0
) -> Path:
    """The random ``model`` in the transformers.js layout under ``work_dir``, built once."""
    folder = work_dir / f"{model.name}-random-{seed}"
    if (folder / BUILD_FILE).is_file():
        return folder
    site = ensure_site(work_dir, progress)
    progress(f"building {model.open_clip} (random weights) → {folder}")
    shutil.rmtree(folder, ignore_errors=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(site), str(Path.cwd()), env.get("PYTHONPATH", "")) if p
    )
    command = [sys.executable, "-m", "benchmarks.mobileclip_export"]
    command += ["--model", model.open_clip, "--out", str(folder), "--seed", str(seed)]
    done = subprocess.run(command, check=True, env=env, capture_output=True, text=True)
    built: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    write_root_files(folder, model, tokenizer, image_size=int(built["image_size"]), resample=2)
    for tower in ("vision_model", "text_model"):
        add_8bit_files(folder / "onnx" / f"{tower}.onnx")
    built.update(repo=model.repo, name=model.name, files=file_sizes(folder))
    if model.caveat:
        built["caveat"] = model.caveat
    (folder / BUILD_FILE).write_text(json.dumps(built, indent=2) + "\n", encoding="utf-8")
    return folder


def write_root_files(
    folder: Path, model: HubModel, tokenizer: Path, *, image_size: int, resample: int
) -> None:
    """``tokenizer.json``, and the two configs as the imitated repository writes them: resize
    the short side, centre crop, rescale to [0, 1]; MobileCLIP does not normalise."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tokenizer, folder / "tokenizer.json")
    processor = {
        "crop_size": {"height": image_size, "width": image_size},
        "do_center_crop": True,
        "do_convert_rgb": True,
        "do_normalize": False,
        "do_rescale": True,
        "do_resize": True,
        "feature_extractor_type": "CLIPFeatureExtractor",
        "image_processor_type": "CLIPFeatureExtractor",
        "resample": resample,
        "rescale_factor": 1 / 255,
        "size": {"shortest_edge": image_size},
    }
    config = {
        "_name_or_path": model.repo,
        "model_type": "clip",
        "projection_dim": 512,
        "text_config": {"max_position_embeddings": 77},
        RANDOM_KEY: True,
    }
    (folder / "preprocessor_config.json").write_text(json.dumps(processor, indent=2) + "\n")
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")


def file_sizes(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != BUILD_FILE
    }


# --------------------------------------------------------------------------- 8-bit files


def q8_weight_type(model_path: Path) -> str:
    """``"QUInt8"`` when the graph has an op that transformers.js quantises with uint8 weights
    (a convolution, …), else ``"QInt8"``: the rule behind its ``_quantized`` files."""
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    return "QUInt8" if {n.op_type for n in graph.node} & _QUINT8_OPS else "QInt8"


def quantize_like_hub(source: Path, target: Path, weight_type: str) -> None:
    """transformers.js's 8-bit recipe: every integer-capable op type, per-tensor weights of
    ``weight_type``, uint8 activations quantised per call."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.registry import IntegerOpsRegistry

    with quiet_quantiser():
        quantize_dynamic(
            source,
            target,
            op_types_to_quantize=sorted(IntegerOpsRegistry),
            per_channel=False,
            reduce_range=False,
            weight_type=QuantType[weight_type],
            extra_options={"EnableSubgraph": True, "MatMulConstBOnly": True},
        )


def add_8bit_files(fp32: Path, *, int8: bool = True) -> None:
    """``<stem>_quantized.onnx`` (the "q8" rule) beside an fp32 graph and, with ``int8``,
    ``<stem>_int8.onnx`` (int8 weights), as the MobileCLIP repositories have both (the
    ViT-B/32 one only ``_quantized``). When q8 means int8 weights the two are one file."""
    q8 = fp32.with_name(f"{fp32.stem}_quantized.onnx")
    quantize_like_hub(fp32, q8, q8_weight_type(fp32))
    if int8:
        target = fp32.with_name(f"{fp32.stem}_int8.onnx")
        if q8_weight_type(fp32) == "QInt8":
            os.link(q8, target)
        else:
            quantize_like_hub(fp32, target, "QInt8")


# --------------------------------------------------------------------------- ViT-B/32


def vit_b32_facts(checkpoint: Path) -> dict[str, Any]:
    """Image size, image-tower parameters (with its projection) and multiply-adds per picture
    of the random transformers checkpoint, counted as the MobileCLIP builder counts them."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from transformers import CLIPModel

    model: Any = CLIPModel.from_pretrained(checkpoint).eval()
    side = int(model.config.vision_config.image_size)
    towers = (model.vision_model, model.visual_projection)
    visual = sum(p.numel() for t in towers for p in t.parameters())
    total = sum(p.numel() for p in model.parameters())
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.get_image_features(pixel_values=torch.zeros(1, 3, side, side))
    return {
        "image_size": side,
        "image_params_m": round(visual / 1e6, 1),
        "text_params_m": round((total - visual) / 1e6, 1),
        "image_gmacs": round(counter.get_total_flops() / 2e9, 2),
    }


def ensure_vit_b32_hub(work_dir: Path, checkpoint: Path, onnx_dir: Path, *, seed: int = 0) -> Path:
    """The benchmark's random ViT-B/32 export (``image.onnx``/``text.onnx``, same tensor
    names as the hub's) in the transformers.js layout, with the hub's 8-bit files."""
    folder = work_dir / f"{VIT_B32.name}-random-{seed}"
    if (folder / BUILD_FILE).is_file():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "onnx").mkdir(parents=True)
    for source, stem in (("image.onnx", "vision_model"), ("text.onnx", "text_model")):
        os.link(onnx_dir / source, folder / "onnx" / f"{stem}.onnx")
        add_8bit_files(folder / "onnx" / f"{stem}.onnx", int8=False)
    shutil.copyfile(onnx_dir / "tokenizer.json", folder / "tokenizer.json")
    shutil.copyfile(checkpoint / "preprocessor_config.json", folder / "preprocessor_config.json")
    config = json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))
    config.update({"_name_or_path": VIT_B32.repo, RANDOM_KEY: True})
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    built = {"model": "ViT-B/32 (transformers CLIPConfig defaults)", "seed": seed}
    built.update(vit_b32_facts(checkpoint), repo=VIT_B32.repo, name=VIT_B32.name)
    built["files"] = file_sizes(folder)
    (folder / BUILD_FILE).write_text(json.dumps(built, indent=2) + "\n", encoding="utf-8")
    return folder
