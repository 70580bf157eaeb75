"""Child process: build one full-size MobileCLIP with random weights and export its two towers.

Run by :mod:`benchmarks.mobileclip` with ``benchmarks/.work/site`` (open_clip, timm,
torchvision; see ``requirements-mobileclip.txt``) first on ``PYTHONPATH``::

    python -m benchmarks.mobileclip_export --model MobileCLIP-S1 --out DIR

It writes what a transformers.js repository such as ``Xenova/mobileclip_s1`` holds for fp32 —
``onnx/vision_model.onnx`` (``pixel_values`` float32 [N, 3, S, S] → ``image_embeds`` [N, 512])
and ``onnx/text_model.onnx`` (``input_ids`` int64 [N, 77] → ``text_embeds`` [N, 512]) — and
prints one JSON line of facts (image size, parameter counts, multiply-adds per picture).

The towers are built with ``pretrained=None`` (open_clip draws them from a seeded generator)
and re-parameterised the way Apple's model cards say to before inference or export (MobileOne
and RepMixer branches folded into single convolutions): same architecture, parameters and cost
as the published models, meaningless outputs. Nothing measured with them says anything about
quality.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

OPSET = 17
CONTEXT_LENGTH = 77
#: the ops torchvision's Python half registers fake kernels for without checking that its
#: compiled half loaded (torchvision 0.28, ``_meta_registrations.py``)
_UNCHECKED_TORCHVISION_OPS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_KEEP: list[Any] = []


def import_torchvision() -> Any:
    """Import torchvision even when its compiled operators cannot load.

    PyPI's torchvision 0.28 is a CUDA build; beside the CPU build of torch 2.13 its ``_C``
    library does not load, torchvision carries on without its C++ ops (it checks), except for
    two fake-kernel registrations that then fail with "operator torchvision::nms does not
    exist". open_clip and timm import torchvision only for transforms and a batch-norm class,
    never those ops, so declaring the two schemas (no kernels) lets the pure-Python half import.
    """
    import torch

    try:
        import torchvision
    except RuntimeError as exc:
        if "torchvision::" not in str(exc):
            raise
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        library = torch.library.Library("torchvision", "DEF")
        for schema in _UNCHECKED_TORCHVISION_OPS:
            library.define(schema)
        _KEEP.append(library)  # the schemas live as long as the library object
        import torchvision
    return torchvision


def build(model_name: str, seed: int) -> Any:
    """The seeded random open_clip model, re-parameterised for inference."""
    import torch

    import_torchvision()
    import open_clip
    from timm.utils.model import reparameterize_model

    torch.manual_seed(seed)
    model = open_clip.create_model(model_name, pretrained=None)
    return reparameterize_model(model.eval())


def image_side(model: Any) -> int:
    side = model.visual.image_size
    return int(side[0] if isinstance(side, tuple | list) else side)


def tower(model: Any, method: str) -> Any:
    """``model.<method>`` (``encode_image`` / ``encode_text``) as a module of its own: the
    projected, unnormalised embedding, as the hub's graphs give it."""
    import torch

    class Tower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, inputs: Any) -> Any:
            return getattr(self.model, method)(inputs)

    return Tower().eval()


def export(model: Any, out_dir: Path) -> None:
    """Both towers to ``out_dir/onnx``; batch dynamic, the text sequence fixed at 77 tokens
    (open_clip pads every prompt to its context length)."""
    import torch

    onnx_dir = out_dir / "onnx"
    onnx_dir.mkdir(parents=True, exist_ok=True)
    side = image_side(model)
    # the fused fast path of nn.MultiheadAttention has no ONNX export
    torch.backends.mha.set_fastpath_enabled(False)
    jobs = [
        (
            tower(model, "encode_image"),
            torch.zeros(2, 3, side, side),
            "vision_model.onnx",
            "pixel_values",
            "image_embeds",
        ),
        (
            tower(model, "encode_text"),
            torch.ones(2, CONTEXT_LENGTH, dtype=torch.int64),
            "text_model.onnx",
            "input_ids",
            "text_embeds",
        ),
    ]
    for module, sample, file_name, input_name, output_name in jobs:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notes
            torch.onnx.export(
                module,
                (sample,),
                str(onnx_dir / file_name),
                input_names=[input_name],
                output_names=[output_name],
                dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}},
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )


def facts(model: Any) -> dict[str, Any]:
    """Image size, parameter counts and the image tower's multiply-adds per picture."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    side = image_side(model)
    visual = sum(p.numel() for p in model.visual.parameters())
    total = sum(p.numel() for p in model.parameters())
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.encode_image(torch.zeros(1, 3, side, side))
    return {
        "image_size": side,
        "image_params_m": round(visual / 1e6, 1),
        "text_params_m": round((total - visual) / 1e6, 1),
        "image_gmacs": round(counter.get_total_flops() / 2e9, 2),
        "torch": str(torch.__version__),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mobileclip_export")
    parser.add_argument("--model", required=True, help="open_clip model name, e.g. MobileCLIP-S1")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    model = build(args.model, args.seed)
    export(model, args.out)
    print(json.dumps({"model": args.model, "seed": args.seed, **facts(model)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
