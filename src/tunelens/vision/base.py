"""The one interface every image/text encoder implements.

Everything after ``embed_images`` works on numpy arrays, so the rest of tunelens never
imports ONNX Runtime or PyTorch; swapping CLIP-ONNX, CLIP-torch or the weight-free colour
encoder is a setting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from tunelens.vision.imaging import LoadedImage, to_model_input

FloatArray = NDArray[np.float32]


@runtime_checkable
class Encoder(Protocol):
    """Turns images (and, for CLIP-like models, texts) into L2-normalised vectors."""

    #: short human name, e.g. ``clip-onnx:ViT-B-32`` or ``colour``
    name: str
    #: embedding width
    dim: int
    #: True when the weights are trained (pretrained CLIP); False for random or weight-free
    is_pretrained: bool
    #: True when ``embed_texts`` works (CLIP); False for the colour encoder
    supports_text: bool
    #: stable id of the exact weights (sha256 prefix); keys caches of text embeddings
    model_id: str

    def embed_images(self, images: Sequence[LoadedImage]) -> FloatArray:
        """Return an ``(len(images), dim)`` float32 array, each row L2-normalised."""
        ...

    def embed_texts(self, texts: Sequence[str]) -> FloatArray:
        """Return an ``(len(texts), dim)`` float32 array, each row L2-normalised."""
        ...


def l2_normalise(vectors: FloatArray) -> FloatArray:
    """Row-wise L2 normalisation that leaves all-zero rows at zero instead of NaN."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    normalised: FloatArray = (vectors / norms).astype(np.float32, copy=False)
    return normalised


@dataclass(frozen=True)
class PixelRecipe:
    """How a picture becomes a CLIP-like encoder's input tensor: the short side it is resized
    to (``resize``; 0 means ``size``) with which filter, the square side it is cropped to, and
    the per-channel mean/std it is normalised with. Models disagree on all of these (OpenAI's
    CLIP: 224, bicubic, its own mean/std; MobileCLIP-S1/S2: 256, bilinear, no normalisation),
    so each model's folder says which it wants."""

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    resize: int = 0
    resample: str = "bicubic"

    def batch(self, images: Sequence[LoadedImage]) -> FloatArray:
        """``(len(images), 3, size, size)`` float32, as :func:`to_model_input` makes it."""
        return to_model_input(
            images,
            size=self.size,
            mean=self.mean,
            std=self.std,
            resize=self.resize or None,
            resample=self.resample,
        )

    def describe(self) -> str:
        """In words, for ``tunelens models info``."""
        short = self.resize or self.size
        return (
            f"short side {short} ({self.resample}), centre crop {self.size}, "
            f"mean {_triple(self.mean)}, std {_triple(self.std)}"
        )


def _triple(values: tuple[float, float, float]) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in values) + ")"


def embed_in_chunks(
    images: Sequence[LoadedImage],
    embed_pixels: Callable[[FloatArray], FloatArray],
    *,
    dim: int,
    batch_size: int,
    recipe: PixelRecipe,
) -> FloatArray:
    """Embed pictures ``batch_size`` at a time, so a 40-mask heatmap or a big batch request
    never builds one huge input tensor; shared by the ONNX and the torch CLIP encoders."""
    if len(images) == 0:
        return np.zeros((0, dim), dtype=np.float32)
    parts = [
        embed_pixels(recipe.batch(images[start : start + batch_size]))
        for start in range(0, len(images), batch_size)
    ]
    return np.concatenate(parts)
