"""Over-exposure: songs near very many moods lose novelty, and answers spread across pictures."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from tests.recommend.helpers import make_reading, uniform_features
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue, Track
from tunelens.recommend import exposure
from tunelens.recommend.mapping import target_profile
from tunelens.recommend.ranking import Recommender, RecommenderConfig
from tunelens.recommend.scoring import RankWeights


def test_novelty_falls_with_exposure_and_hubs_have_none() -> None:
    counts = np.array([0, 1, 1, 1, 1, 2, 30])
    values = exposure.novelty(counts)
    assert values[0] == 1.0 and values[-1] == 0.0
    assert list(values) == sorted(values, reverse=True)
    # H = 4 × the mean count of reached songs (36 / 6) = 24: one appearance costs 1/24
    assert values[1] == pytest.approx(1 - 1 / 24)
    assert list(exposure.novelty(np.zeros(3, dtype=np.int64))) == [1.0, 1.0, 1.0]


@pytest.fixture(scope="module")
def index() -> CatalogueIndex:
    rng = np.random.default_rng(2)
    tracks = [
        Track(id=f"u{i}", title="s", artist=f"a{i}", features=uniform_features(rng))
        for i in range(1500)
    ]
    return CatalogueIndex.build(Catalogue(tracks))


def test_hub_counts_cover_the_grid(index: CatalogueIndex) -> None:
    rec = Recommender(index)
    every = np.arange(len(index))
    counts = rec.exposure.counts_of(every)
    k = min(exposure.NEIGHBOURS, len(index) // 4)
    assert counts.sum() == exposure.GRID**2 * k
    assert list(rec.exposure.rows) == list(np.flatnonzero(counts))
    novelty = rec.exposure.novelty(every)
    assert novelty.min() < 0.5 < novelty.max() == 1.0
    # the sparse counts give exactly the novelty of the dense formula
    assert np.array_equal(novelty, exposure.novelty(counts))


def test_the_correction_spreads_songs_across_pictures(index: CatalogueIndex) -> None:
    """64 readings over the usual range: without the novelty part a few songs fill many of
    the 640 slots; with it more songs are used and the most repeated one repeats less, while
    the songs still sit about as near their targets."""
    readings = [
        make_reading(float(v), float(a), {})
        for v in np.linspace(-0.5, 0.6, 8)
        for a in np.linspace(-0.6, 0.3, 8)
    ]

    def answer(weights: RankWeights) -> tuple[Counter[str], float]:
        rec = Recommender(index, config=RecommenderConfig(weights=weights))
        counts: Counter[str] = Counter()
        gaps = []
        for reading in readings:
            target = target_profile(reading, rec.profiles)
            for song in rec.recommend(reading, target, k=10):
                counts[song.track.id] += 1
                gaps.append(abs(song.track.features["energy"] - target.features["energy"]))
        return counts, float(np.mean(gaps))

    plain, plain_gap = answer(RankWeights(novelty=0.0, mood=0.7))
    corrected, corrected_gap = answer(RankWeights())
    assert len(corrected) > 1.2 * len(plain)
    assert max(corrected.values()) < max(plain.values())
    assert corrected_gap < plain_gap + 0.03
