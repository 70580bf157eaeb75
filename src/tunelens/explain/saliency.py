"""Which parts of the picture carried the reading: Grad-CAM where the encoder allows it,
occlusion everywhere else.

The choice is read from the encoder registry (``EncoderKind.gradcam``), never from the
encoder's class, so a new encoder with attention maps gets Grad-CAM by one registry line.
"""

from __future__ import annotations

from tunelens.core.types import Reading
from tunelens.explain import gradcam
from tunelens.explain.heatmap import Heatmap, HeatmapRequest
from tunelens.explain.occlusion import occlusion
from tunelens.reading.reader import Reader
from tunelens.vision.base import Encoder
from tunelens.vision.imaging import LoadedImage


def compute_heatmap(
    encoder: Encoder,
    reader: Reader,
    image: LoadedImage,
    reading: Reading,
    request: HeatmapRequest | None = None,
) -> Heatmap:
    """Grad-CAM when the encoder is the PyTorch CLIP (``auto`` or ``gradcam``), else occlusion."""
    request = request or HeatmapRequest()
    if request.method in ("auto", "gradcam"):
        if gradcam.supports(encoder, reader):
            return gradcam.gradcam(encoder, reader, image, reading, target=request.target)
        if request.method == "gradcam":
            raise ValueError(
                f"Grad-CAM needs the PyTorch CLIP encoder with zero-shot heads; "
                f"the loaded encoder is {encoder.name}"
            )
    return occlusion(encoder, reader, image, reading, request)
