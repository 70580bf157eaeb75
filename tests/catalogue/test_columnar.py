"""Tracks as mapped Arrow columns: the same tracks, lookups by id, facts without objects."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from tunelens.catalogue.columnar import (
    ColumnarCatalogue,
    content_hash_of_table,
    table_from_tracks,
    with_id_order,
)
from tunelens.catalogue.models import (
    DYLUMO_EMOTIONS,
    Catalogue,
    Track,
    dylumo_emotion_codes,
    dylumo_emotions,
)
from tunelens.core.audio import FEATURES


def same_track(got: Track, want: Track) -> bool:
    """Equal, features compared at the float32 the store keeps."""
    return got.features == pytest.approx(want.features, rel=1e-6) and (
        {**got.to_dict(), "features": None} == {**want.to_dict(), "features": None}
    )


def test_columns_give_back_the_tracks_and_find_ids(catalogue: Catalogue) -> None:
    tracks = list(catalogue)
    first, second = table_from_tracks(tracks[:120]), table_from_tracks(tracks[120:])
    dead = np.zeros(len(tracks), dtype=bool)
    dead[5] = True
    columnar = ColumnarCatalogue([with_id_order(first), with_id_order(second)], dead, "h")
    assert len(columnar) == len(tracks) and columnar.live_count() == len(tracks) - 1
    for got, want in ((columnar[200], tracks[200]), (columnar.tracks[7], tracks[7])):
        assert same_track(got, want)
    assert columnar.row_of(tracks[250].id) == 250 and tracks[5].id not in columnar
    assert columnar.get("missing") is None
    np.testing.assert_array_equal(
        columnar.feature_rows(np.array([3, 130])), catalogue.feature_matrix()[[3, 130]]
    )
    codes, values = columnar.codes("genre")
    assert [values[c] for c in codes] == [t.genre for t in tracks]
    one = table_from_tracks(tracks)
    assert content_hash_of_table(one) == content_hash_of_table(pa.concat_tables([first, second]))
    assert content_hash_of_table(one) != content_hash_of_table(first)
    # one hash names the catalogue in memory and in the store
    assert content_hash_of_table(one) == Catalogue(tracks).content_hash()
    rows = np.array([3, 130, 5, 249])
    assert columnar.values_of("artist", rows) == catalogue.values_of("artist", rows)
    assert columnar.values_of("genre", rows) == [tracks[r].genre for r in rows]
    np.testing.assert_allclose(
        columnar.popularity_of(rows), catalogue.popularity_of(rows), rtol=1e-6, equal_nan=True
    )


def test_vectorised_emotions_follow_the_track_rule(catalogue: Catalogue) -> None:
    expected = [t.dylumo_emotion() or "" for t in catalogue]
    assert dylumo_emotions(catalogue.feature_matrix()) == expected


def test_tracks_read_together_are_the_tracks_read_one_by_one(catalogue: Catalogue) -> None:
    tracks = list(catalogue)
    halves = [
        with_id_order(table_from_tracks(tracks[:120])),
        with_id_order(table_from_tracks(tracks[120:])),
    ]
    columnar = ColumnarCatalogue(halves, None, "h")
    rows = np.array([130, 3, 249, 3, 0])
    together = columnar.tracks_of(rows)
    assert together == [columnar[int(r)] for r in rows]
    assert all(same_track(got, tracks[r]) for got, r in zip(together, rows, strict=True))
    # each value is the shortest decimal of the float32 stored (a CSV's 0.748 comes back as
    # 0.748, not 0.74800002574920654)
    shown = [v for track in together for v in track.features.values()]
    assert shown and all(v == float(str(np.float32(v))) for v in shown)
    assert catalogue.tracks_of(rows) == [tracks[r] for r in rows]
    assert columnar.tracks_of(np.array([], dtype=np.int64)) == []
    with pytest.raises(IndexError):
        columnar.tracks_of(np.array([len(tracks)]))


def test_coded_values_of_some_rows_are_their_values(catalogue: Catalogue) -> None:
    tracks = list(catalogue)
    columnar = ColumnarCatalogue([with_id_order(table_from_tracks(tracks))], None, "h")
    rows = np.array([7, 3, 130, 7, 249])
    for source in (columnar, catalogue):
        for name in ("genre", "artist", "mood"):
            codes, values = source.codes_of(name, rows)
            assert [values[c] for c in codes] == [getattr(tracks[r], name) for r in rows]
            assert len(set(values)) == len(values)


def test_emotion_codes_name_the_same_emotions(catalogue: Catalogue) -> None:
    matrix = np.array(catalogue.feature_matrix())
    matrix[::7, FEATURES.index("valence")] = np.nan  # some songs without a known valence
    codes = dylumo_emotion_codes(matrix)
    assert [DYLUMO_EMOTIONS[c] for c in codes] == dylumo_emotions(matrix)
    assert DYLUMO_EMOTIONS[0] == "" and set(codes[::7].tolist()) == {0}
