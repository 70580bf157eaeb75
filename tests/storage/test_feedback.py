"""Feedback effects: dislikes exclude, repeated dislikes ban an artist, likes lift similar
songs, and all listeners' votes give a shrunk per-track prior the recommender can use."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from tests.storage.helpers import make_recommendation
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue, Track
from tunelens.core.types import EncoderInfo
from tunelens.recommend.feedback import (
    ClientEffects,
    FeedbackEffects,
    client_effects,
    effects_from_opinions,
    shrunk_prior,
    track_priors,
)
from tunelens.recommend.mapping import target_profile
from tunelens.recommend.preferences import Preferences
from tunelens.recommend.ranking import Recommender
from tunelens.recommend.similar import reading_from_track
from tunelens.storage import repository as repo
from tunelens.storage.db import Database
from tunelens.storage.repository import Opinion

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def op(track: str, kind: str, artist: str | None = None) -> Opinion:
    return Opinion(track, kind, artist, NOW)  # type: ignore[arg-type]


def test_effects_rules() -> None:
    opinions = [  # newest first
        op("t1", "dislike", "The Band"),
        op("t2", "not_interested", "The Band"),
        op("t3", "like", "Other"),
        op("t4", "dislike", "Solo"),
        op("t5", "like", "Other"),
    ]
    effects = effects_from_opinions("c", opinions, artist_threshold=2)
    assert effects.excluded_tracks == {"t1", "t2", "t4"}
    assert effects.excluded_artists == frozenset()  # one dislike per artist (not_interested ≠)
    assert effects.liked_tracks == ("t3", "t5")

    opinions.insert(0, op("t6", "dislike", "the band"))  # same artist, other spelling
    effects = effects_from_opinions("c", opinions, artist_threshold=2)
    assert effects.excluded_artists == {"the band"}
    assert effects_from_opinions("c", opinions, artist_threshold=3).excluded_artists == set()

    # an artist the listener also likes more often is not banned
    liked_too = [*opinions, op("t7", "like", "The Band"), op("t8", "like", "THE BAND")]
    assert effects_from_opinions("c", liked_too, artist_threshold=2).excluded_artists == set()


def test_preferences_merge_exclusions() -> None:
    effects = ClientEffects("c", frozenset({"b", "a"}), frozenset({"X"}), ("l1",))
    prefs = effects.preferences(exclude=["shown", "a"], track_prior={"p": 0.5})
    assert prefs == Preferences(
        exclude=frozenset({"shown", "a", "b"}),
        exclude_artists=frozenset({"X"}),
        lift=("l1",),
    )
    assert prefs.track_prior == {"p": 0.5}


def test_prior_shrinkage() -> None:
    assert shrunk_prior(0, 0) == 0.0
    assert shrunk_prior(1, 0) == pytest.approx(1 / 6)
    assert shrunk_prior(10, 0) == pytest.approx(10 / 15)
    assert shrunk_prior(100, 0) == pytest.approx(100 / 105)
    assert shrunk_prior(0, 3) == pytest.approx(-3 / 8)
    assert shrunk_prior(0, 0, 2) == pytest.approx(-1 / 6)  # not_interested = half a dislike
    assert shrunk_prior(5, 5) == 0.0
    # more evidence, same ratio → further from 0; always inside [-1, 1]
    assert shrunk_prior(4, 1) < shrunk_prior(40, 10) < shrunk_prior(400, 100) < 0.6
    for likes, dislikes in [(0, 10**6), (10**6, 0), (3, 7)]:
        assert -1 <= shrunk_prior(likes, dislikes) <= 1


def test_effects_and_priors_from_the_database(db: Database) -> None:
    pid = repo.record_prediction(
        db,
        make_recommendation(
            [("s1", "Noisy", "rock"), ("s2", "Noisy", "rock"), ("s3", "Calm", "jazz")]
        ),
        client_id="me",
    )
    repo.record_feedback(db, prediction_id=pid, track_id="s1", kind="dislike", client_id="me")
    effects = client_effects(db, "me", artist_threshold=2)
    assert effects.excluded_tracks == {"s1"} and not effects.excluded_artists
    repo.record_feedback(db, prediction_id=pid, track_id="s2", kind="dislike", client_id="me")
    repo.record_feedback(db, prediction_id=pid, track_id="s3", kind="like", client_id="me")
    effects = client_effects(db, "me", artist_threshold=2)
    assert effects.excluded_tracks == {"s1", "s2"}
    assert effects.excluded_artists == {"Noisy"}  # artist copied from the prediction's list
    assert effects.liked_tracks == ("s3",)
    assert client_effects(db, "someone-else").excluded_tracks == frozenset()
    assert client_effects(db, None) == ClientEffects(None)

    repo.record_feedback(
        db, prediction_id=pid, track_id="s1", kind="like", client_id="me"
    )  # changed mind
    assert "s1" not in client_effects(db, "me").excluded_tracks

    for n in range(4):
        repo.record_feedback(db, track_id="s3", kind="like", client_id=f"fan{n}")
    priors = track_priors(db)
    assert priors["s3"] == pytest.approx(5 / 10)  # 5 voters like it
    assert priors["s2"] == pytest.approx(-1 / 6)
    assert priors["s1"] == pytest.approx(1 / 6)

    service = FeedbackEffects(db, prior_ttl_s=3600)
    assert service.priors()["s3"] == pytest.approx(0.5)
    repo.record_feedback(db, track_id="s3", kind="dislike", client_id="hater")
    assert service.priors()["s3"] == pytest.approx(0.5)  # cached
    service.invalidate()
    assert service.priors()["s3"] == pytest.approx(4 / 11)
    prefs = service.preferences("me", exclude=["already-shown"])
    assert prefs.exclude == {"already-shown", "s2"}
    assert prefs.exclude_artists == set()  # s1 is liked now: one dislike of Noisy is left
    assert prefs.track_prior is not None
    assert prefs.track_prior["s3"] == pytest.approx(4 / 11)


# --------------------------------------------------------------------------- recommender


@pytest.fixture(scope="module")
def recommender() -> Recommender:
    rng = np.random.default_rng(7)
    tracks = []
    for i in range(240):
        features = {
            "valence": float(rng.random()),
            "energy": float(rng.random()),
            "danceability": float(rng.random()),
            "tempo": float(rng.uniform(70, 170)),
            "loudness": float(rng.uniform(-16, -3)),
            "acousticness": float(rng.random()),
            "instrumentalness": float(rng.random() * 0.5),
            "mode": float(i % 2),
            "speechiness": float(rng.random() * 0.2),
            "liveness": float(rng.random() * 0.5),
        }
        tracks.append(
            Track(
                id=f"t{i}",
                title=f"Song {i}",
                artist=f"Artist {i % 40}",
                genre=["pop", "rock", "edm", "jazz"][i % 4],
                popularity=50.0,
                features=features,
            )
        )
    return Recommender(CatalogueIndex.build(Catalogue(tracks)))


def _ask(rec: Recommender, seed: int = 3, **feedback: Any) -> list[str]:
    info = EncoderInfo(name="colour", pretrained=False, fallback=False, model_id="colour")
    reading = reading_from_track(rec.tracks[seed], info)
    target = target_profile(reading, rec.profiles)
    prefs = Preferences(
        exclude=frozenset(feedback.get("exclude", ())),
        exclude_artists=frozenset(feedback.get("exclude_artists", ())),
        lift=tuple(feedback.get("lift", ())),
        track_prior=feedback.get("track_prior"),
    )
    out = rec.recommend(reading, target, k=10, preferences=prefs)
    for item in out:
        assert 0 <= item.score <= 1
        assert abs(sum(item.parts.values()) - item.score) < 0.002
    return [item.track.id for item in out]


def _row(recommender: Recommender, track_id: str) -> int:
    row = recommender.index.catalogue.row_of(track_id)
    assert row is not None, track_id
    return row


def _track(recommender: Recommender, track_id: str) -> Track:
    track = recommender.track(track_id)
    assert track is not None, track_id
    return track


def test_hooks_absent_or_neutral_change_nothing(recommender: Recommender) -> None:
    base = _ask(recommender)
    assert len(base) == 10
    assert _ask(recommender, track_prior={}) == base  # prior 0 everywhere: same order
    assert _ask(recommender, exclude_artists=[], lift=[]) == base


def test_banned_artists_and_excluded_tracks_leave(recommender: Recommender) -> None:
    base = _ask(recommender)
    first_artist = _track(recommender, base[0]).artist
    after = _ask(recommender, exclude=[base[1]], exclude_artists=[first_artist.upper()])
    assert base[1] not in after
    assert all(_track(recommender, t).artist != first_artist for t in after)


def test_likes_lift_similar_songs(recommender: Recommender) -> None:
    base = _ask(recommender)
    # the listener liked a song that is not in the list: songs near it should climb
    liked = next(t.id for t in recommender.tracks if t.id not in base and t.id != "t3")
    lifted = _ask(recommender, lift=[liked])
    assert lifted != base
    scaled = recommender.index.scaled_features()
    liked_row = _row(recommender, liked)

    def mean_distance(ids: list[str]) -> float:
        rows = [_row(recommender, t) for t in ids]
        return float(np.mean(((scaled[rows] - scaled[liked_row]) ** 2).sum(axis=1)))

    assert mean_distance(lifted) < mean_distance(base)


def test_a_strong_prior_moves_a_song_up_and_a_bad_one_down(recommender: Recommender) -> None:
    base = _ask(recommender)
    last, first = base[-1], base[0]
    moved = _ask(recommender, track_prior={last: 0.95, first: -0.95})
    assert last in moved and moved.index(last) < base.index(last)
    # a small weight (0.1): a disliked song drops, but a clear best match can still lead
    info = EncoderInfo(name="colour", pretrained=False, fallback=False, model_id="colour")
    reading = reading_from_track(recommender.tracks[3], info)
    target = target_profile(reading, recommender.profiles)
    plain = {i.track.id: i for i in recommender.recommend(reading, target, k=10)}
    voted = {
        i.track.id: i
        for i in recommender.recommend(
            reading,
            target,
            k=10,
            preferences=Preferences(track_prior={last: 0.95, first: -0.95}),
        )
    }
    assert first in voted  # still listed: its score and prior part can be compared
    gap_before = plain[first].score - plain[base[1]].score
    gap_after = voted[first].score - voted[base[1]].score
    assert gap_after < gap_before
    assert voted[last].parts["prior"] > voted[first].parts["prior"]
