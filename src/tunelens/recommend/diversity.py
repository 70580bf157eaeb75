"""Ten songs that are ten different listens: maximal marginal relevance plus an artist cap.

MMR (Carbonell & Goldstein 1998) picks, one at a time, the candidate with the best
``λ · score − (1 − λ) · similarity to the songs already picked``, in the same weighted feature
space the mood score uses. Songs of another vibe genre count as less similar, so the list
mixes genres; no artist appears more than ``max_per_artist`` times, and no song twice: the
same title by the same artist under another spelling ("Delícia" and "Delicia", "Don't Stop"
and "Dont stop") is one song, so a catalogue that lists both never fills two places with it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: MMR similarity factor between songs of different vibe genres (1 = genre-blind)
CROSS_GENRE_SIMILARITY = 0.5


def artist_key(name: str) -> str:
    """An artist name folded for comparison (case, accents, punctuation and spaces ignored)."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in folded if ch.isalnum())


def song_key(title: str, artist: str) -> str:
    """A song folded for comparison: its title and artist, each folded like :func:`artist_key`
    (case, accents, punctuation and spaces ignored)."""
    return f"{artist_key(title)}\x1f{artist_key(artist)}"


@dataclass(frozen=True)
class Candidates:
    """The songs a diverse pick chooses from, in one order (one row each)."""

    #: relevance of each candidate (higher is better)
    score: NDArray[np.float64]
    #: each candidate's point in the weighted, scaled feature space
    points: NDArray[np.float32]
    #: each candidate's vibe genre ("" when unknown), or a code standing for it (equal codes:
    #: the same vibe genre)
    vibes: NDArray[np.str_] | NDArray[np.intp]
    #: each candidate's folded artist name (:func:`artist_key`)
    artists: Sequence[str]
    #: a candidate position's folded title and artist (:func:`song_key`), asked only of the
    #: candidates MMR picks; None: every candidate is a song of its own
    song_of: Callable[[int], str] | None = None


def diverse_pick(
    candidates: Candidates, k: int, *, mmr_lambda: float, max_per_artist: int, spread: float
) -> list[int]:
    """Positions of up to ``k`` candidates chosen by MMR under the artist cap, highest score
    first; a candidate whose :func:`song_key` is already chosen is skipped.

    MMR decides *which* songs make the list; their relevance score decides the order, so a
    song's place always follows the score shown with it (an MMR-penalised song is never ranked
    above one that scores higher). ``spread`` is the similarity scale (the mood score's local
    scale, :func:`tunelens.recommend.scoring.local_scale`).
    """
    n = len(candidates.score)
    chosen: list[int] = []
    per_artist: dict[str, int] = {}
    seen_songs: set[str] = set()
    max_sim = np.zeros(n)
    available = np.ones(n, dtype=bool)
    relevance = mmr_lambda * candidates.score
    # the MMR value of every candidate, -inf once tried; recomputed only when a pick changes
    # the similarities (a candidate refused by the artist cap or as a repeat changes nothing)
    mmr = relevance.copy()
    while len(chosen) < k and available.any():
        pos = int(np.argmax(mmr))
        available[pos] = False
        mmr[pos] = -np.inf
        artist = candidates.artists[pos]
        song = candidates.song_of(pos) if candidates.song_of is not None else None
        if per_artist.get(artist, 0) >= max_per_artist or song in seen_songs:
            continue
        per_artist[artist] = per_artist.get(artist, 0) + 1
        if song is not None:
            seen_songs.add(song)
        chosen.append(pos)
        if len(chosen) == k:
            break  # no pick follows: the last similarities would never be read
        d2 = ((candidates.points - candidates.points[pos]) ** 2).sum(axis=1)
        same_genre = candidates.vibes == candidates.vibes[pos]
        sim = np.exp(-d2 / spread) * np.where(same_genre, 1.0, CROSS_GENRE_SIMILARITY)
        max_sim = np.maximum(max_sim, sim)
        mmr = np.where(available, relevance - (1 - mmr_lambda) * max_sim, -np.inf)
    # stable: equal scores keep their MMR order
    return sorted(chosen, key=lambda pos: -float(candidates.score[pos]))
