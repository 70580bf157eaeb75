"""Searching the index: exact against brute force, weights, exclusions, HNSW, index kinds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.catalogue.helpers import random_catalogue
from tunelens.catalogue import faiss_index
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue
from tunelens.core.audio import MOOD_FEATURES
from tunelens.core.errors import InvalidRequest


def brute_force(index: CatalogueIndex, target: np.ndarray, weights: dict[str, float]) -> np.ndarray:
    w = np.array([weights.get(n, 1.0) for n in index.feature_names])
    diff = index.scaled_features() - index.scaler.transform(target)
    return np.argsort((diff**2 * w).sum(axis=1), kind="stable")


def test_search_matches_brute_force_and_weights_matter(catalogue: Catalogue) -> None:
    index = CatalogueIndex.build(catalogue)
    assert index.kind == "flat" and index.feature_names == MOOD_FEATURES
    target = index.vector({"valence": 0.9, "energy": 0.2, "tempo": 80, "mode": 1})
    target = np.nan_to_num(target, nan=0.5)
    rows, dist = index.search(target, {}, k=10)
    assert rows.dtype == np.int64 and dist.dtype == np.float32
    assert list(rows) == list(brute_force(index, target, {})[:10])
    assert np.all(np.diff(dist) >= 0)
    heavy = {"valence": 20.0, "energy": 0.0}
    rows_w, _ = index.search(target, heavy, k=10)
    assert list(rows_w) == list(brute_force(index, target, heavy)[:10])
    assert list(rows_w) != list(rows)
    # Features' valence in the weighted top 10 is closer to the target.
    valence = index.raw_features()[:, 0]
    assert np.abs(valence[rows_w] - 0.9).mean() < np.abs(valence[rows] - 0.9).mean()


def test_search_exclude_nan_target_and_bad_input(catalogue: Catalogue) -> None:
    index = CatalogueIndex.build(catalogue)
    target = np.full(len(MOOD_FEATURES), np.nan, dtype=np.float32)
    target[0] = 0.1  # only valence matters
    rows, _ = index.search(target, {}, k=5)
    excluded = {int(rows[0]), int(rows[2])}
    rows2, _ = index.search(target, {}, k=5, exclude=excluded)
    assert len(rows2) == 5 and not excluded & set(rows2.tolist())
    assert rows2[0] == rows[1]
    valence = index.raw_features()[:, 0]
    assert np.all(np.abs(valence[rows] - 0.1) <= np.sort(np.abs(valence - 0.1))[4] + 1e-6)
    everything, _ = index.search(target, {}, k=10_000)
    assert len(everything) == len(catalogue)
    with pytest.raises(InvalidRequest):
        index.search(target, {"happiness": 1.0}, k=5)
    same, _ = index.search(target, {"key": 9.0}, k=5)  # a feature this index lacks: ignored
    assert list(same) == list(rows)
    assert index.features == MOOD_FEATURES
    with pytest.raises(InvalidRequest):
        index.search(target, {"valence": -1.0}, k=5)
    with pytest.raises(InvalidRequest):
        index.search(target[:3], {}, k=5)
    with pytest.raises(InvalidRequest):
        index.search(target, {}, k=0)


def test_hnsw_kind_finds_the_same_neighbours(catalogue: Catalogue, tmp_path: Path) -> None:
    flat = CatalogueIndex.build(catalogue, kind="flat")
    hnsw = CatalogueIndex.build(catalogue, kind="hnsw")
    assert hnsw.kind == "hnsw"
    target = flat.raw_features()[17].copy()
    target[np.isnan(target)] = 100.0
    for weights in ({}, {"energy": 5.0}):
        flat_rows, _ = flat.search(target, weights, k=10, exclude={3})
        hnsw_rows, _ = hnsw.search(target, weights, k=10, exclude={3})
        assert len(set(flat_rows) & set(hnsw_rows)) >= 9
        assert hnsw_rows[0] == flat_rows[0] == 17
    hnsw.save(tmp_path / "h")
    loaded = CatalogueIndex.load(tmp_path / "h")
    assert loaded.kind == "hnsw"
    assert list(loaded.search(target, {}, k=10)[0]) == list(hnsw.search(target, {}, k=10)[0])


def test_index_kind_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    small = random_catalogue(n=30)
    monkeypatch.setattr(faiss_index, "FLAT_MAX_TRACKS", 10)
    assert CatalogueIndex.build(small).kind == "flat"  # the store reads the threshold
    assert CatalogueIndex.build(small, kind="hnsw").kind == "hnsw"
    assert CatalogueIndex.build(small, kind="ivf").kind == "ivf"
    with pytest.raises(InvalidRequest):
        CatalogueIndex.build(small, kind="lsh")
    with pytest.raises(InvalidRequest):
        CatalogueIndex.build(small, features=("valence", "happiness"))


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_search_many_answers_each_target_as_search_does(
    catalogue: Catalogue, kind: faiss_index.IndexKind
) -> None:
    index = CatalogueIndex.build(catalogue, kind=kind)
    rng = np.random.default_rng(11)
    targets = index.raw_features()[rng.choice(len(index), size=6, replace=False)]
    targets = np.nan_to_num(targets, nan=120.0)  # tempo is unknown on some tracks
    weights = {"valence": 3.0, "energy": 3.0, "tempo": 0.5}
    many = index.search_many(targets, weights, 8)
    assert many.shape == (6, 8)
    for target, rows in zip(targets, many, strict=True):
        assert list(rows) == list(index.search(target, weights, k=8)[0])
    with pytest.raises(InvalidRequest):
        index.search_many(targets[:, :3], weights, 8)
    with pytest.raises(InvalidRequest):
        index.search_many(np.full_like(targets, np.nan), weights, 8)
