"""The robust scaler: median and a spread no near-constant feature can shrink, unknown values
neutral, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue, Track
from tunelens.catalogue.scaler import DEFAULT_FLOOR, SCALE_FLOORS, SCALE_METHOD, RobustScaler


def test_median_and_iqr_for_a_well_spread_feature_an_outlier_cannot_stretch() -> None:
    column = [*range(1, 20), 1000.0]  # one outlier in twenty
    matrix = np.array([[x, 5.0] for x in column] + [[3.0, np.nan]], dtype=np.float64)
    scaler = RobustScaler.fit(matrix, ["a", "b"])
    q1, med, q3 = np.percentile(matrix[:, 0], [25, 50, 75])
    assert scaler.median == (pytest.approx(med), 5.0)
    # the IQR: the central-80 % spread (P90 − P10 = 16.2 → 8.5) is smaller, the outlier unseen
    assert scaler.scale[0] == pytest.approx(q3 - q1)
    assert scaler.scale[1] == DEFAULT_FLOOR  # a constant feature gets the floor, not 0
    scaled = scaler.transform(matrix)
    assert scaled.dtype == np.float32
    assert scaled[-1, 1] == 0.0  # unknown → median
    restored = RobustScaler.from_dict(json.loads(json.dumps(scaler.to_dict())))
    assert restored == scaler and scaler.to_dict()["method"] == SCALE_METHOD
    np.testing.assert_allclose(scaler.inverse_transform(scaled[:2]), matrix[:2], rtol=1e-6)
    with pytest.raises(ValueError):
        RobustScaler.from_dict({"names": ["a"], "median": [0.0], "scale": [0.0]})


def test_a_feature_that_is_mostly_one_value_is_scaled_by_its_real_spread() -> None:
    """Spotify's instrumentalness: ~0 for 80 % of songs, up to 0.9 for the rest. Its IQR is
    tiny; the scale must be the spread between vocal and instrumental songs instead."""
    rng = np.random.default_rng(3)
    vocal = rng.uniform(0.0, 0.008, size=800)
    instrumental = rng.uniform(0.5, 0.95, size=200)
    column = np.concatenate([vocal, instrumental])
    scaler = RobustScaler.fit(column[:, None], ["instrumentalness"])
    iqr = float(np.subtract(*np.percentile(column, [75, 25])))
    assert iqr < 0.01
    assert scaler.scale[0] > 0.2  # ≈ 0.526 × (P90 − P10)
    assert scaler.scale[0] == pytest.approx(
        0.526 * np.subtract(*np.percentile(column, [90, 10])), rel=0.01
    )


def test_floors_are_in_each_features_own_units() -> None:
    matrix = np.array([[120.0, -6.0, 0.5]] * 10)
    scaler = RobustScaler.fit(matrix, ["tempo", "loudness", "valence"])
    assert scaler.scale == (SCALE_FLOORS["tempo"], SCALE_FLOORS["loudness"], DEFAULT_FLOOR)


def _track(i: int, valence: float, noise: float) -> Track:
    features = {"valence": valence, "energy": 0.5, "speechiness": noise}
    return Track(id=f"t{i}", title=f"Song {i}", artist=f"A{i}", features=features)


def test_a_near_constant_feature_cannot_decide_the_nearest_song() -> None:
    """Two songs: one matches the target's valence, the other matches a near-constant feature
    to the last decimal. Scaled by its IQR (0.0001) the noise decided; now valence does."""
    rng = np.random.default_rng(5)
    tracks = [
        _track(i, float(rng.uniform(0, 1)), float(0.05 + rng.uniform(0, 1e-4))) for i in range(200)
    ]
    tracks.append(_track(200, 0.80, 0.05009))  # right valence, noise off by 0.00008
    tracks.append(_track(201, 0.55, 0.05001))  # noise spot on, valence 0.25 away
    index = CatalogueIndex.build(Catalogue(tracks), features=("valence", "energy", "speechiness"))
    speechiness = index.feature_names.index("speechiness")
    assert index.scaler.scale[speechiness] == DEFAULT_FLOOR
    target = index.vector({"valence": 0.80, "energy": 0.5, "speechiness": 0.05001})
    rows, _ = index.search(target, {"valence": 1.0, "energy": 1.0, "speechiness": 1.0}, k=201)
    order = [index.catalogue[int(r)].id for r in rows]
    assert order.index("t200") < order.index("t201")
    # what the old rule (divide by the IQR) did: the near-constant feature decides
    known = np.array([t.features["speechiness"] for t in tracks])
    old_scale = float(np.subtract(*np.percentile(known, [75, 25])))
    old = {
        t.id: ((t.features["valence"] - 0.80) / 0.5) ** 2
        + ((t.features["speechiness"] - 0.05001) / old_scale) ** 2
        for t in tracks[200:]
    }
    assert old["t201"] < old["t200"]
