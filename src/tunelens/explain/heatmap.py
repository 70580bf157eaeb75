"""Which part of the picture carried its mood: occlusion saliency for any encoder.

Occlusion (Zeiler & Fergus 2014) needs nothing from the model but its answers, so it works with
the CLIP ONNX encoder, the PyTorch one and the weight-free colour encoder alike. The picture is
cut into a ``grid × grid`` lattice; each cell in turn is painted over with neutral grey at the
picture's own mean brightness (so a patch removes colour and content, not light), the masked
copies go through ``encoder.embed_images`` in one batch and the engine's reader reads each of
them. A cell's saliency is how much the probability of the reading's top emotion (or top vibe
genre) drops when that cell is hidden; cells whose loss *raises* the probability count as zero.

The map is rendered as an RGB overlay on the photo (cold = blue, hot = red; the colour map is
built in RGB order, so hot regions really are red — Image2Genre added an OpenCV BGR map to an RGB
image and its hot regions showed blue), and summarised in words: the hottest third or cell of
the picture ("upper third", "lower left", "centre") and what it shows, from the picture's scene
tags (CLIP) or its colour ("sky": blue and bright in the upper third).

Grad-CAM for the PyTorch CLIP lives in :mod:`tunelens.explain.gradcam` and returns the same
:class:`Heatmap`.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from tunelens.core.types import Reading
from tunelens.vision.colour import colour_stats
from tunelens.vision.imaging import LoadedImage, thumbnail

if TYPE_CHECKING:
    from tunelens.reading.reader import Reader
    from tunelens.vision.base import Encoder

Target = Literal["emotion", "genre"]
Method = Literal["auto", "occlusion", "gradcam"]
ROWS = ("upper", "middle", "lower")
COLS = ("left", "centre", "right")

#: default occlusion lattice: 6 × 6 = 36 masked copies (+1 unmasked), divisible into thirds
DEFAULT_GRID = 6
#: least fall of the target's probability (hiding one cell) that counts as mattering at all
MIN_DROP = 0.002
#: masked copies per encoder call (bounds memory for large grids)
OCCLUSION_BATCH = 16
#: resolution of the full-frame map the regions are measured on
REGION_MAP_SIZE = 60
#: a single third-of-a-third cell is named when it holds at least this share of the saliency …
CELL_SHARE = 0.4
#: … otherwise a whole row or column third when it holds at least this share
BAND_SHARE = 0.55
#: a second region is reported when it holds at least this share
SECOND_SHARE = 0.25
#: below this share even the hottest cell is not a region (a uniform map gives each 1/9)
DIFFUSE_SHARE = 0.18
#: least probability of a scene tag on the region crop (CLIP) to name it as the content
SCENE_CONTENT_MIN = 0.25
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


# --- occlusion -----------------------------------------------------------------------------------


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


def cell_bounds(n: int, cells: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, n, cells + 1).round().astype(int)
    return [(int(edges[i]), int(edges[i + 1])) for i in range(cells)]


def grey_fill(pixels: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Neutral grey at the picture's mean Rec. 601 luma."""
    rgb = pixels.astype(np.float32)
    luma = float((0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]).mean())
    value = round(luma)
    return np.array([value, value, value], dtype=np.uint8)


def _read_scores(
    encoder: Encoder,
    reader: Reader,
    pixel_list: Sequence[NDArray[np.uint8]],
    kind: Target,
    name: str,
    context: str | None,
) -> NDArray[np.float32]:
    """The unrounded probability of ``name`` for each picture, read as the engine reads."""
    names = reader.genres.names if kind == "genre" else reader.emotions.names
    column = names.index(name)
    scores: list[NDArray[np.float32]] = []
    for start in range(0, len(pixel_list), OCCLUSION_BATCH):
        images = [LoadedImage.from_array(p) for p in pixel_list[start : start + OCCLUSION_BATCH]]
        stats = [colour_stats(thumbnail(i)) for i in images]
        if reader.heads is not None or getattr(reader, "trained", None):
            embeddings = encoder.embed_images(images)
        else:  # the plain colour reader reads its statistics; the embedding would go unused
            embeddings = np.zeros((len(images), encoder.dim), dtype=np.float32)
        emotions, genres = reader.probabilities(images, embeddings, context, stats=stats)
        scores.append((genres if kind == "genre" else emotions)[:, column])
    return np.concatenate(scores).astype(np.float32)


