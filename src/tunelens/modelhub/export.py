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
(``tunelens[torch]``) and are imported inside :func:`export_clip`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tunelens.core.atomic import write_atomic
from tunelens.core.errors import ModelUnavailable

log = logging.getLogger(__name__)

MANIFEST_NAME = "tunelens-model.json"
TOKENIZER_NAME = "tokenizer.json"
FORMAT_VERSION = 1
#: file keys in the manifest -> file names in the export directory
FILE_NAMES: dict[str, str] = {
    "image": "image.onnx",
    "text": "text.onnx",
    "image.int8": "image.int8.onnx",
    "text.int8": "text.int8.onnx",
    "tokenizer": TOKENIZER_NAME,
}
IMAGE_INPUT, IMAGE_OUTPUT = "pixel_values", "image_embeds"
TEXT_INPUTS, TEXT_OUTPUT = ("input_ids", "attention_mask"), "text_embeds"

CLIP_MEAN: tuple[float, float, float] = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD: tuple[float, float, float] = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class FileEntry:
    path: str
    sha256: str
    n_bytes: int


@dataclass(frozen=True)
class ExportManifest:
    """What ``tunelens-model.json`` holds; everything a runtime needs besides the files."""

    name: str
    source: str
    pretrained: bool
    dim: int
    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    context_length: int
    #: CLIP's temperature as the multiplier applied to cosines, i.e. ``exp(logit_scale)``
    logit_scale: float
    pad_id: int
    bos_id: int
    eos_id: int
    files: dict[str, FileEntry]
    #: sha256 over image.onnx bytes then text.onnx bytes (fp32), first 16 hex digits
    model_id: str
    opset: int
    #: whether the graphs' outputs are already L2-normalised (False: normalise outside)
    normalised: bool = False
    format_version: int = FORMAT_VERSION
    created_with: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["mean"] = list(self.mean)
        data["std"] = list(self.std)
        return data

    def write(self, out_dir: Path) -> Path:
        path = out_dir / MANIFEST_NAME
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
        write_atomic(path, text.encode(), durable=False)
        return path

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, where: Path | str = "manifest"
    ) -> ExportManifest:
        """Validate and build; any problem is a ``ModelUnavailable(code="model_corrupt")``."""
        try:
            version = int(data.get("format_version", 0))
            if version > FORMAT_VERSION:
                raise ValueError(
                    f"format_version {version} is newer than this tunelens reads "
                    f"({FORMAT_VERSION}); upgrade tunelens"
                )
            files = {
                str(key): FileEntry(
                    path=str(entry["path"]),
                    sha256=str(entry["sha256"]),
                    n_bytes=int(entry["n_bytes"]),
                )
                for key, entry in dict(data["files"]).items()
            }
            for key in ("image", "text", "tokenizer"):
                if key not in files:
                    raise ValueError(f"files has no {key!r} entry")
            for entry in files.values():
                if Path(entry.path).name != entry.path:
                    raise ValueError(f"file path {entry.path!r} must be a bare file name")
            mean = tuple(float(v) for v in data["mean"])
            std = tuple(float(v) for v in data["std"])
            if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
                raise ValueError("mean and std must hold 3 values, std > 0")
            manifest = cls(
                name=str(data["name"]),
                source=str(data["source"]),
                pretrained=bool(data["pretrained"]),
                dim=int(data["dim"]),
                image_size=int(data["image_size"]),
                mean=(mean[0], mean[1], mean[2]),
                std=(std[0], std[1], std[2]),
                context_length=int(data["context_length"]),
                logit_scale=float(data["logit_scale"]),
                pad_id=int(data["pad_id"]),
                bos_id=int(data["bos_id"]),
                eos_id=int(data["eos_id"]),
                files=files,
                model_id=str(data["model_id"]),
                opset=int(data["opset"]),
                normalised=bool(data.get("normalised", False)),
                format_version=version,
                created_with={
                    str(k): str(v) for k, v in dict(data.get("created_with", {})).items()
                },
            )
            if manifest.dim <= 0 or manifest.image_size <= 0 or manifest.context_length <= 2:
                raise ValueError("dim, image_size and context_length must be positive")
        except (KeyError, TypeError, ValueError) as exc:
            detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise ModelUnavailable(
                f"The model manifest {where} is invalid ({detail}); re-export or re-download it.",
                code="model_corrupt",
                details={"path": str(where)},
            ) from None
        return manifest

    @classmethod
    def load(cls, model_dir: Path) -> ExportManifest:
        path = model_dir / MANIFEST_NAME
        if not path.is_file():
            raise ModelUnavailable(
                f"No {MANIFEST_NAME} in {model_dir}: it is not a tunelens model directory. "
                "Export one with `export_clip` or point TUNELENS_MODEL_DIR at one.",
                code="model_missing",
                details={"path": str(path)},
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelUnavailable(
                f"The model manifest {path} cannot be read ({exc}); re-export or re-download it.",
                code="model_corrupt",
                details={"path": str(path)},
            ) from None
        if not isinstance(data, dict):
            raise ModelUnavailable(
                f"The model manifest {path} is not a JSON object.",
                code="model_corrupt",
                details={"path": str(path)},
            )
        return cls.from_dict(data, where=path)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def compute_model_id(image_onnx: Path, text_onnx: Path) -> str:
    """sha256 over the fp32 image graph's bytes followed by the text graph's, 16 hex digits."""
    digest = hashlib.sha256()
    for path in (image_onnx, text_onnx):
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()[:16]


def _file_entry(path: Path) -> FileEntry:
    return FileEntry(path=path.name, sha256=sha256_file(path), n_bytes=path.stat().st_size)


def preprocessing(
    checkpoint_dir: Path,
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Mean/std from ``preprocessor_config.json`` when present, else CLIP's defaults."""
    path = checkpoint_dir / "preprocessor_config.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            mean = [float(v) for v in data.get("image_mean", CLIP_MEAN)]
            std = [float(v) for v in data.get("image_std", CLIP_STD)]
            if len(mean) == 3 and len(std) == 3 and min(std) > 0:
                return (mean[0], mean[1], mean[2]), (std[0], std[1], std[2])
            log.warning("ignoring mean/std in %s: need 3 values each", path)
        except (OSError, ValueError, TypeError, AttributeError):
            log.warning("ignoring unreadable %s; using CLIP's mean/std", path)
    return CLIP_MEAN, CLIP_STD


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
    from tunelens.modelhub.download import fetch_checkpoint

    return fetch_checkpoint(text)


def require_torch() -> None:
    """Raise ``ModelUnavailable(code="torch_missing")`` unless torch + transformers import."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ModelUnavailable(
            f"This needs PyTorch and transformers ({exc.name} is not installed); "
            "install tunelens[torch].",
            code="torch_missing",
        ) from None


def export_clip(
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
    import torch
    from transformers import AutoTokenizer, CLIPModel

    from tunelens.vision.torch_clip import clip_towers

    ckpt_dir = local_checkpoint(checkpoint)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # a stale manifest must never describe half-written new files
    (out_dir / MANIFEST_NAME).unlink(missing_ok=True)

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
    backend = getattr(hf_tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ModelUnavailable(
            f"The tokenizer in {ckpt_dir} has no fast (tokenizers) backend to save.",
            code="model_corrupt",
            details={"path": str(ckpt_dir)},
        )

    config = model.config
    image_size = int(config.vision_config.image_size)
    context_length = int(config.text_config.max_position_embeddings)
    dim = int(config.projection_dim)
    mean, std = preprocessing(ckpt_dir)

    # tokenizer.json without the padding/truncation state transformers leaves on the backend
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(backend.to_str())
    tokenizer.no_padding()
    tokenizer.no_truncation()
    tokenizer.save(str(out_dir / TOKENIZER_NAME))
    pad_id = hf_tokenizer.pad_token_id
    bos_id = hf_tokenizer.bos_token_id
    eos_id = hf_tokenizer.eos_token_id
    if eos_id is None or bos_id is None:
        raise ModelUnavailable(
            f"The tokenizer in {ckpt_dir} has no bos/eos token.", code="model_corrupt"
        )
    if pad_id is None:
        pad_id = eos_id

    image_tower, text_tower = clip_towers(model)
    sample_pixels = torch.zeros(2, 3, image_size, image_size, dtype=torch.float32)
    sample = hf_tokenizer(
        ["a photo", "a photo of a cat"],
        padding="max_length",
        truncation=True,
        max_length=context_length,
        return_tensors="pt",
    )
    image_path, text_path = out_dir / FILE_NAMES["image"], out_dir / FILE_NAMES["text"]
    with warnings.catch_warnings(), torch.no_grad():
        # the TorchScript exporter is deprecated and chatty about constant-folded checks
        # (seq_length > max positions, image size): both hold by construction here.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            image_tower,
            (sample_pixels,),
            str(image_path),
            input_names=[IMAGE_INPUT],
            output_names=[IMAGE_OUTPUT],
            dynamic_axes={IMAGE_INPUT: {0: "batch"}, IMAGE_OUTPUT: {0: "batch"}},
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
        torch.onnx.export(
            text_tower,
            (sample["input_ids"].to(torch.int64), sample["attention_mask"].to(torch.int64)),
            str(text_path),
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

    files = {
        "image": _file_entry(image_path),
        "text": _file_entry(text_path),
        "tokenizer": _file_entry(out_dir / TOKENIZER_NAME),
    }
    if int8:
        for key in ("image", "text"):
            target = out_dir / FILE_NAMES[f"{key}.int8"]
            quantize_int8(out_dir / FILE_NAMES[key], target)
            files[f"{key}.int8"] = _file_entry(target)
    else:
        for key in ("image.int8", "text.int8"):
            (out_dir / FILE_NAMES[key]).unlink(missing_ok=True)

    import onnxruntime
    import transformers

    manifest = ExportManifest(
        name=name or _model_name(checkpoint),
        source=str(checkpoint),
        pretrained=pretrained,
        dim=dim,
        image_size=image_size,
        mean=mean,
        std=std,
        context_length=context_length,
        logit_scale=float(model.logit_scale.detach().exp().item()),
        pad_id=int(pad_id),
        bos_id=int(bos_id),
        eos_id=int(eos_id),
        files=files,
        model_id=compute_model_id(image_path, text_path),
        opset=opset,
        normalised=False,
        created_with={
            "torch": str(torch.__version__),
            "transformers": str(transformers.__version__),
            "onnxruntime": str(onnxruntime.__version__),
        },
    )
    manifest.write(out_dir)
    return manifest


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation (int8 weights; activations quantised per call)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantiser logs advice through the *root* logger (logging.warning), which also
    # installs a root handler via basicConfig; keep both side effects out of our process.
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(
                source,
                target,
                weight_type=QuantType.QInt8,
                # the transformer's MatMuls hold nearly all weights and time; the patch
                # embedding Conv (~3 % of ViT-B/32's weights) stays fp32
                op_types_to_quantize=["MatMul", "Gemm"],
            )
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers


def _model_name(checkpoint: str | Path) -> str:
    text = str(checkpoint).rstrip("/" + os.sep)
    return Path(text).name or text
