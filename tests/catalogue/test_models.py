"""Tracks and catalogues: DyLuMo's emotion rule, text, round trips, matrix and hash."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tunelens.catalogue.models import Catalogue, Track
from tunelens.core.audio import FEATURES
from tunelens.core.errors import CatalogError, NotFound


def make_track(track_id: str, **features: float) -> Track:
    return Track(id=track_id, title=f"T{track_id}", artist="A", features=features)


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        ({"valence": 0.6, "energy": 0.75}, "excitement"),
        ({"valence": 0.9, "energy": 0.5, "danceability": 0.6}, "amusement"),
        ({"valence": 0.9, "energy": 0.74, "danceability": 0.59}, "awe"),
        ({"valence": 0.7, "energy": 0.49}, "contentment"),
        ({"valence": 0.59, "energy": 0.7}, "anger"),
        ({"valence": 0.2, "energy": 0.45, "acousticness": 0.5}, "sadness"),
        ({"valence": 0.2, "energy": 0.69, "acousticness": 0.49}, "fear"),
        ({"valence": 0.2, "energy": 0.44}, "sadness"),
        ({"energy": 0.9}, None),
        ({"valence": 0.9, "energy": 0.6}, None),  # needs danceability
        ({"valence": 0.1, "energy": 0.6}, None),  # needs acousticness
    ],
)
def test_dylumo_emotion_rule(features: dict[str, float], expected: str | None) -> None:
    assert make_track("x", **features).dylumo_emotion() == expected


def test_track_text_and_validation() -> None:
    track = Track(id="1", title="Song", artist="Band", genre="rock", subgenre="hard rock")
    assert track.text() == "Song — Band, rock / hard rock"
    assert Track(id="1", title="Song", artist="Band").text() == "Song — Band"
    with pytest.raises(ValueError, match="unknown audio feature"):
        Track(id="1", title="S", artist="A", features={"happiness": 1.0})
    with pytest.raises(ValueError, match="not finite"):
        Track(id="1", title="S", artist="A", features={"energy": math.nan})


def test_track_dict_round_trip() -> None:
    track = Track(
        id="6f807x0ima9a1j3VPbc7VN",
        title="S",
        artist="A",
        genre="pop",
        popularity=3.0,
        features={"energy": 0.5, "tempo": 100.0},
        playlists=("p1", "p2"),
        links={"spotify": "https://open.spotify.com/track/6f807x0ima9a1j3VPbc7VN"},
        mood="Happy",
        genres=("pop", "rock"),
    )
    assert Track.from_dict(json.loads(json.dumps(track.to_dict()))) == track


def test_catalogue_matrix_lookup_hash_and_genres() -> None:
    tracks = [
        Track(id="a", title="A", artist="X", genre="pop", features={"energy": 0.5}),
        Track(id="b", title="B", artist="X", genre="pop", features={"valence": 0.2}),
        Track(id="c", title="C", artist="X", features={"tempo": 90.0}),
    ]
    catalogue = Catalogue(tracks)
    matrix = catalogue.feature_matrix()
    assert matrix.shape == (3, 13) and matrix.dtype == np.float32
    assert matrix[0, FEATURES.index("energy")] == np.float32(0.5)
    assert np.isnan(matrix[0, FEATURES.index("valence")])
    assert catalogue.by_id("b").title == "B" and len(catalogue) == 3
    with pytest.raises(NotFound):
        catalogue.by_id("zzz")
    assert catalogue.genres() == {"pop": 2, "unknown": 1}
    digest = catalogue.content_hash()
    assert digest == Catalogue(list(tracks)).content_hash()  # stable
    changed = [*tracks[:2], Track(id="c", title="C", artist="X", features={"tempo": 91.0})]
    assert Catalogue(changed).content_hash() != digest
    with pytest.raises(CatalogError) as err:
        Catalogue([tracks[0], tracks[0]])
    assert err.value.code == "catalog_invalid"