def occlusion(
    encoder: Encoder,
    reader: Reader,
    image: LoadedImage,
    reading: Reading,
    *,
    target: Target = "emotion",
    grid: int = DEFAULT_GRID,
    context: str | None = None,
) -> Heatmap:
    """Occlusion saliency of the reading's top emotion (or genre) over a ``grid × grid`` lattice."""
    if grid < 1:
        raise ValueError(f"grid must be >= 1, got {grid}")
    start = time.perf_counter()
    name = target_of(reading, target)
    work = working_pixels(image, encoder)
    height, width = work.shape[:2]
    fill = grey_fill(work)
    variants: list[NDArray[np.uint8]] = [work]
    for top, bottom in cell_bounds(height, grid):
        for left, right in cell_bounds(width, grid):
            masked = work.copy()
            masked[top:bottom, left:right] = fill
            variants.append(masked)
    scores = _read_scores(encoder, reader, variants, target, name, context)
    base = float(scores[0])
    drop = np.clip(base - scores[1:], 0.0, None).reshape(grid, grid)
    peak = float(drop.max(initial=0.0))
    # below MIN_DROP no cell matters: normalising noise would paint a confident-looking map
    saliency = (drop / peak if peak >= MIN_DROP else np.zeros_like(drop)).astype(np.float32)
    heatmap = Heatmap(
        grid=saliency, method="occlusion", target_kind=target, target=name, base_score=base
    )
    heatmap.regions = hot_regions(heatmap, work, encoder=encoder, reader=reader)
    heatmap.seconds = time.perf_counter() - start
    return heatmap


def compute_heatmap(
    encoder: Encoder,
    reader: Reader,
    image: LoadedImage,
    reading: Reading,
    *,
    target: Target = "emotion",
    method: Method = "auto",
    grid: int = DEFAULT_GRID,
    context: str | None = None,
) -> Heatmap:
    """Grad-CAM when the encoder is the PyTorch CLIP (``auto`` or ``gradcam``), else occlusion."""
    if method in ("auto", "gradcam"):
        from tunelens.explain import gradcam

        if gradcam.supports(encoder, reader):
            return gradcam.gradcam(encoder, reader, image, reading, target=target)
        if method == "gradcam":
            raise ValueError(
                f"Grad-CAM needs the PyTorch CLIP encoder with zero-shot heads; "
                f"the loaded encoder is {encoder.name}"
            )
    return occlusion(encoder, reader, image, reading, target=target, grid=grid, context=context)


# --- regions in words ----------------------------------------------------------------------------


def _thirds(full: NDArray[np.float32]) -> NDArray[np.float64]:
    rows = cell_bounds(full.shape[0], 3)
    cols = cell_bounds(full.shape[1], 3)
    return np.array([[float(full[t:b, lf:rt].sum()) for lf, rt in cols] for t, b in rows])


def _region_box(
    height: int, width: int, row: str | None, col: str | None
) -> tuple[int, int, int, int]:
    rows = cell_bounds(height, 3)
    cols = cell_bounds(width, 3)
    top, bottom = rows[ROWS.index(row)] if row else (0, height)
    left, right = cols[COLS.index(col)] if col else (0, width)
    return top, bottom, left, right


def colour_content(pixels: NDArray[np.uint8], row: str | None) -> tuple[str, str]:
    """What some pixels show, from their colour alone: (content, kind).

    Blue or cyan and bright is ``sky`` in the upper third and ``water`` in the lower one;
    bright and colourless is ``clouds`` up high and ``highlights`` elsewhere; green is
    ``greenery``; bright reds, oranges and yellows up high are ``warm_light``; very dark is
    ``shadows``; anything else is named by its dominant hue.
    """
    stats = colour_stats(pixels)
    hue = stats.dominant_hue
    if stats.brightness < 0.18:
        return "shadows", "feature"
    if hue in ("blue", "cyan") and stats.brightness >= 0.4:
        if row == "upper":
            return "sky", "feature"
        if row == "lower":
            return "water", "feature"
    if hue == "green":
        return "greenery", "feature"
    if hue in ("red", "orange", "yellow") and stats.brightness >= 0.5 and row == "upper":
        return "warm_light", "feature"
    if hue == "grey" and stats.brightness >= 0.7:
        return ("clouds" if row == "upper" else "highlights"), "feature"
    return hue, "hue"


