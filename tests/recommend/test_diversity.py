"""MMR diversity and the per-artist cap, on hand-made candidates whose answer is known."""

from __future__ import annotations

import numpy as np

from tunelens.recommend.diversity import Candidates, artist_key, diverse_pick, song_key


def _candidates(score: list[float], points: list[list[float]], artists: list[str]) -> Candidates:
    return Candidates(
        score=np.array(score, dtype=np.float64),
        points=np.array(points, dtype=np.float32),
        vibes=np.array(["pop"] * len(score)),
        artists=[artist_key(a) for a in artists],
    )


def test_pure_relevance_keeps_the_score_order() -> None:
    c = _candidates([0.9, 0.8, 0.7], [[0, 0], [0, 0], [0, 0]], ["a", "b", "c"])
    assert diverse_pick(c, 3, mmr_lambda=1.0, max_per_artist=3, spread=1.0) == [0, 1, 2]


def test_mmr_skips_a_near_duplicate_for_a_different_song() -> None:
    # 1 sits on top of 0; 2 is a little less relevant but far away
    c = _candidates([0.9, 0.89, 0.8], [[0, 0], [0, 0.01], [5, 5]], ["a", "b", "c"])
    assert diverse_pick(c, 2, mmr_lambda=0.5, max_per_artist=3, spread=1.0) == [0, 2]
    assert diverse_pick(c, 2, mmr_lambda=1.0, max_per_artist=3, spread=1.0) == [0, 1]


def test_the_artist_cap_counts_folded_names() -> None:
    c = _candidates(
        [0.9, 0.8, 0.7, 0.6], [[0, 0], [1, 1], [2, 2], [3, 3]], ["Björk", "BJORK", "björk!", "x"]
    )
    assert diverse_pick(c, 4, mmr_lambda=1.0, max_per_artist=1, spread=1.0) == [0, 3]
    assert diverse_pick(c, 4, mmr_lambda=1.0, max_per_artist=2, spread=1.0) == [0, 1, 3]


def test_ties_resolve_to_the_earlier_candidate() -> None:
    c = _candidates([0.5, 0.5, 0.5], [[0, 0], [3, 3], [6, 6]], ["a", "b", "c"])
    assert diverse_pick(c, 1, mmr_lambda=0.8, max_per_artist=2, spread=1.0) == [0]


def test_fewer_candidates_than_asked() -> None:
    c = _candidates([0.3], [[0, 0]], ["a"])
    assert diverse_pick(c, 10, mmr_lambda=0.8, max_per_artist=2, spread=1.0) == [0]


def test_mmr_chooses_the_songs_and_the_score_orders_them() -> None:
    # 0 and 1 sit together; MMR picks 0, then the distant 3, then 1 (its penalty fades once
    # nothing closer is left) — but the list shown is in score order, so ranks follow scores
    c = _candidates(
        [0.9, 0.88, 0.5, 0.6], [[0, 0], [0, 0.01], [0, 0.02], [5, 5]], ["a", "b", "c", "d"]
    )
    picked = diverse_pick(c, 3, mmr_lambda=0.5, max_per_artist=3, spread=1.0)
    assert set(picked) == {0, 1, 3}
    assert picked == [0, 1, 3]
    scores = [c.score[i] for i in picked]
    assert scores == sorted(scores, reverse=True)


def test_song_key_folds_accents_case_and_punctuation() -> None:
    assert song_key("Delícia", "Nando Reis") == song_key("DELICIA", "nando reis")
    assert song_key("Don't Stop!", "Fleetwood Mac") == song_key("dont stop", "Fleetwood-Mac")
    assert song_key("Delícia", "Nando Reis") != song_key("Delícia", "Other Artist")
    assert song_key("Delícia", "Nando Reis") != song_key("Delírio", "Nando Reis")


def test_the_same_song_under_two_spellings_fills_one_place() -> None:
    spellings = [
        ("Delícia", "Nando Reis"),
        ("Delicia", "nando reis"),
        ("All Star", "Nando Reis"),
        ("Delicia", "X"),
    ]
    c = Candidates(
        score=np.array([0.9, 0.85, 0.8, 0.7]),
        points=np.array([[0, 0], [0, 0.1], [4, 4], [8, 8]], dtype=np.float32),
        vibes=np.array(["pop"] * 4),
        artists=[artist_key(a) for a in ("Nando Reis", "nando reis", "Nando Reis", "X")],
        song_of=lambda pos: song_key(*spellings[pos]),
    )
    picked = diverse_pick(c, 4, mmr_lambda=1.0, max_per_artist=3, spread=1.0)
    assert picked == [0, 2, 3]
    # without song keys the two spellings would both be listed
    plain = Candidates(c.score, c.points, c.vibes, c.artists)
    assert diverse_pick(plain, 4, mmr_lambda=1.0, max_per_artist=3, spread=1.0) == [0, 1, 2, 3]


def test_vibe_codes_pick_as_vibe_names_do() -> None:
    names = np.array(["pop", "rock", "pop", "", "rock", "pop"])
    codes = np.array([0, 1, 0, 2, 1, 0], dtype=np.intp)
    score = np.array([0.9, 0.85, 0.84, 0.8, 0.7, 0.6])
    points = np.array([[0, 0], [0, 0.1], [0.1, 0], [1, 1], [0.2, 0.1], [0, 0.3]], np.float32)
    artists = ["a", "b", "c", "d", "e", "f"]
    picks = [
        diverse_pick(
            Candidates(score, points, vibes, artists),
            4,
            mmr_lambda=0.5,
            max_per_artist=2,
            spread=0.05,
        )
        for vibes in (names, codes)
    ]
    assert picks[0] == picks[1] and len(picks[0]) == 4
