"""Over-exposure: songs that sit near very many moods, measured once per catalogue.

In a feature space of ten dimensions a few songs are among the nearest neighbours of a great
many points ("hubs", Radovanović, Nanopoulos & Ivanović 2010): songs in the dense middle of
the catalogue that are never the best fit for any picture yet near enough to every picture to
be recommended for most of them. In the default catalogue two songs came up for 10 of the 48
shared photos each.

So once per catalogue the ranker asks which songs are among the :data:`NEIGHBOURS` nearest of
each target on a :data:`GRID` × :data:`GRID` grid of moods (valence and arousal from −0.9 to
0.9, no genre), counts each song's appearances ``c``, and gives every song a *novelty* in
[0, 1]: ``1 − min(1, c / H)``, where ``H`` is :data:`HUB_FACTOR` times the mean count of the
songs that appear at all. A song near as many moods as a typical reached song keeps most of
its novelty; a song near ``H`` or more moods has none. Novelty is one part of the score (its
weight is in :class:`~tunelens.recommend.scoring.RankWeights`), so an over-exposed song can
still win a picture it fits clearly better than the others.

The counts are sparse (:class:`Exposure`: only reached songs, at most GRID² × NEIGHBOURS of
them, have one) and kept beside a stored catalogue, so a catalogue of ten million songs neither
holds a count per song nor repeats the 625 searches at every start.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tunelens.catalogue.index import CatalogueIndex
from tunelens.core.audio import FEATURE_RANGES
from tunelens.recommend.catalogue_map import CatalogueMap
from tunelens.recommend.mapping import FEATURE_WEIGHTS, MoodPoint, mood_target

#: grid points per circumplex axis (GRID² moods)
GRID = 25
#: how many nearest songs of each grid mood count as "near" it
NEIGHBOURS = 30
#: a song near this many times the mean count of reached songs has no novelty left
HUB_FACTOR = 4.0


def grid_targets(names: tuple[str, ...], catalogue: CatalogueMap) -> NDArray[np.float64]:
    """The raw target of every grid mood, (GRID², F) in ``names`` order; a feature the
    catalogue never knows gets the middle of its range (its weight is 0 in real targets)."""
    axis = np.linspace(-0.9, 0.9, GRID)
    rows = []
    for valence in axis:
        for arousal in axis:
            target = mood_target(MoodPoint(float(valence), float(arousal)), catalogue)
            rows.append([target.get(n, sum(FEATURE_RANGES[n]) / 2) for n in names])
    return np.asarray(rows, dtype=np.float64)


@dataclass(frozen=True)
class Exposure:
    """The songs the grid reaches and how many grid moods each is near.

    Sparse: at most GRID² × NEIGHBOURS songs are reached whatever the catalogue's size, so a
    catalogue of millions holds a few thousand numbers here, not one count per song.
    """

    #: the reached catalogue rows, ascending
    rows: NDArray[np.int64]
    #: how many grid moods each of ``rows`` is among the NEIGHBOURS nearest songs of
    counts: NDArray[np.int64]

    @property
    def hub(self) -> float:
        """``H``: HUB_FACTOR × the mean count of the reached songs (at least 2)."""
        if self.counts.size == 0:
            return math.inf
        return max(2.0, HUB_FACTOR * float(self.counts.mean()))

    def counts_of(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        """The count of each of ``rows`` (0 for a song no grid mood reaches)."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.rows.size == 0:
            return np.zeros(len(rows), dtype=np.int64)
        at = np.minimum(np.searchsorted(self.rows, rows), len(self.rows) - 1)
        return np.where(self.rows[at] == rows, self.counts[at], 0)

    def novelty(self, rows: NDArray[np.int64]) -> NDArray[np.float64]:
        """The novelty of each of ``rows``: what :func:`novelty` gives over all counts."""
        counts = self.counts_of(rows)
        return np.asarray(1.0 - np.minimum(1.0, counts / self.hub), dtype=np.float64)


def measure_exposure(index: CatalogueIndex, catalogue: CatalogueMap) -> Exposure:
    """Which rows the grid moods reach, and how often (see the module doc).

    625 searches: seconds at ten million songs, so a catalogue opened from its directory keeps
    the answer for the next start (:meth:`CatalogueIndex.derived`, keyed by the grid targets,
    weights and ``k`` as well as the catalogue version)."""
    names = index.feature_names
    weights = {n: FEATURE_WEIGHTS.get(n, 1.0) if catalogue.knows(n) else 0.0 for n in names}
    k = min(NEIGHBOURS, max(1, len(index) // 4))
    targets = grid_targets(names, catalogue)
    inputs = (
        np.ascontiguousarray(targets, dtype="<f8").tobytes()
        + json.dumps({"weights": weights, "k": k, "grid": GRID}, sort_keys=True).encode()
    )
    found = index.derived("exposure", inputs, lambda: _reached(index, targets, weights, k))
    return Exposure(
        rows=np.asarray(found["rows"], np.int64), counts=np.asarray(found["counts"], np.int64)
    )


def _reached(
    index: CatalogueIndex, targets: NDArray[np.float64], weights: dict[str, float], k: int
) -> dict[str, NDArray[np.int64]]:
    """The reached rows, ascending, and their counts."""
    rows = index.search_many(targets, weights, k)
    found, counts = np.unique(rows[rows >= 0], return_counts=True)
    return {"rows": found.astype(np.int64), "counts": counts.astype(np.int64)}


def novelty(counts: NDArray[np.int64]) -> NDArray[np.float64]:
    """``1 − min(1, c / H)`` per song (see the module doc); all 1 when no song is reached."""
    reached = counts[counts > 0]
    if reached.size == 0:
        return np.ones(len(counts))
    hub = max(2.0, HUB_FACTOR * float(reached.mean()))
    return np.asarray(1.0 - np.minimum(1.0, counts / hub), dtype=np.float64)
