"""The clustered index: weighted search near exact, tombstones, the delta of added rows."""

from __future__ import annotations

import dataclasses

import numpy as np

from tunelens.catalogue.ivf import IvfLists, list_count, train_centroids


def test_weighted_search_finds_nearly_the_exact_neighbours() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(20_000, 6)).astype(np.float32)
    ivf = IvfLists.build(train_centroids(vectors[:18_000]), vectors[:18_000])
    ivf = ivf.with_delta(np.arange(18_000, 20_000), vectors[18_000:])
    # 24 clusters of 450: isotropic noise with skewed weights is harder than songs; the
    # default's recall on catalogue-like data is measured in benchmarks/catalog_scale.py
    ivf = dataclasses.replace(ivf, nprobe=24)
    assert len(ivf.centroids) == list_count(18_000) // 1 or len(ivf.centroids) <= 18_000 // 40
    weights = np.array([3.0, 3.0, 1.0, 0.5, 0.0, 1.0])
    dead = np.zeros(20_000, dtype=bool)
    dead[::7] = True
    hits = 0
    for query in rng.normal(size=(30, 6)).astype(np.float32):
        dist, rows = ivf.search(query, weights, 10, dead)
        exact = ((vectors - query) ** 2) @ weights
        exact[dead] = np.inf
        truth = set(np.argsort(exact)[:10].tolist())
        hits += len(truth & set(rows.tolist()))
        assert not dead[rows].any() and np.all(np.diff(dist) >= 0)
        np.testing.assert_allclose(dist, exact[rows], rtol=1e-4)
    assert hits / 300 >= 0.95
