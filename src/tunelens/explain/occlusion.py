"""Which part of the picture carried its mood: occlusion saliency for any encoder.

Occlusion (Zeiler & Fergus 2014) needs nothing from the model but its answers, so it works with
the CLIP ONNX encoder, the PyTorch one and the weight-free colour encoder alike. The picture is
cut into a ``grid × grid`` lattice; each cell in turn is painted over with neutral grey at the
picture's own mean brightness (so a patch removes colour and content, not light), the masked
copies go through ``encoder.embed_images`` in one batch and the engine's reader reads each of
them. A cell's saliency is how far the reading moves when that cell is hidden: the total
variation distance between the emotion (or vibe-genre) distributions with and without it. A
calibrated reader is deliberately flat near neutral, so hiding a cell often shifts several
emotions a little rather than the top one a lot; the whole distribution's move catches both.
Moves below :data:`MIN_DROP` are noise and count as zero.

A map is about *where*, so what hiding any cell does is not saliency: the colour reader reads
statistics of the whole picture (colour spread, hue variety, how evenly it is lit), and a grey
patch anywhere in an even blue sky moves them about as much as anywhere else. Each cell's
saliency is therefore its move beyond the typical cell's (the lower quartile of the moves);
when even the most telling cell stands out from that by less than :data:`MIN_CONTRAST` of its
own move, no place in the picture matters more than another, the map is flat, and neither
the overlay nor the words point at a region that is not there.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from tunelens.core.types import Reading
from tunelens.explain.heatmap import Heatmap, HeatmapRequest, target_of, working_pixels
from tunelens.explain.regions import cell_bounds, hot_regions
from tunelens.vision.colour import colour_stats
from tunelens.vision.imaging import LoadedImage, thumbnail

if TYPE_CHECKING:
    from tunelens.reading.reader import Reader
    from tunelens.vision.base import Encoder

#: least move of the reading (total variation, hiding one cell) that counts as mattering at all
MIN_DROP = 0.002
#: share of the peak move by which the peak must exceed the typical cell's move for the map to
#: point anywhere (an even sky: every cell moves the reading by 0.10–0.15, contrast ~0.3)
MIN_CONTRAST = 0.5
#: the typical cell's move: this quantile of all cells' moves
TYPICAL_MOVE = 0.25
#: masked copies per encoder call (bounds memory for large grids)
OCCLUSION_BATCH = 16


def grey_fill(pixels: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Neutral grey at the picture's mean Rec. 601 luma."""
    rgb = pixels.astype(np.float32)
    luma = float((0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]).mean())
    value = round(luma)
    return np.array([value, value, value], dtype=np.uint8)


def _read_distributions(
    encoder: Encoder,
    reader: Reader,
    pixel_list: Sequence[NDArray[np.uint8]],
    request: HeatmapRequest,
) -> NDArray[np.float32]:
    """The unrounded emotion (or genre, by ``request.target``) distribution of each picture,
    read as the engine reads: one row a picture."""
    scores: list[NDArray[np.float32]] = []
    for start in range(0, len(pixel_list), OCCLUSION_BATCH):
        images = [LoadedImage.from_array(p) for p in pixel_list[start : start + OCCLUSION_BATCH]]
        stats = [colour_stats(thumbnail(i)) for i in images]
        if reader.heads is not None or getattr(reader, "trained", None):
            embeddings = encoder.embed_images(images)
        else:  # the plain colour reader reads its statistics; the embedding would go unused
            embeddings = np.zeros((len(images), encoder.dim), dtype=np.float32)
        emotions, genres = reader.probabilities(images, embeddings, request.context, stats=stats)
        scores.append(genres if request.target == "genre" else emotions)
    return np.concatenate(scores).astype(np.float32)


def local_saliency(move: NDArray[np.floating]) -> NDArray[np.float32]:
    """Each cell's share of the reading's move that is its own, scaled to a peak of 1: the move
    beyond the typical cell's (module doc); all zeros when no cell stands out."""
    flat: NDArray[np.float32] = np.zeros(np.shape(move), dtype=np.float32)
    move = np.asarray(move, dtype=np.float64)
    # below MIN_DROP a cell does not matter: normalising noise would paint a confident map
    move = np.where(move >= MIN_DROP, move, 0.0)
    peak = float(move.max(initial=0.0))
    if peak <= 0.0:
        return flat
    own = np.maximum(0.0, move - float(np.quantile(move, TYPICAL_MOVE)))
    if float(own.max()) < MIN_CONTRAST * peak:
        return flat
    scaled: NDArray[np.float32] = (own / float(own.max())).astype(np.float32)
    return scaled


def occlusion(
    encoder: Encoder,
    reader: Reader,
    image: LoadedImage,
    reading: Reading,
    request: HeatmapRequest | None = None,
) -> Heatmap:
    """Occlusion saliency of the reading's top emotion (or genre) over a ``grid × grid`` lattice
    (``request.method`` is not read here: choosing the method is the caller's business)."""
    request = request or HeatmapRequest()
    grid = request.grid
    if grid < 1:
        raise ValueError(f"grid must be >= 1, got {grid}")
    start = time.perf_counter()
    name = target_of(reading, request.target)
    work = working_pixels(image, encoder)
    height, width = work.shape[:2]
    fill = grey_fill(work)
    variants: list[NDArray[np.uint8]] = [work]
    for top, bottom in cell_bounds(height, grid):
        for left, right in cell_bounds(width, grid):
            masked = work.copy()
            masked[top:bottom, left:right] = fill
            variants.append(masked)
    distributions = _read_distributions(encoder, reader, variants, request)
    names = reader.genres.names if request.target == "genre" else reader.emotions.names
    base = float(distributions[0, names.index(name)])
    move = 0.5 * np.abs(distributions[1:] - distributions[0]).sum(axis=1).reshape(grid, grid)
    saliency = local_saliency(move)
    heatmap = Heatmap(
        grid=saliency, method="occlusion", target_kind=request.target, target=name, base_score=base
    )
    heatmap.regions = hot_regions(heatmap, work, encoder=encoder, reader=reader)
    heatmap.seconds = time.perf_counter() - start
    return heatmap
