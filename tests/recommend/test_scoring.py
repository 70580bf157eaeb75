"""The score parts and their weights."""

from __future__ import annotations

import numpy as np
import pytest

from tunelens.recommend.scoring import (
    LIFT_WEIGHT,
    PRIOR_WEIGHT,
    Labels,
    RankWeights,
    part_weights,
    prior_part,
    text_part,
    total_score,
)


def test_text_part_orders_songs_by_similarity_to_the_picture() -> None:
    picture = np.array([1.0, 0.0], dtype=np.float32)
    songs = np.array([[0.0, 1.0], [1.0, 0.0], [0.7, 0.7]], dtype=np.float32)
    part = text_part(songs, picture)
    assert list(np.argsort(-part)) == [1, 2, 0]
    assert ((part > 0) & (part < 1)).all()


def test_text_part_of_identical_songs_is_neutral() -> None:
    picture = np.array([1.0, 0.0], dtype=np.float32)
    songs = np.ones((3, 2), dtype=np.float32)
    assert text_part(songs, picture) == pytest.approx([0.5, 0.5, 0.5])


def test_without_text_its_weight_goes_to_mood() -> None:
    weights = RankWeights()
    always = {"mood": np.zeros(1), "genre": np.zeros(1), "novelty": np.zeros(1)}
    plain, undo = part_weights(weights, always)
    assert plain["mood"] == pytest.approx(weights.mood + weights.text)
    assert "text" not in plain and undo == 1.0
    with_text, _ = part_weights(weights, {**always, "text": np.zeros(1)})
    assert with_text["mood"] == pytest.approx(weights.mood)
    assert with_text["text"] == pytest.approx(weights.text)


def test_the_genre_weight_follows_the_share_of_the_vibe_the_catalogue_kept() -> None:
    weights = RankWeights()
    parts = {"mood": np.zeros(1), "genre": np.zeros(1), "novelty": np.zeros(1)}
    full, _ = part_weights(weights, parts, genre_mass=1.0)
    quarter, _ = part_weights(weights, parts, genre_mass=0.25)
    assert quarter["genre"] == pytest.approx(0.25 * full["genre"])
    assert quarter["mood"] == pytest.approx(full["mood"] + 0.75 * full["genre"])
    assert sum(quarter.values()) == pytest.approx(1.0)
    # a catalogue without genres (or a reading of absent genres only): no genre part at all
    no_genre, _ = part_weights(weights, {"mood": np.zeros(1), "novelty": np.zeros(1)})
    assert "genre" not in no_genre and sum(no_genre.values()) == pytest.approx(1.0)


def test_feedback_parts_renormalise_to_one() -> None:
    parts = {"mood": np.zeros(1), "liked": np.zeros(1), "prior": np.zeros(1)}
    weights, undo = part_weights(RankWeights(), parts)
    assert sum(weights.values()) == pytest.approx(1.0)
    assert undo == pytest.approx(1.0 + LIFT_WEIGHT + PRIOR_WEIGHT)


def test_prior_maps_votes_to_unit_range() -> None:
    part = prior_part(["a", "b", "c"], {"a": 1.0, "b": -1.0, "x": 0.3})
    assert list(part) == pytest.approx([1.0, 0.0, 0.5])


def test_total_is_the_weighted_sum() -> None:
    parts = {"mood": np.array([1.0, 0.0]), "genre": np.array([0.0, 1.0])}
    assert list(total_score(parts, {"mood": 0.7, "genre": 0.3})) == pytest.approx([0.7, 0.3])


def test_labels_give_each_candidate_its_own_labels_value() -> None:
    labels = Labels.of(["pop", "rock", "pop", "", "rock"])
    assert list(labels.names) == ["pop", "rock", ""] and len(labels) == 5 and labels[3] == ""
    share = {"pop": 0.6, "rock": 0.3}
    got = labels.values(lambda v: share.get(v, 0.0) / 0.6)
    np.testing.assert_array_equal(got, [share.get(v, 0.0) / 0.6 for v in labels])
    assert Labels.of([]).values(lambda v: 1.0).shape == (0,)
