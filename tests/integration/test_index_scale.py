"""The catalogue index at scale: HNSW over a 100k-track synthetic catalogue keeps
recall@10 ≥ 0.95 against exact search, with unit and with the mapping's feature weights
(which walk the unit-weight graph over re-weighted vectors), also after a save/load.

No timing is asserted here (benchmarks/bench_index.py measures speed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SPOTIFY_CSV, require_shared
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.synthetic import generate_catalogue, load_reference, synthetic_matrix
from tunelens.core.audio import FEATURES
from tunelens.recommend.mapping import FEATURE_WEIGHTS

pytestmark = pytest.mark.slow


def recall_at_10(index: CatalogueIndex, queries: np.ndarray, weights: dict[str, float]) -> float:
    names = index.feature_names
    w = np.array([weights.get(f, 1.0) for f in names])
    scaled = index.scaled_features().astype(np.float64)
    hits = []
    for query in queries:
        rows, dist = index.search(query, weights, k=10)
        exact = ((scaled - index.scaler.transform(query)) ** 2 * w).sum(axis=1)
        kth = np.partition(exact, 9)[9]
        assert len(rows) == 10
        # tie-aware: a returned track counts when it is as close as the exact 10th
        hits.append(np.sum(exact[rows] <= kth * (1 + 1e-5) + 1e-6) / 10)
        np.testing.assert_allclose(dist, exact[rows], rtol=1e-3, atol=1e-3)
    return float(np.mean(hits))


def test_recall_at_10_on_100k_synthetic_catalogue(tmp_path: Path) -> None:
    reference = load_reference(require_shared(SPOTIFY_CSV))
    catalogue = generate_catalogue(reference, 100_000, seed=0)
    assert CatalogueIndex.build(catalogue).kind == "flat"  # auto: exact up to 200k tracks
    index = CatalogueIndex.build(catalogue, kind="hnsw")
    columns = [FEATURES.index(f) for f in index.feature_names]
    raw, _ = synthetic_matrix(reference, 60, seed=99)
    queries = raw[:, columns]
    queries = np.where(np.isnan(queries), np.nanmedian(queries, axis=0), queries)
    mapping_weights = {f: FEATURE_WEIGHTS[f] for f in index.feature_names}
    assert recall_at_10(index, queries, {}) >= 0.95
    assert recall_at_10(index, queries, mapping_weights) >= 0.95
    index.save(tmp_path / "index")
    loaded = CatalogueIndex.load(tmp_path / "index")
    assert loaded.kind == "hnsw"
    assert recall_at_10(loaded, queries[:20], mapping_weights) >= 0.95
