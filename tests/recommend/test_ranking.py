"""The ranker end to end on a small synthetic catalogue: what one answer may hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.recommend.helpers import make_reading, uniform_features
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue, Track
from tunelens.recommend.mapping import target_profile
from tunelens.recommend.ranking import Recommender


def test_one_answer_never_lists_a_song_twice_under_two_spellings() -> None:
    """A catalogue that lists "Delícia" and "Delicia" by the same artist (as merged Spotify
    exports do) with the same audio: whichever the answer picks, it picks only one."""
    rng = np.random.default_rng(3)
    tracks = [
        Track(id=f"s{i}", title=f"Song {i}", artist=f"Artist {i}", features=uniform_features(rng))
        for i in range(300)
    ]
    reading = make_reading(0.3, 0.1, {})
    probe = Recommender(CatalogueIndex.build(Catalogue(tracks)))
    best = probe.recommend(reading, target_profile(reading, probe.profiles), k=1)[0].track
    spellings = [("Delícia", "Nando Reis"), ("Delicia", "nando reis"), ("DELÍCIA!", "Nando  Reis")]
    twins = [
        Track(id=f"twin{j}", title=t, artist=a, features=dict(best.features))
        for j, (t, a) in enumerate(spellings)
    ]
    rec = Recommender(CatalogueIndex.build(Catalogue([*tracks, *twins])))
    answer = rec.recommend(reading, target_profile(reading, rec.profiles), k=10)
    ids = [song.track.id for song in answer]
    assert len(ids) == 10
    assert sum(1 for i in ids if i.startswith("twin")) == 1


def test_a_stored_catalogue_is_ranked_the_same_from_the_facts_kept_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first start of a stored catalogue keeps the exposure and the map's sample; the next
    start reads them instead of searching, and answers exactly as an in-memory ranker."""
    rng = np.random.default_rng(5)
    genres = ["rock", "jazz", "pop", None]
    tracks = [
        Track(
            id=f"s{i}",
            title=f"Song {i}",
            artist=f"Artist {i % 97}",
            genre=genres[i % 4],
            popularity=None if i % 5 == 0 else float(i % 100),
            features=uniform_features(rng),
        )
        for i in range(1200)
    ]
    memory = Recommender(CatalogueIndex.build(Catalogue(tracks)))
    memory.index.save(tmp_path / "cat")
    Recommender(CatalogueIndex.load(tmp_path / "cat"))  # computes and keeps
    assert len(list((tmp_path / "cat" / "derived").iterdir())) == 2
    reopened = CatalogueIndex.load(tmp_path / "cat")

    def no_search(*_: object, **__: object) -> None:
        raise AssertionError("the kept exposure should be read, not searched again")

    monkeypatch.setattr(reopened, "search_many", no_search)
    rec = Recommender(reopened)
    np.testing.assert_array_equal(rec.exposure.rows, memory.exposure.rows)
    np.testing.assert_array_equal(rec.exposure.counts, memory.exposure.counts)
    assert rec.profiles.genres == memory.profiles.genres
    for valence, arousal in [(-0.6, -0.4), (0.0, 0.2), (0.7, 0.6)]:
        reading = make_reading(valence, arousal, {"rock": 0.6, "jazz": 0.4})
        target = target_profile(reading, rec.profiles)
        got = [(s.track.id, s.score, s.parts) for s in rec.recommend(reading, target, k=10)]
        want = [(s.track.id, s.score, s.parts) for s in memory.recommend(reading, target, k=10)]
        assert got == want
