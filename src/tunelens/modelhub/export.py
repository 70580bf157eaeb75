"""Export a transformers CLIP checkpoint to the ONNX bundle tunelens runs without PyTorch.

One export directory holds::

    tunelens-model.json   the manifest (:class:`ExportManifest`): sizes, preprocessing, hashes
    image.onnx            pixel_values float32 [N, 3, S, S]             -> image_embeds [N, D]
    text.onnx             input_ids, attention_mask int64 [N, L]         -> text_embeds  [N, D]
    image.int8.onnx       dynamic int8 (weights int8, activations quantised at run time)
    text.int8.onnx
    tokenizer.json        CLIP's BPE tokenizer for the ``tokenizers`` library

The graphs output the *projected but unnormalised* embeddings (what
``CLIPModel.get_image_features`` / ``get_text_features`` give); :mod:`tunelens.vision.onnx_clip`
L2-normalises them in numpy. Keeping the norm outside the graph keeps the files usable by
anything that expects a plain CLIP export. Batch is dynamic in both graphs and the sequence
length is dynamic in the text graph (up to ``context_length``), so short prompts can be padded
only to the longest text of their batch.

Only this module imports torch/transformers for export; both are optional extras
(``tunelens[torch]``) and are imported inside the functions that use them.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunelens.core.errors import ModelUnavailable
from tunelens.modelhub.derive import quantize_matmul_int8
from tunelens.modelhub.download import fetch_checkpoint
from tunelens.vision.layout import (
    FILE_NAMES,
    IMAGE_INPUT,
    IMAGE_OUTPUT,
    MANIFEST_NAME,
    TEXT_INPUTS,
    TEXT_OUTPUT,
    TOKENIZER_NAME,
    ExportManifest,
    FileEntry,
    compute_model_id,
    file_entry,
    preprocessing,
    require_torch,
)
from tunelens.vision.torch_clip import clip_towers

log = logging.getLogger(__name__)


def local_checkpoint(checkpoint: str | Path) -> Path:
    path = Path(checkpoint).expanduser()
    if path.is_dir():
        return path
    text = str(checkpoint)
    if path.exists() or text.count("/") != 1 or text.startswith((".", "/", "~")):
        raise ModelUnavailable(
            f"Checkpoint {checkpoint} is neither a local directory nor a hub id (owner/name).",
            code="model_missing",
            details={"path": text},
        )
    return fetch_checkpoint(text)


@dataclass(frozen=True)
class _Checkpoint:
    """A transformers CLIP checkpoint loaded for export, with the sizes the graphs need."""

    directory: Path
    model: Any
    #: transformers' fast tokenizer (its ``tokenizers`` backend is what gets saved)
    tokenizer: Any
    image_size: int
    context_length: int
    dim: int
    #: the preprocessor's per-channel mean and std (CLIP's when it has none)
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


@dataclass(frozen=True)
class _SpecialTokens:
    pad: int
    bos: int
    eos: int


@dataclass(frozen=True)
class _Provenance:
    """What the manifest records about where the model came from and how it was exported."""

    name: str
    source: str
    pretrained: bool
    opset: int


# many parameters on purpose: a flat keyword API with one keyword per `tunelens models export`
# option, plus the name and opset the benchmarks and tests set
def export_clip(  # noqa: PLR0913 - see above
    checkpoint: str | Path,
    out_dir: Path,
    *,
    int8: bool = True,
    opset: int = 17,
    pretrained: bool = True,
    name: str | None = None,
) -> ExportManifest:
    """Export a transformers ``CLIPModel`` checkpoint (local dir or hub id) to ``out_dir``.

    ``pretrained`` is recorded in the manifest: pass False for randomly initialised models so
    every consumer can warn that their readings mean nothing. Returns the manifest written.
    """
    require_torch()
    ckpt_dir = local_checkpoint(checkpoint)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # a stale manifest must never describe half-written new files
    (out_dir / MANIFEST_NAME).unlink(missing_ok=True)

    ckpt = _load_checkpoint(ckpt_dir)
    tokens = _save_tokenizer(ckpt, out_dir / TOKENIZER_NAME)
    image_tower, text_tower = clip_towers(ckpt.model)
    image_path, text_path = out_dir / FILE_NAMES["image"], out_dir / FILE_NAMES["text"]
    _export_image_tower(image_tower, ckpt, image_path, opset)
    _export_text_tower(text_tower, ckpt, text_path, opset)
    files = {
        "image": file_entry(image_path),
        "text": file_entry(text_path),
        "tokenizer": file_entry(out_dir / TOKENIZER_NAME),
    }
    files |= _int8_files(out_dir, int8=int8)
    provenance = _Provenance(
        name=name or _model_name(checkpoint),
        source=str(checkpoint),
        pretrained=pretrained,
        opset=opset,
    )
    model_id = compute_model_id(image_path, text_path)
    manifest = _manifest(ckpt, tokens, files, provenance, model_id)
    manifest.write(out_dir)
    return manifest


def _load_checkpoint(ckpt_dir: Path) -> _Checkpoint:
    """The model (eager attention) and tokenizer; ``ModelUnavailable`` when either is unusable."""
    from transformers import AutoTokenizer, CLIPModel  # noqa: PLC0415 - optional torch extra

    try:
        # eager attention traces to plain MatMul/Softmax, which ONNX Runtime fuses itself
        model: Any = CLIPModel.from_pretrained(ckpt_dir, attn_implementation="eager")
        model.eval()
        hf_tokenizer: Any = AutoTokenizer.from_pretrained(ckpt_dir)
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(
            f"Cannot load a CLIP model and tokenizer from {ckpt_dir}: {exc}",
            code="model_missing",
            details={"path": str(ckpt_dir)},
        ) from None
    if getattr(hf_tokenizer, "backend_tokenizer", None) is None:
        raise ModelUnavailable(
            f"The tokenizer in {ckpt_dir} has no fast (tokenizers) backend to save.",
            code="model_corrupt",
            details={"path": str(ckpt_dir)},
        )
    config = model.config
    mean, std = preprocessing(ckpt_dir)
    return _Checkpoint(
        directory=ckpt_dir,
        model=model,
        tokenizer=hf_tokenizer,
        image_size=int(config.vision_config.image_size),
        context_length=int(config.text_config.max_position_embeddings),
        dim=int(config.projection_dim),
        mean=mean,
        std=std,
    )


def _save_tokenizer(ckpt: _Checkpoint, path: Path) -> _SpecialTokens:
    """Write ``tokenizer.json`` without the padding/truncation state transformers leaves on the
    backend, and return the special token ids (pad falls back to the end token)."""
    # the tokenizers library takes ~50 ms to import, and the CLI imports this module at start
    from tokenizers import Tokenizer  # noqa: PLC0415 - see above

    tokenizer = Tokenizer.from_str(ckpt.tokenizer.backend_tokenizer.to_str())
    tokenizer.no_padding()
    tokenizer.no_truncation()
    tokenizer.save(str(path))
    pad_id = ckpt.tokenizer.pad_token_id
    bos_id = ckpt.tokenizer.bos_token_id
    eos_id = ckpt.tokenizer.eos_token_id
    if eos_id is None or bos_id is None:
        raise ModelUnavailable(
            f"The tokenizer in {ckpt.directory} has no bos/eos token.", code="model_corrupt"
        )
    return _SpecialTokens(
        pad=int(eos_id if pad_id is None else pad_id), bos=int(bos_id), eos=int(eos_id)
    )


def _export_image_tower(tower: Any, ckpt: _Checkpoint, path: Path, opset: int) -> None:
    """pixel_values float32 [N, 3, S, S] -> image_embeds [N, D], batch dynamic."""
    import torch  # noqa: PLC0415 - optional torch extra

    sample_pixels = torch.zeros(2, 3, ckpt.image_size, ckpt.image_size, dtype=torch.float32)
    with warnings.catch_warnings(), torch.no_grad():
        # the TorchScript exporter is deprecated and chatty about constant-folded checks
        # (image size): it holds by construction here.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            tower,
            (sample_pixels,),
            str(path),
            input_names=[IMAGE_INPUT],
            output_names=[IMAGE_OUTPUT],
            dynamic_axes={IMAGE_INPUT: {0: "batch"}, IMAGE_OUTPUT: {0: "batch"}},
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )


def _export_text_tower(tower: Any, ckpt: _Checkpoint, path: Path, opset: int) -> None:
    """input_ids, attention_mask int64 [N, L] -> text_embeds [N, D], batch and length dynamic."""
    import torch  # noqa: PLC0415 - optional torch extra

    sample = ckpt.tokenizer(
        ["a photo", "a photo of a cat"],
        padding="max_length",
        truncation=True,
        max_length=ckpt.context_length,
        return_tensors="pt",
    )
    with warnings.catch_warnings(), torch.no_grad():
        # as above; here the check is seq_length > max positions, which holds by construction
        warnings.simplefilter("ignore")
        torch.onnx.export(
            tower,
            (sample["input_ids"].to(torch.int64), sample["attention_mask"].to(torch.int64)),
            str(path),
            input_names=list(TEXT_INPUTS),
            output_names=[TEXT_OUTPUT],
            dynamic_axes={
                TEXT_INPUTS[0]: {0: "batch", 1: "sequence"},
                TEXT_INPUTS[1]: {0: "batch", 1: "sequence"},
                TEXT_OUTPUT: {0: "batch"},
            },
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )


def _int8_files(out_dir: Path, *, int8: bool) -> dict[str, FileEntry]:
    """The int8 graphs' manifest entries after quantising both towers; without ``int8``, none,
    and any int8 files of an earlier export are removed so no stale graph is left behind."""
    files: dict[str, FileEntry] = {}
    if int8:
        for key in ("image", "text"):
            target = out_dir / FILE_NAMES[f"{key}.int8"]
            quantize_int8(out_dir / FILE_NAMES[key], target)
            files[f"{key}.int8"] = file_entry(target)
    else:
        for key in ("image.int8", "text.int8"):
            (out_dir / FILE_NAMES[key]).unlink(missing_ok=True)
    return files


def _manifest(
    ckpt: _Checkpoint,
    tokens: _SpecialTokens,
    files: dict[str, FileEntry],
    provenance: _Provenance,
    model_id: str,
) -> ExportManifest:
    """The manifest of a finished export, with the versions of the tools that made it."""
    # ONNX Runtime takes ~0.13 s to import, and the CLI imports this module at start
    import onnxruntime  # noqa: PLC0415 - see above
    import torch  # noqa: PLC0415 - optional torch extra
    import transformers  # noqa: PLC0415 - optional torch extra

    return ExportManifest(
        name=provenance.name,
        source=provenance.source,
        pretrained=provenance.pretrained,
        dim=ckpt.dim,
        image_size=ckpt.image_size,
        mean=ckpt.mean,
        std=ckpt.std,
        context_length=ckpt.context_length,
        logit_scale=float(ckpt.model.logit_scale.detach().exp().item()),
        pad_id=tokens.pad,
        bos_id=tokens.bos,
        eos_id=tokens.eos,
        files=files,
        model_id=model_id,
        opset=provenance.opset,
        normalised=False,
        created_with={
            "torch": str(torch.__version__),
            "transformers": str(transformers.__version__),
            "onnxruntime": str(onnxruntime.__version__),
        },
    )


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of an exported graph (int8 weights, one scale per tensor;
    activations quantised per call): the recipe shared with the pull's int8-local graphs."""
    quantize_matmul_int8(source, target, per_channel=False)


def _model_name(checkpoint: str | Path) -> str:
    text = str(checkpoint).rstrip("/" + os.sep)
    return Path(text).name or text
