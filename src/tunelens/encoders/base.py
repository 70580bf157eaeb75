"""The one interface every image/text encoder implements.

Everything after ``embed_images`` works on numpy arrays, so the rest of tunelens never
imports ONNX Runtime or PyTorch; swapping CLIP-ONNX, CLIP-torch or the weight-free colour
encoder is a setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from tunelens.imaging import LoadedImage

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
