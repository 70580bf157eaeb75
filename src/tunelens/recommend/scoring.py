"""The parts of a song's score, each in [0, 1], so a score can be read off its parts.

* ``mood``     — closeness of the song's audio features to the picture's target profile:
                 ``exp(-d² / d²_ref)`` over robust-scaled, weighted features, where ``d²_ref``
                 is the distance of the answer's ``LOCAL_RANK × k``-th nearest song (local
                 scaling), so the part tells the nearest songs apart in dense and sparse
                 regions of the catalogue alike;
* ``genre``    — how strongly the picture's vibe points at the song's genre (the vibe folded
                 onto the catalogue's own genres; its weight shrinks with the share of the
                 vibe the catalogue kept, see :mod:`tunelens.recommend.catalogue_map`);
* ``text``     — CLIP similarity between the picture and "title — artist, genre / subgenre"
                 (only when the catalogue stores text embeddings for the loaded model);
* ``emotion``  — the reading's probability of the song's own emotion (DyLuMo's rule);
* ``popularity`` — a small prior so that, all else equal, known songs come first;
* ``novelty``  — how rarely the song sits near a mood in this catalogue (1 = rarely, 0 = a hub
                 near very many moods), so over-exposed songs do not fill every answer
                 (:mod:`tunelens.recommend.exposure`);
* ``liked``    — (only with liked songs) closeness to the nearest song this listener liked;
* ``prior``    — (only with priors) what all listeners said about the song, from [-1, 1] to
                 [0, 1].

When ``liked`` or ``prior`` is used, every part weight is divided by the new total, so the
shown score stays in [0, 1] and the order of songs without feedback does not change.
A new part is one function here plus one weight in :class:`RankWeights` (and, if it should
be named in reasons, one rule in :mod:`tunelens.explain.reasons`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tunelens.core.types import Reading
from tunelens.vision.base import FloatArray

Parts = dict[str, NDArray[np.float64]]

#: the mood part's scale is the squared distance of the (LOCAL_RANK × k)-th nearest candidate
LOCAL_RANK = 2
#: the least local scale, in squared weighted spreads (a catalogue of many identical songs)
MIN_LOCAL_SCALE = 0.01

#: weight of the ``liked`` part (closeness to a song the listener liked)
LIFT_WEIGHT = 0.15
#: weight of the ``prior`` part (all listeners' feedback on the song)
PRIOR_WEIGHT = 0.1


@dataclass(frozen=True)
class RankWeights:
    """The weight of each part (they add up to 1; see docs/mapping.md §5). Genre and emotion
    are small because for a reader without content (colour) both are functions of valence and
    arousal, which the mood part already measures; novelty is large enough to move a hub
    below a song that fits about as well, not below one that fits clearly better."""

    mood: float = 0.55
    genre: float = 0.1
    text: float = 0.1
    emotion: float = 0.05
    popularity: float = 0.05
    novelty: float = 0.15


@dataclass(frozen=True)
class Labels:
    """One text label per candidate (its vibe genre, its emotion) as a code into the few
    distinct names among the candidates: a part is worked out once per distinct name (a few
    dozen genres, eight emotions) rather than once per candidate."""

    codes: NDArray[np.intp]
    names: Sequence[str]

    @classmethod
    def of(cls, values: Iterable[str]) -> Labels:
        """Plain labels, coded in order of first appearance."""
        seen: dict[str, int] = {}
        codes = [seen.setdefault(value, len(seen)) for value in values]
        return cls(np.array(codes, dtype=np.intp), list(seen))

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, pos: int) -> str:
        return self.names[int(self.codes[pos])]

    def values(self, value_of: Callable[[str], float]) -> NDArray[np.float64]:
        """``value_of(label)`` of every candidate, each distinct label's value worked out once."""
        per_name = np.array([value_of(name) for name in self.names], dtype=np.float64)
        return np.asarray(per_name[self.codes], dtype=np.float64)


@dataclass(frozen=True)
class CandidateFacts:
    """What the score needs to know of each candidate, one entry per candidate row."""

    vibes: Labels
    emotions: Labels
    popularity: NDArray[np.float64]
    #: each candidate's novelty in [0, 1] (None: not measured, no novelty part)
    novelty: NDArray[np.float64] | None = None


def base_parts(
    reading: Reading,
    facts: CandidateFacts,
    dist2: NDArray[np.float64],
    spread: float,
    genres: Mapping[str, float] | None = None,
) -> Parts:
    """The mood, genre, emotion, popularity (and novelty) parts of every candidate.

    ``genres`` is the picture's vibe over the catalogue's genres (default: the reading's own
    genres); when it is empty there is no genre part."""
    mood = np.exp(-np.maximum(dist2, 0.0) / spread)
    vibe = reading.genres if genres is None else genres
    parts: Parts = {"mood": mood}
    top_genre = max(vibe.values(), default=0.0)
    if top_genre > 0:
        # square root: a runner-up vibe still counts, so one genre cannot take all ten places
        parts["genre"] = np.sqrt(facts.vibes.values(lambda v: vibe.get(v, 0.0) / top_genre))
    top_emotion = max(reading.emotions.values()) or 1.0
    parts["emotion"] = facts.emotions.values(lambda e: reading.emotions.get(e, 0.0) / top_emotion)
    parts["popularity"] = facts.popularity
    if facts.novelty is not None:
        parts["novelty"] = facts.novelty
    return parts


def local_scale(dist2: NDArray[np.float64], k: int) -> float:
    """``d²_ref``: the squared distance of the (LOCAL_RANK × k)-th nearest candidate (the last
    one when there are fewer), never below MIN_LOCAL_SCALE. ``dist2`` is sorted, nearest
    first. Scaling by the local density (Zelnik-Manor & Perona 2004) keeps the mood part
    discriminating: with a fixed scale the 300 candidates all scored 0.93–0.96 and the
    other parts decided the pick."""
    if len(dist2) == 0:
        return 1.0
    ref = float(dist2[min(len(dist2), LOCAL_RANK * max(1, k)) - 1])
    return max(ref, MIN_LOCAL_SCALE)


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


def part_weights(
    weights: RankWeights, parts: Parts, genre_mass: float = 1.0
) -> tuple[dict[str, float], float]:
    """The weight of each part present, renormalised when feedback parts are used, and the
    factor that undoes the renormalisation (the ranking sees the plain sum, so a prior of 0
    for every candidate leaves the order exactly as without feedback).

    The genre part weighs ``genre × genre_mass`` (the share of the picture's vibe the
    catalogue has genres for); whatever text, genre or novelty do not use goes to mood."""
    optional = {
        "text": weights.text,
        "genre": weights.genre * min(1.0, max(0.0, genre_mass)),
        "novelty": weights.novelty,
    }
    unused = weights.text + weights.genre + weights.novelty
    out = {"mood": weights.mood, "emotion": weights.emotion, "popularity": weights.popularity}
    for name, weight in optional.items():
        if name in parts:
            out[name] = weight
            unused -= weight
    out["mood"] += unused
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
