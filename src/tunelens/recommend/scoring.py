"""The parts of a song's score, each in [0, 1], so a score can be read off its parts.

* ``mood``     — closeness of the song's audio features to the picture's target profile
                 (``exp(-d² / Σw)`` over robust-scaled, weighted features);
* ``genre``    — how strongly the picture's vibe points at the song's genre;
* ``text``     — CLIP similarity between the picture and "title — artist, genre / subgenre"
                 (only when the catalogue stores text embeddings for the loaded model);
* ``emotion``  — the reading's probability of the song's own emotion (DyLuMo's rule);
* ``popularity`` — a small prior so that, all else equal, known songs come first;
* ``liked``    — (only with liked songs) closeness to the nearest song this listener liked;
* ``prior``    — (only with priors) what all listeners said about the song, from [-1, 1] to
                 [0, 1].

When ``liked`` or ``prior`` is used, every part weight is divided by the new total, so the
shown score stays in [0, 1] and the order of songs without feedback does not change.
A new part is one function here plus one weight in :class:`RankWeights` (and, if it should
be named in reasons, one rule in :mod:`tunelens.explain.reasons`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tunelens.core.types import Reading
from tunelens.vision.base import FloatArray

Parts = dict[str, NDArray[np.float64]]

#: weight of the ``liked`` part (closeness to a song the listener liked)
LIFT_WEIGHT = 0.15
#: weight of the ``prior`` part (all listeners' feedback on the song)
PRIOR_WEIGHT = 0.1


@dataclass(frozen=True)
class RankWeights:
    mood: float = 0.55
    genre: float = 0.2
    text: float = 0.1
    emotion: float = 0.1
    popularity: float = 0.05


@dataclass(frozen=True)
class CandidateFacts:
    """What the score needs to know of each candidate, one entry per candidate row."""

    vibes: Sequence[str]
    emotions: Sequence[str]
    popularity: NDArray[np.float64]


def base_parts(
    reading: Reading,
    facts: CandidateFacts,
    dist2: NDArray[np.float64],
    spread: float,
) -> Parts:
    """The mood, genre, emotion and popularity parts of every candidate."""
    mood = np.exp(-np.maximum(dist2, 0.0) / spread)
    top_genre = max(reading.genres.values()) or 1.0
    # square root: a runner-up vibe still counts, so one genre cannot take all ten places
    genre = np.sqrt(np.array([reading.genres.get(v, 0.0) / top_genre for v in facts.vibes]))
    top_emotion = max(reading.emotions.values()) or 1.0
    emotion = np.array([reading.emotions.get(e, 0.0) / top_emotion for e in facts.emotions])
    return {"mood": mood, "genre": genre, "emotion": emotion, "popularity": facts.popularity}


def text_part(song_texts: FloatArray, image_embedding: FloatArray) -> NDArray[np.float64]:
    """Picture↔song-text similarity, z-scored over the candidates and squashed to (0, 1)."""
    sims = (song_texts @ image_embedding.reshape(-1)).astype(np.float64)
    spread = float(sims.std()) or 1.0
    z = (sims - float(sims.mean())) / spread
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def nearest_liked_part(
    points: NDArray[np.float32], liked: NDArray[np.float32], spread: float
) -> NDArray[np.float64]:
    """``exp(-d² / Σw)`` to the nearest liked song, in the same space as ``mood``."""
    d2 = ((points[:, None, :] - liked[None, :, :]) ** 2).sum(axis=2).min(axis=1)
    return np.asarray(np.exp(-np.nan_to_num(d2, nan=np.inf) / spread), dtype=np.float64)


def prior_part(ids: Sequence[str], prior: Mapping[str, float]) -> NDArray[np.float64]:
    """All listeners' prior of each candidate, from [-1, 1] to [0, 1] (unknown songs: 0.5)."""
    values = np.array([float(prior.get(i, 0.0)) for i in ids])
    return np.asarray((1.0 + np.clip(np.nan_to_num(values), -1.0, 1.0)) / 2.0)


def part_weights(weights: RankWeights, parts: Parts) -> tuple[dict[str, float], float]:
    """The weight of each part present, renormalised when feedback parts are used, and the
    factor that undoes the renormalisation (the ranking sees the plain sum, so a prior of 0
    for every candidate leaves the order exactly as without feedback)."""
    use_text = "text" in parts
    out = {
        "mood": weights.mood + (0.0 if use_text else weights.text),
        "genre": weights.genre,
        "emotion": weights.emotion,
        "popularity": weights.popularity,
    }
    if use_text:
        out["text"] = weights.text
    if "liked" in parts:
        out["liked"] = LIFT_WEIGHT
    if "prior" in parts:
        out["prior"] = PRIOR_WEIGHT
    if "liked" not in parts and "prior" not in parts:
        return out, 1.0
    total = sum(out.values())
    return {name: w / total for name, w in out.items()}, total


def total_score(parts: Parts, weights: Mapping[str, float]) -> NDArray[np.float64]:
    score = np.zeros(len(parts["mood"]))
    for name, weight in weights.items():
        score += weight * parts[name]
    return score
