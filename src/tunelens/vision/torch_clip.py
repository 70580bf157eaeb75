"""CLIP in PyTorch through transformers: the baseline for benchmarks, Grad-CAM and training.

torch and transformers are optional (``tunelens[torch]``); they are imported only when an
encoder is built, and their absence is a ``ModelUnavailable(code="torch_missing")``.

:func:`clip_towers` is the *one* adapter between transformers' CLIP and plain tensors. In
transformers 5, ``CLIPModel.get_image_features`` / ``get_text_features`` return a
``BaseModelOutputWithPooling`` whose ``pooler_output`` is the projected embedding (4.x returned
the tensor itself); the exporter, this encoder and Grad-CAM all go through these adapters.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from tunelens.core.errors import ModelUnavailable
from tunelens.vision.base import FloatArray, PixelRecipe, embed_in_chunks, l2_normalise
from tunelens.vision.layout import CLIP_MEAN, CLIP_STD, preprocessing, require_torch

if TYPE_CHECKING:
    from tunelens.vision.imaging import LoadedImage

_TOWER_CLASSES: tuple[Any, Any] | None = None
_TOWER_LOCK = threading.Lock()


def _projected(output: Any) -> Any:
    """The projected embedding tensor from whatever ``get_*_features`` returned."""
    import torch  # noqa: PLC0415 - optional torch extra

    if isinstance(output, torch.Tensor):  # transformers 4.x
        return output
    pooled = getattr(output, "pooler_output", None)
    if pooled is None:  # tuple outputs (return_dict=False): pooler_output is second
        pooled = output[1]
    return pooled


def _tower_classes() -> tuple[Any, Any]:
    global _TOWER_CLASSES
    with _TOWER_LOCK:
        if _TOWER_CLASSES is None:
            import torch  # noqa: PLC0415 - optional torch extra

            class ClipImageTower(torch.nn.Module):
                """pixel_values [N, 3, S, S] -> projected image embeddings [N, D]."""

                def __init__(self, model: Any) -> None:
                    super().__init__()
                    self.model = model

                def forward(self, pixel_values: Any) -> Any:
                    return _projected(self.model.get_image_features(pixel_values=pixel_values))

            class ClipTextTower(torch.nn.Module):
                """input_ids, attention_mask [N, L] -> projected text embeddings [N, D]."""

                def __init__(self, model: Any) -> None:
                    super().__init__()
                    self.model = model

                def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                    return _projected(
                        self.model.get_text_features(
                            input_ids=input_ids, attention_mask=attention_mask
                        )
                    )

            _TOWER_CLASSES = (ClipImageTower, ClipTextTower)
        return _TOWER_CLASSES


def clip_towers(model: Any) -> tuple[Any, Any]:
    """Wrap a transformers ``CLIPModel`` as (image tower, text tower) returning plain tensors."""
    require_torch()
    image_cls, text_cls = _tower_classes()
    return image_cls(model).eval(), text_cls(model).eval()


def _weights_id(ckpt_dir: Path) -> str:
    digest = hashlib.sha256()
    weights = sorted(ckpt_dir.glob("*.safetensors")) or sorted(ckpt_dir.glob("*.bin"))
    for path in weights:
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
    return "torch-" + digest.hexdigest()[:16]


@dataclass(frozen=True)
class CheckpointInfo:
    """What a loaded checkpoint is, besides its weights (the torch counterpart of the ONNX
    export's manifest): its shown name, the id that keys caches of its embeddings, whether the
    weights are trained, and the mean/std its preprocessor normalises pictures with."""

    name: str
    model_id: str
    is_pretrained: bool = True
    mean: tuple[float, float, float] = CLIP_MEAN
    std: tuple[float, float, float] = CLIP_STD


class ClipTorchEncoder:
    """The :class:`~tunelens.vision.base.Encoder` protocol over a transformers CLIPModel."""

    supports_text = True
    #: pictures (or texts) per forward pass
    batch_size = 32

    def __init__(self, model: Any, tokenizer: Any, info: CheckpointInfo) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        config = model.config
        self.name = info.name
        self.kind = "clip-torch"  # its entry in tunelens.vision.registry.ENCODERS
        self.model_id = info.model_id
        self.is_pretrained = info.is_pretrained
        self.dim = int(config.projection_dim)
        self.image_size = int(config.vision_config.image_size)
        self.context_length = int(config.text_config.max_position_embeddings)
        self.mean = info.mean
        self.std = info.std
        self.logit_scale = float(model.logit_scale.detach().exp().item())
        self.image_tower, self.text_tower = clip_towers(model)

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path,
        *,
        pretrained: bool = True,
        threads: int = 0,
        attn_implementation: str = "eager",
    ) -> ClipTorchEncoder:
        """Load a transformers CLIP checkpoint (local dir, or a hub id via download.py).

        ``attn_implementation="eager"`` keeps attention weights inspectable (Grad-CAM) and
        matches the exported ONNX graphs; pass ``"sdpa"`` for speed.
        """
        require_torch()
        import torch  # noqa: PLC0415 - optional torch extra
        from transformers import AutoTokenizer, CLIPModel  # noqa: PLC0415 - optional torch extra

        ckpt_dir = Path(path).expanduser()
        if not ckpt_dir.is_dir():  # fetching a hub id is modelhub's job, never the runtime's
            raise ModelUnavailable(
                f"Checkpoint {path} is not a local directory.",
                code="model_missing",
                details={"path": str(path)},
            )
        if threads > 0:
            torch.set_num_threads(threads)
        try:
            model = CLIPModel.from_pretrained(ckpt_dir, attn_implementation=attn_implementation)
            tokenizer = AutoTokenizer.from_pretrained(ckpt_dir)
        except (OSError, ValueError) as exc:
            raise ModelUnavailable(
                f"Cannot load a CLIP model and tokenizer from {ckpt_dir}: {exc}",
                code="model_missing",
                details={"path": str(ckpt_dir)},
            ) from None
        mean, std = preprocessing(ckpt_dir)
        info = CheckpointInfo(
            name=f"clip-torch:{Path(str(path).rstrip('/')).name}",
            model_id=_weights_id(ckpt_dir),
            is_pretrained=pretrained,
            mean=mean,
            std=std,
        )
        return cls(model, tokenizer, info)

    def embed_pixels(self, pixel_values: NDArray[np.float32]) -> FloatArray:
        """Embed preprocessed ``(N, 3, S, S)`` pixel arrays (skips decoding/resizing)."""
        import torch  # noqa: PLC0415 - optional torch extra

        rows: list[NDArray[np.float32]] = []
        with torch.inference_mode():
            for start in range(0, len(pixel_values), self.batch_size):
                chunk = torch.from_numpy(
                    np.ascontiguousarray(pixel_values[start : start + self.batch_size])
                )
                rows.append(self.image_tower(chunk).float().numpy())
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalise(np.concatenate(rows).astype(np.float32, copy=False))

    def embed_images(self, images: Sequence[LoadedImage]) -> FloatArray:
        return embed_in_chunks(
            images,
            self.embed_pixels,
            dim=self.dim,
            batch_size=self.batch_size,
            recipe=PixelRecipe(self.image_size, self.mean, self.std),
        )

    def embed_texts(self, texts: Sequence[str]) -> FloatArray:
        import torch  # noqa: PLC0415 - optional torch extra

        if isinstance(texts, str):
            raise TypeError("embed_texts takes a sequence of strings, not one string")
        rows: list[NDArray[np.float32]] = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                enc = self.tokenizer(
                    list(texts[start : start + self.batch_size]),
                    padding=True,
                    truncation=True,
                    max_length=self.context_length,
                    return_tensors="pt",
                )
                out = self.text_tower(enc["input_ids"], enc["attention_mask"])
                rows.append(out.float().numpy())
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalise(np.concatenate(rows).astype(np.float32, copy=False))
