"""A saliency map and how it is shown: the grid over the picture, what it was computed for,
and its colour overlay.

Both methods return a :class:`Heatmap` — occlusion (:mod:`tunelens.explain.occlusion`, any
encoder) and Grad-CAM (:mod:`tunelens.explain.gradcam`, the PyTorch CLIP); the regions it points
at are put into words by :mod:`tunelens.explain.regions`.

The map is rendered as an RGB overlay on the photo (cold = blue, hot = red; the colour map is
built in RGB order, so hot regions really are red — Image2Genre added an OpenCV BGR map to an RGB
image and its hot regions showed blue).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from tunelens.core.types import Reading
from tunelens.vision.imaging import LoadedImage

if TYPE_CHECKING:
    from tunelens.vision.base import Encoder

Target = Literal["emotion", "genre"]
Method = Literal["auto", "occlusion", "gradcam"]

#: default occlusion lattice: 6 × 6 = 36 masked copies (+1 unmasked), divisible into thirds
DEFAULT_GRID = 6
#: most overlay side in pixels (the PNG travels base64 inside JSON)
OVERLAY_MAX_SIDE = 512

# RGB anchors of the colour map (a "turbo"-like ramp, listed R, G, B): dark blue → blue → cyan
# → green-yellow → orange → red. Being RGB is the point: hot must look red in an RGB PNG.
_COLORMAP_STOPS = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0], dtype=np.float32)
_COLORMAP_RGB = np.array(
    [
        [35, 23, 120],
        [40, 100, 240],
        [30, 200, 220],
        [160, 230, 60],
        [250, 150, 30],
        [220, 30, 20],
    ],
    dtype=np.float32,
)


@dataclass(frozen=True)
class HeatmapRequest:
    """What a heatmap is asked for; these travel together from the explanation down to the
    method that computes the map.

    ``target`` picks the answer explained (the top emotion or the top vibe genre), ``method``
    the way (``auto``: Grad-CAM where the registry allows it, else occlusion), ``grid`` the
    occlusion lattice, and ``context`` the listener's words, with which every masked copy is
    read exactly as the picture was.
    """

    target: Target = "emotion"
    method: Method = "auto"
    grid: int = DEFAULT_GRID
    context: str | None = None


def colormap(values: NDArray[np.floating]) -> NDArray[np.uint8]:
    """Map values in [0, 1] to RGB colours (``(..., 3)`` uint8; 0 = dark blue, 1 = red)."""
    v = np.clip(np.asarray(values, dtype=np.float32), 0.0, 1.0)
    channels = [np.interp(v, _COLORMAP_STOPS, _COLORMAP_RGB[:, c]) for c in range(3)]
    return np.clip(np.rint(np.stack(channels, axis=-1)), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class HotRegion:
    """One region of the picture that mattered, in words-ready form.

    ``row``/``col`` name a third of the picture; one of them is ``None`` when the region is a
    whole band ("upper third" has ``col=None``). ``content_kind`` says how to read ``content``:
    ``scene`` (a scene tag name), ``feature`` (sky, water, greenery, warm_light, shadows,
    highlights) or ``hue`` (a colour name such as ``red``).
    """

    row: str | None
    col: str | None
    share: float
    content: str | None = None
    content_kind: str | None = None

    @property
    def key(self) -> str:
        """A stable id: ``upper`` / ``left`` / ``upper-left`` / ``middle-centre``."""
        return "-".join(p for p in (self.row, self.col) if p)


@dataclass
class Heatmap:
    """A saliency map over the picture plus what it means.

    ``grid`` covers ``extent`` = (x0, y0, x1, y1), fractions of the picture's width and height:
    the whole picture for occlusion, the centre crop the model sees for Grad-CAM.
    """

    grid: NDArray[np.float32]
    method: str
    target_kind: str
    target: str
    base_score: float
    extent: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    regions: list[HotRegion] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def is_flat(self) -> bool:
        """True when no region raised the target's probability (nothing to point at)."""
        return float(self.grid.max(initial=0.0)) <= 0.0

    def full_map(self, height: int, width: int) -> NDArray[np.float32]:
        """The saliency resampled (bilinear) onto a ``height × width`` frame of the picture."""
        out = np.zeros((height, width), dtype=np.float32)
        x0, y0, x1, y1 = self.extent
        left, top = round(x0 * width), round(y0 * height)
        right, bottom = max(left + 1, round(x1 * width)), max(top + 1, round(y1 * height))
        grid = Image.fromarray(np.ascontiguousarray(self.grid, dtype=np.float32))
        resized = grid.resize((right - left, bottom - top), Image.Resampling.BILINEAR)
        out[top:bottom, left:right] = np.asarray(resized, dtype=np.float32)
        return np.clip(out, 0.0, 1.0)

    def overlay(
        self, pixels: NDArray[np.uint8], *, max_side: int = OVERLAY_MAX_SIDE
    ) -> Image.Image:
        """The photo with the map blended over it (hot = red, opaque-ish; cold = faint blue)."""
        img = Image.fromarray(pixels)
        if max(img.size) > max_side:
            img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        photo = np.asarray(img, dtype=np.float32)
        sal = self.full_map(photo.shape[0], photo.shape[1])
        colours = colormap(sal).astype(np.float32)
        alpha = (0.2 + 0.45 * sal)[..., None]
        blended = photo * (1.0 - alpha) + colours * alpha
        return Image.fromarray(np.clip(np.rint(blended), 0, 255).astype(np.uint8))

    def overlay_png(self, pixels: NDArray[np.uint8], *, max_side: int = OVERLAY_MAX_SIDE) -> bytes:
        buffer = io.BytesIO()
        self.overlay(pixels, max_side=max_side).save(buffer, format="PNG", compress_level=6)
        return buffer.getvalue()

    def data_url(self, pixels: NDArray[np.uint8], *, max_side: int = OVERLAY_MAX_SIDE) -> str:
        """The overlay as a ``data:image/png;base64,…`` URL (what the API returns)."""
        encoded = base64.b64encode(self.overlay_png(pixels, max_side=max_side)).decode("ascii")
        return "data:image/png;base64," + encoded


def target_of(reading: Reading, kind: Target) -> str:
    """The label a heatmap explains: the reading's top emotion or its top vibe genre."""
    if kind == "genre":
        return max(reading.genres, key=lambda g: reading.genres[g])
    return reading.top_emotion


def working_pixels(image: LoadedImage, encoder: Encoder) -> NDArray[np.uint8]:
    """The picture at the size the encoder really looks at (fewer pixels to mask and copy).

    CLIP resizes the short side to its input size anyway; the colour encoder reads a 256-px
    thumbnail. Never upscales.
    """
    pixels = image.pixels
    height, width = pixels.shape[:2]
    if getattr(encoder, "supports_text", False):
        side = int(getattr(encoder, "image_size", 224))
        scale = side / min(height, width)
    else:
        scale = 256 / max(height, width)
    if scale >= 1.0:
        return pixels
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    img = Image.fromarray(pixels).resize(size, Image.Resampling.BOX)
    return np.asarray(img, dtype=np.uint8)
