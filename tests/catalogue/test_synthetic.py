"""Synthetic catalogues: valid tracks with the reference catalogue's distributions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.conftest import SPOTIFY_CSV, require_shared
from tunelens.catalogue.models import Catalogue, Track
from tunelens.catalogue.synthetic import (
    ReferenceData,
    generate_catalogue,
    load_reference,
    reference_from_catalogue,
    synthetic_matrix,
)
from tunelens.core.audio import FEATURES
from tunelens.core.errors import CatalogError

COL = {name: i for i, name in enumerate(FEATURES)}


def small_reference() -> ReferenceData:
    rng = np.random.default_rng(3)
    tracks = []
    for i in range(60):
        genre = "rock" if i % 3 else "jazz"
        features = {
            "valence": float(rng.random()),
            "energy": 0.9 if genre == "rock" else 0.2,
            "key": float(i % 12),
            "mode": float(i % 2),
            "loudness": -5.0 if genre == "rock" else -15.0,
            "tempo": 120.0 + i,
        }
        if i % 5 == 0:
            del features["tempo"]  # unknown stays unknown
        tracks.append(
            Track(
                id=f"r{i}",
                title=f"T{i}",
                artist="A",
                genre=genre,
                features=features,
                popularity=50.0,
            )
        )
    return reference_from_catalogue(Catalogue(tracks))


def test_rows_are_valid_and_keep_discrete_values_and_unknowns() -> None:
    ref = small_reference()
    matrix, source = synthetic_matrix(ref, 2_000, seed=1)
    assert matrix.shape == (2_000, len(FEATURES)) and source.shape == (2_000,)
    assert np.nanmin(matrix[:, COL["valence"]]) >= 0 and np.nanmax(matrix[:, COL["valence"]]) <= 1
    # discrete features are copied from the source row, never jittered
    np.testing.assert_array_equal(matrix[:, COL["key"]], ref.features[source, COL["key"]])
    assert set(np.unique(matrix[:, COL["mode"]])) <= {0.0, 1.0}
    # a feature the source row did not know stays unknown; jitter makes known ones unique
    np.testing.assert_array_equal(
        np.isnan(matrix[:, COL["tempo"]]), np.isnan(ref.features[source, COL["tempo"]])
    )
    assert len(np.unique(matrix[:, COL["valence"]])) > 1_900
    # genre structure survives: rock rows stay loud and energetic, jazz rows quiet
    rock = np.asarray(ref.genres)[source] == "rock"
    assert matrix[rock, COL["energy"]].mean() > 0.8
    assert matrix[~rock, COL["energy"]].mean() < 0.3


def test_determinism_genre_weights_and_bad_arguments() -> None:
    ref = small_reference()
    a, _ = synthetic_matrix(ref, 300, seed=7)
    b, _ = synthetic_matrix(ref, 300, seed=7)
    c, _ = synthetic_matrix(ref, 300, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    _, source = synthetic_matrix(ref, 500, genre_weights={"jazz": 1.0})
    assert set(np.asarray(ref.genres)[source]) == {"jazz"}
    assert synthetic_matrix(ref, 0)[0].shape == (0, len(FEATURES))
    with pytest.raises(ValueError, match="not in the reference"):
        synthetic_matrix(ref, 10, genre_weights={"polka": 1.0})
    with pytest.raises(ValueError, match="jitter"):
        synthetic_matrix(ref, 10, jitter=-1)
    with pytest.raises(ValueError):
        synthetic_matrix(ref, -1)
    with pytest.raises(CatalogError):
        reference_from_catalogue(Catalogue([]))


def test_generated_catalogue_is_a_valid_catalogue() -> None:
    catalogue = generate_catalogue(small_reference(), 500, seed=2)
    assert len(catalogue) == 500 and len(set(catalogue.ids())) == 500
    track = catalogue[0]
    assert track.id.startswith("syn-") and track.links == {}
    assert track.genre in {"rock", "jazz"} and track.genres == (track.genre,)
    assert track.popularity is not None and 0 <= track.popularity <= 100
    assert all(math.isfinite(v) for v in track.features.values())
    # about eight tracks per artist, like a real catalogue
    assert 30 <= len({t.artist for t in catalogue}) <= 62


def test_distributions_match_the_shared_spotify_csv() -> None:
    ref = load_reference(require_shared(SPOTIFY_CSV))
    matrix, _ = synthetic_matrix(ref, 50_000, seed=0)
    for name in ("danceability", "energy", "loudness", "valence", "tempo", "acousticness"):
        j = COL[name]
        real = np.nanpercentile(ref.features[:, j], [10, 50, 90])
        synth = np.nanpercentile(matrix[:, j], [10, 50, 90])
        spread = real[2] - real[0]
        assert np.all(np.abs(real - synth) <= 0.05 * spread), (name, real, synth)
    # correlations survive resampling: energy and loudness go together
    known = ~np.isnan(matrix[:, [COL["energy"], COL["loudness"]]]).any(axis=1)
    real_known = ~np.isnan(ref.features[:, [COL["energy"], COL["loudness"]]]).any(axis=1)
    r_real = np.corrcoef(ref.features[real_known][:, [COL["energy"], COL["loudness"]]].T)[0, 1]
    r_syn = np.corrcoef(matrix[known][:, [COL["energy"], COL["loudness"]]].T)[0, 1]
    assert abs(r_real - r_syn) < 0.05
    # genre shares match the reference
    _, source = synthetic_matrix(ref, 20_000, seed=1)
    genres, counts = np.unique(np.asarray(ref.genres)[source], return_counts=True)
    real_genres, real_counts = np.unique(np.asarray(ref.genres), return_counts=True)
    assert list(genres) == list(real_genres)
    np.testing.assert_allclose(counts / counts.sum(), real_counts / real_counts.sum(), atol=0.01)
