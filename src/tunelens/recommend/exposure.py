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
"""

from __future__ import annotations

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


def hub_counts(index: CatalogueIndex, catalogue: CatalogueMap) -> NDArray[np.int64]:
    """How many grid moods have each catalogue row among their NEIGHBOURS nearest songs."""
    names = index.feature_names
    weights = {n: FEATURE_WEIGHTS.get(n, 1.0) if catalogue.knows(n) else 0.0 for n in names}
    k = min(NEIGHBOURS, max(1, len(index) // 4))
    rows = index.search_many(grid_targets(names, catalogue), weights, k)
    counts = np.bincount(rows[rows >= 0].reshape(-1), minlength=len(index))
    return np.asarray(counts, dtype=np.int64)


def novelty(counts: NDArray[np.int64]) -> NDArray[np.float64]:
    """``1 − min(1, c / H)`` per song (see the module doc); all 1 when no song is reached."""
    reached = counts[counts > 0]
    if reached.size == 0:
        return np.ones(len(counts))
    hub = max(2.0, HUB_FACTOR * float(reached.mean()))
    return np.asarray(1.0 - np.minimum(1.0, counts / hub), dtype=np.float64)
