"""Grad-CAM for the PyTorch CLIP encoder (``tunelens[torch]``), same output as occlusion.

Grad-CAM (Selvaraju et al. 2017) weights a layer's activations by the mean gradient of the
target's score. A vision transformer has no last conv block, so, as is usual for ViTs, the
activations are the patch tokens entering the last encoder block (the output of its first
layer norm): the class token reads them through the block's attention, so their gradients say
which patches the answer depends on (the *output* patch tokens of the last block have no path
to the class token and would give zero gradients). The score is the log-probability of the
reading's top emotion (or genre) under the zero-shot head, i.e. exactly what the reader reports.

The map covers the centre crop the model sees, ``(image_size / patch_size)²`` cells (7 × 7 for
ViT-B/32, like Image2Genre's ResNet Grad-CAM); :class:`~tunelens.explain.heatmap.Heatmap`'s
``extent`` places it on the photo.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from tunelens.core import vocab
from tunelens.core.types import Reading
from tunelens.explain.heatmap import Heatmap, Target, target_of, working_pixels
from tunelens.explain.regions import hot_regions
from tunelens.vision.imaging import LoadedImage, to_model_input
from tunelens.vision.registry import kind_of
from tunelens.vision.torch_clip import ClipTorchEncoder, _projected

if TYPE_CHECKING:
    from tunelens.reading.reader import Reader
    from tunelens.vision.base import Encoder

# hooks on a shared model are not thread-safe: one Grad-CAM at a time per process
_LOCK = threading.Lock()


def supports(encoder: Encoder, reader: Reader) -> bool:
    """True when Grad-CAM can run: an encoder the registry marks for it, with zero-shot heads."""
    return reader.heads is not None and kind_of(encoder).gradcam


def crop_extent(height: int, width: int) -> tuple[float, float, float, float]:
    """The centre square a CLIP preprocessor keeps, as fractions of the picture."""
    short = min(height, width)
    x0 = (width - short) / 2 / width
    y0 = (height - short) / 2 / height
    return (x0, y0, 1.0 - x0, 1.0 - y0)


def gradcam(
    encoder: Encoder,
    reader: Reader,
    image: LoadedImage,
    reading: Reading,
    *,
    target: Target = "emotion",
) -> Heatmap:
    """Grad-CAM of the reading's top emotion (or genre) on the PyTorch CLIP's last block."""
    import torch  # noqa: PLC0415 - optional torch extra

    if not isinstance(encoder, ClipTorchEncoder) or reader.heads is None:
        raise ValueError("Grad-CAM needs the PyTorch CLIP encoder with zero-shot heads")
    start = time.perf_counter()
    name = target_of(reading, target)
    vocabulary = vocab.genres() if target == "genre" else vocab.emotions()
    classes = torch.from_numpy(reader.heads.class_matrix(vocabulary))
    pixels = torch.from_numpy(
        to_model_input([image], size=encoder.image_size, mean=encoder.mean, std=encoder.std)
    )
    cam, base = _last_block_cam(
        encoder.model, pixels, classes, vocabulary.names.index(name), reader.heads.logit_scale
    )
    side = round(len(cam) ** 0.5)
    cam = cam[: side * side].reshape(side, side)
    peak = float(cam.max(initial=0.0))
    saliency = (cam / peak if peak > 1e-12 else np.zeros_like(cam)).astype(np.float32)
    height, width = image.pixels.shape[:2]
    heatmap = Heatmap(
        grid=saliency,
        method="gradcam",
        target_kind=target,
        target=name,
        base_score=base,
        extent=crop_extent(height, width),
    )
    heatmap.regions = hot_regions(
        heatmap, working_pixels(image, encoder), encoder=encoder, reader=reader
    )
    heatmap.seconds = time.perf_counter() - start
    return heatmap


def _last_block_cam(
    model: Any, pixels: Any, classes: Any, index: int, logit_scale: float
) -> tuple[NDArray[np.float32], float]:
    """One patch score per patch token (unshaped, unnormalised) and the target's probability.

    The target's log-probability under the zero-shot head is backpropagated to the patch
    tokens entering the last encoder block; their gradients, averaged over the tokens, weight
    the activations (see the module doc)."""
    import torch  # noqa: PLC0415 - optional torch extra

    layer = model.vision_model.encoder.layers[-1].layer_norm1
    captured: dict[str, Any] = {}

    def keep(_module: Any, _inputs: Any, output: Any) -> None:
        output.retain_grad()
        captured["activations"] = output

    with _LOCK, torch.enable_grad():
        handle = layer.register_forward_hook(keep)
        try:
            embedding = _projected(model.get_image_features(pixel_values=pixels))
            embedding = embedding / embedding.norm(dim=-1, keepdim=True)
            logits = logit_scale * embedding @ classes.T
            score = torch.log_softmax(logits, dim=-1)[0, index]
            model.zero_grad(set_to_none=True)
            score.backward()  # type: ignore[no-untyped-call]
        finally:
            handle.remove()
        activations = captured["activations"].detach()[0, 1:, :]
        gradients = captured["activations"].grad.detach()[0, 1:, :]
        base = float(torch.exp(score).item())
    weights = gradients.mean(dim=0)
    cam: NDArray[np.float32] = torch.relu(activations @ weights).numpy().astype(np.float32)
    return cam, base
