"""The regions a heatmap points at, ready for words: the hottest third or cell of the picture
("upper third", "lower left", "centre") and what it shows, from the picture's scene tags (CLIP)
or its colour ("sky": blue and bright in the upper third).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from tunelens.explain.heatmap import Heatmap, HotRegion
from tunelens.vision.colour import colour_stats
from tunelens.vision.imaging import LoadedImage

if TYPE_CHECKING:
    from tunelens.reading.reader import Reader
    from tunelens.vision.base import Encoder

ROWS = ("upper", "middle", "lower")
COLS = ("left", "centre", "right")

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

#: a region before it is named: its row and column third (None: the whole band) and its share
Place = tuple[str | None, str | None, float]


def cell_bounds(n: int, cells: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, n, cells + 1).round().astype(int)
    return [(int(edges[i]), int(edges[i + 1])) for i in range(cells)]


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
    primary = _primary_place(cells)
    if primary is None:  # spread over the picture: no region to name
        return []
    chosen = [primary]
    second = _second_place(cells, primary)
    if second is not None:
        chosen.append(second)
    height, width = pixels.shape[:2]
    saliency = heatmap.full_map(height, width)
    return [_named_region(place, pixels, saliency, encoder, reader) for place in chosen]


def _primary_place(cells: NDArray[np.float64]) -> Place | None:
    """The cell, else the row or column band, that holds most of the saliency; None when the
    map is spread too evenly to name anything."""
    row_share = cells.sum(axis=1)
    col_share = cells.sum(axis=0)
    best_cell = np.unravel_index(int(np.argmax(cells)), cells.shape)
    best_row, best_col = int(np.argmax(row_share)), int(np.argmax(col_share))
    if cells[best_cell] >= CELL_SHARE:
        return (ROWS[best_cell[0]], COLS[best_cell[1]], float(cells[best_cell]))
    if row_share[best_row] >= BAND_SHARE and row_share[best_row] >= col_share[best_col]:
        return (ROWS[best_row], None, float(row_share[best_row]))
    if col_share[best_col] >= BAND_SHARE:
        return (None, COLS[best_col], float(col_share[best_col]))
    if cells[best_cell] >= DIFFUSE_SHARE:
        return (ROWS[best_cell[0]], COLS[best_cell[1]], float(cells[best_cell]))
    return None


def _second_place(cells: NDArray[np.float64], primary: Place) -> Place | None:
    """A second, separate cell (outside the primary region) that also matters."""
    covered = np.zeros_like(cells, dtype=bool)
    r0, c0 = primary[0], primary[1]
    covered[
        slice(None) if r0 is None else ROWS.index(r0),
        slice(None) if c0 is None else COLS.index(c0),
    ] = True
    rest = np.where(covered, -1.0, cells)
    second = np.unravel_index(int(np.argmax(rest)), rest.shape)
    if rest[second] >= SECOND_SHARE:
        return (ROWS[second[0]], COLS[second[1]], float(rest[second]))
    return None


def _named_region(
    place: Place,
    pixels: NDArray[np.uint8],
    saliency: NDArray[np.float32],
    encoder: Encoder | None,
    reader: Reader | None,
) -> HotRegion:
    """A place with its content: the scene tag the heads see there (CLIP), else its colour."""
    row, col, share = place
    height, width = pixels.shape[:2]
    box = _region_box(height, width, row, col)
    content = None
    if encoder is not None and reader is not None:
        top, bottom, left, right = box
        content = _scene_content(pixels[top:bottom, left:right], encoder, reader)
    if content is None:
        content = colour_content(_hot_pixels(pixels, saliency, box), row)
    return HotRegion(
        row=row,
        col=col,
        share=round(share, 3),
        content=content[0],
        content_kind=content[1],
    )
