"""The naive baseline's encoder: what a straightforward PyTorch + transformers script does.

``CLIPImageProcessor``'s steps written out in numpy (resize the short side to 224 bicubic,
centre crop, rescale, normalise) and ``CLIPModel.get_image_features`` in PyTorch fp32, one
image per call. Kept free of the tunelens pipeline so the naive cold-start child process
(:mod:`benchmarks.e2e_cold`) loads only what the baseline needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from tunelens.vision.base import l2_normalise
from tunelens.vision.layout import CLIP_MEAN, CLIP_STD
from tunelens.vision.torch_clip import _projected


def processor_like(pixels: NDArray[np.uint8], size: int = 224) -> NDArray[np.float32]:
    """``CLIPImageProcessor``'s steps as a plain script writes them: PIL bicubic resize of the
    short side, centre crop, rescale, normalise; ``(1, 3, size, size)`` float32."""
    img = Image.fromarray(pixels)
    w, h = img.size
    scale = size / min(w, h)
    img = img.resize(
        (max(size, round(w * scale)), max(size, round(h * scale))), Image.Resampling.BICUBIC
    )
    left, top = (img.width - size) // 2, (img.height - size) // 2
    img = img.crop((left, top, left + size, top + size))
    arr = np.asarray(img, dtype=np.float32) / np.float32(255.0)
    mean = np.asarray(CLIP_MEAN, dtype=np.float32)
    std = np.asarray(CLIP_STD, dtype=np.float32)
    chw: NDArray[np.float32] = ((arr - mean) / std).transpose(2, 0, 1)[None]
    return np.ascontiguousarray(chw, dtype=np.float32)


class NaiveTorchEncoder:
    """CLIPImageProcessor's steps in numpy + transformers CLIPModel fp32, one image per call."""

    supports_text = False
    is_pretrained = False

    def __init__(self, checkpoint: Path, model_id: str) -> None:
        import torch  # lazy: the optional torch extra, only for the baseline
        from transformers import CLIPModel  # lazy: likewise

        self._torch = torch
        model: Any = CLIPModel.from_pretrained(checkpoint)
        self.model = model.eval()
        self.dim = int(self.model.config.projection_dim)
        self.size = int(self.model.config.vision_config.image_size)
        self.name = "naive-torch"
        self.model_id = model_id

    def preprocess(self, pixels: NDArray[np.uint8]) -> NDArray[np.float32]:
        return processor_like(pixels, self.size)

    def embed_images(self, images: Sequence[Any]) -> NDArray[np.float32]:
        rows = []
        with self._torch.inference_mode():
            for image in images:  # one image per call, as a simple script does
                pixels = self._torch.from_numpy(self.preprocess(image.pixels))
                rows.append(_projected(self.model.get_image_features(pixel_values=pixels)))
        return l2_normalise(np.concatenate([r.float().numpy() for r in rows]))

    def embed_texts(self, texts: Sequence[str]) -> NDArray[np.float32]:
        raise NotImplementedError