def _hot_pixels(
    pixels: NDArray[np.uint8], saliency: NDArray[np.float32], box: tuple[int, int, int, int]
) -> NDArray[np.uint8]:
    """The region's pixels where the map is at least half its peak there, as a 1 × N strip."""
    top, bottom, left, right = box
    crop = pixels[top:bottom, left:right]
    weights = saliency[top:bottom, left:right]
    peak = float(weights.max(initial=0.0))
    mask = weights >= 0.5 * peak if peak > 0 else np.ones(weights.shape, dtype=bool)
    return np.ascontiguousarray(crop[mask].reshape(1, -1, 3))


def _scene_content(
    crop: NDArray[np.uint8], encoder: Encoder, reader: Reader
) -> tuple[str, str] | None:
    """The crop's scene tag by the CLIP heads, when one is clear enough."""
    if reader.heads is None or min(crop.shape[:2]) < 8:
        return None
    embedding = encoder.embed_images([LoadedImage.from_array(np.ascontiguousarray(crop))])
    probs = reader.heads.probabilities(embedding, reader.scenes)[0]
    best = int(np.argmax(probs))
    if float(probs[best]) < SCENE_CONTENT_MIN:
        return None
    return reader.scenes.terms[best].name, "scene"


def hot_regions(
    heatmap: Heatmap,
    pixels: NDArray[np.uint8],
    *,
    encoder: Encoder | None = None,
    reader: Reader | None = None,
) -> list[HotRegion]:
    """The region (a third-of-a-third cell, or a whole third) holding most of the saliency, and
    a second one if it also matters; each with a content word."""
    if heatmap.is_flat:
        return []
    full = heatmap.full_map(REGION_MAP_SIZE, REGION_MAP_SIZE)
    total = float(full.sum())
    if total <= 0:
        return []
    cells = _thirds(full) / total
    row_share = cells.sum(axis=1)
    col_share = cells.sum(axis=0)
    best_cell = np.unravel_index(int(np.argmax(cells)), cells.shape)
    best_row, best_col = int(np.argmax(row_share)), int(np.argmax(col_share))
    primary: tuple[str | None, str | None, float]
    if cells[best_cell] >= CELL_SHARE:
        primary = (ROWS[best_cell[0]], COLS[best_cell[1]], float(cells[best_cell]))
    elif row_share[best_row] >= BAND_SHARE and row_share[best_row] >= col_share[best_col]:
        primary = (ROWS[best_row], None, float(row_share[best_row]))
    elif col_share[best_col] >= BAND_SHARE:
        primary = (None, COLS[best_col], float(col_share[best_col]))
    elif cells[best_cell] >= DIFFUSE_SHARE:
        primary = (ROWS[best_cell[0]], COLS[best_cell[1]], float(cells[best_cell]))
    else:  # spread over the picture: no region to name
        return []
    chosen: list[tuple[str | None, str | None, float]] = [primary]
    # a second, separate cell that also matters
    covered = np.zeros_like(cells, dtype=bool)
    r0, c0 = primary[0], primary[1]
    covered[
        slice(None) if r0 is None else ROWS.index(r0),
        slice(None) if c0 is None else COLS.index(c0),
    ] = True
    rest = np.where(covered, -1.0, cells)
    second = np.unravel_index(int(np.argmax(rest)), rest.shape)
    if rest[second] >= SECOND_SHARE:
        chosen.append((ROWS[second[0]], COLS[second[1]], float(rest[second])))
    height, width = pixels.shape[:2]
    saliency = heatmap.full_map(height, width)
    out = []
    for row, col, share in chosen:
        box = _region_box(height, width, row, col)
        content = None
        if encoder is not None and reader is not None:
            top, bottom, left, right = box
            content = _scene_content(pixels[top:bottom, left:right], encoder, reader)
        if content is None:
            content = colour_content(_hot_pixels(pixels, saliency, box), row)
        out.append(
            HotRegion(
                row=row,
                col=col,
                share=round(share, 3),
                content=content[0],
                content_kind=content[1],
            )
        )
    return out
