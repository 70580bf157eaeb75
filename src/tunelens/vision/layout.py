"""The on-disk layout of an exported model folder, which the runtime and the exporter share.

One model folder holds::

    tunelens-model.json   the manifest (:class:`ExportManifest`): sizes, preprocessing, hashes
    image.onnx            pixel_values float32 [N, 3, S, S]             -> image_embeds [N, D]
    text.onnx             input_ids, attention_mask int64 [N, L]         -> text_embeds  [N, D]
    image.int8.onnx       dynamic int8 (weights int8, activations quantised at run time)
    text.int8.onnx
    tokenizer.json        CLIP's BPE tokenizer for the ``tokenizers`` library

It lives in ``vision`` (not beside the exporter in ``modelhub``) because the encoders read it
at run time, and the run time must never import the exporter.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tunelens.core.atomic import write_atomic
from tunelens.core.digest import sha256_file
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
            files = _file_entries(data["files"])
            mean, std = _mean_std(data["mean"], data["std"])
            manifest = cls(
                name=str(data["name"]),
                source=str(data["source"]),
                pretrained=bool(data["pretrained"]),
                dim=int(data["dim"]),
                image_size=int(data["image_size"]),
                mean=mean,
                std=std,
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


def _file_entries(raw: Any) -> dict[str, FileEntry]:
    """The manifest's ``files``; ValueError/KeyError/TypeError unless the three files every
    model needs are there, each a bare name inside the model folder."""
    files = {
        str(key): FileEntry(
            path=str(entry["path"]),
            sha256=str(entry["sha256"]),
            n_bytes=int(entry["n_bytes"]),
        )
        for key, entry in dict(raw).items()
    }
    for key in ("image", "text", "tokenizer"):
        if key not in files:
            raise ValueError(f"files has no {key!r} entry")
    for entry in files.values():
        if Path(entry.path).name != entry.path:
            raise ValueError(f"file path {entry.path!r} must be a bare file name")
    return files


def _mean_std(
    raw_mean: Any, raw_std: Any
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """The manifest's per-channel mean and std; ValueError unless 3 values each, std > 0."""
    mean = tuple(float(v) for v in raw_mean)
    std = tuple(float(v) for v in raw_std)
    if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
        raise ValueError("mean and std must hold 3 values, std > 0")
    return (mean[0], mean[1], mean[2]), (std[0], std[1], std[2])


def compute_model_id(image_onnx: Path, text_onnx: Path) -> str:
    """sha256 over the fp32 image graph's bytes followed by the text graph's, 16 hex digits."""
    digest = hashlib.sha256()
    for path in (image_onnx, text_onnx):
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()[:16]


def file_entry(path: Path) -> FileEntry:
    """The manifest entry of one written file: its name, sha256 and size."""
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


def require_torch() -> None:
    """Raise ``ModelUnavailable(code="torch_missing")`` unless torch + transformers import."""
    try:
        import torch  # noqa: F401, PLC0415 - optional extra tunelens[torch]: probe only
        import transformers  # noqa: F401, PLC0415 - optional extra tunelens[torch]: probe only
    except ImportError as exc:
        raise ModelUnavailable(
            f"This needs PyTorch and transformers ({exc.name} is not installed); "
            "install tunelens[torch].",
            code="torch_missing",
        ) from None


def check_file(model_dir: Path, entry: FileEntry, *, verify: bool = False) -> None:
    """Existence and size of one manifest file (and its sha256 with ``verify``)."""
    path = model_dir / entry.path
    if not path.is_file():
        raise ModelUnavailable(
            f"The model file {path} is missing; re-export or re-download the model.",
            code="model_missing",
            details={"path": str(path)},
        )
    size = path.stat().st_size
    if size != entry.n_bytes:
        raise ModelUnavailable(
            f"The model file {path} has {size} bytes, its manifest says {entry.n_bytes} "
            "(truncated or replaced); re-export or re-download the model.",
            code="model_corrupt",
            details={"path": str(path), "n_bytes": size, "expected": entry.n_bytes},
        )
    if verify and sha256_file(path) != entry.sha256:
        raise ModelUnavailable(
            f"The model file {path} does not match its manifest's sha256; "
            "re-export or re-download the model.",
            code="model_corrupt",
            details={"path": str(path)},
        )
