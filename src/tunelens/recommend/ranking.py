"""Candidates from the catalogue index, then an explainable re-rank with diversity.

The ranker holds what it derives once from its catalogue (each song's vibe genre, emotion,
popularity and novelty, and the catalogue map the mapping reads targets from: feature
quantiles, genres present, their places and folds) and answers one question: which
``k`` songs fit this reading and target, under this listener's preferences. Each answer
carries its score and parts (:mod:`tunelens.recommend.scoring`); turning parts into words is
:mod:`tunelens.explain.reasons`' job, and building API answers is the pipeline's.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Track
from tunelens.core import vocab
from tunelens.core.types import AudioTarget, Reading
from tunelens.recommend.catalogue_map import CatalogueMap
from tunelens.recommend.diversity import Candidates, artist_key, diverse_pick
from tunelens.recommend.exposure import hub_counts, novelty
from tunelens.recommend.mapping import mood_point
from tunelens.recommend.preferences import NO_PREFERENCES, Preferences
from tunelens.recommend.scoring import (
    CandidateFacts,
    Parts,
    RankWeights,
    base_parts,
    local_scale,
    nearest_liked_part,
    part_weights,
    prior_part,
    text_part,
    total_score,
)
from tunelens.vision.base import FloatArray

#: most liked songs (most recent first) that lift a listener's results
MAX_LIFT_TRACKS = 50


@dataclass(frozen=True)
class RecommenderConfig:
    candidates: int = 300
    #: most songs of one artist in one answer (``TUNELENS_MAX_PER_ARTIST``)
    max_per_artist: int = 2
    mmr_lambda: float = 0.8
    weights: RankWeights = field(default_factory=RankWeights)


@dataclass(frozen=True)
class _Scored:
    """The candidates of one answer once scored: their catalogue rows, each part's values, the
    weights the parts were added with, and the total scores (all in candidate order)."""

    rows: NDArray[np.int64]
    parts: Parts
    weights: dict[str, float]
    score: NDArray[np.float64]


@dataclass(frozen=True)
class RankedSong:
    """One song of an answer: its place, score, weighted parts and the unweighted parts the
    reasons are written from."""

    rank: int
    score: float
    #: the weighted parts, which add up to ``score``
    parts: dict[str, float]
    #: each part's own value in [0, 1], before weighting
    part_values: dict[str, float]
    track: Track


class Recommender:
    """Ranks catalogue songs for a reading; holds its catalogue map and each song's novelty."""

    def __init__(
        self,
        index: CatalogueIndex,
        *,
        text_embeddings: FloatArray | None = None,
        config: RecommenderConfig | None = None,
    ) -> None:
        self.index = index
        self.tracks: list[Track] = list(index.catalogue.tracks)
        self.text_embeddings = text_embeddings
        self.config = config or RecommenderConfig()
        self.vibe_of_track = [vocab.genre_for_catalog_label(t.genre) or "" for t in self.tracks]
        # per-track constants of the score, computed once: the 300 candidates of every request
        # would otherwise re-derive them (≈ 1 ms a request)
        self.emotion_of_track = [t.dylumo_emotion() or "" for t in self.tracks]
        self.popularity_of_track = np.array(
            [(t.popularity if t.popularity is not None else 50.0) / 100.0 for t in self.tracks],
            dtype=np.float64,
        )
        self.artist_of_track = [artist_key(t.artist) for t in self.tracks]
        self.id_to_row = {t.id: i for i, t in enumerate(self.tracks)}
        #: the catalogue map :func:`~tunelens.recommend.mapping.target_profile` reads from
        self.profiles = CatalogueMap.build(
            index.feature_names, index.raw_features(), self.vibe_of_track, index.scaler.scale
        )
        #: how many grid moods each song is near, and the novelty that follows from it
        self.hub_counts = hub_counts(index, self.profiles)
        self.novelty_of_track = novelty(self.hub_counts)
        self._rows_by_artist: dict[str, list[int]] | None = None

    def track(self, track_id: str) -> Track | None:
        row = self.id_to_row.get(track_id)
        return None if row is None else self.tracks[row]

    def rows_of_artists(self, artists: Collection[str]) -> set[int]:
        """Catalogue rows of every song by these artists (names compared by :func:`artist_key`)."""
        if self._rows_by_artist is None:
            by_artist: dict[str, list[int]] = {}
            for row, key in enumerate(self.artist_of_track):
                by_artist.setdefault(key, []).append(row)
            self._rows_by_artist = by_artist
        rows: set[int] = set()
        for name in artists:
            rows.update(self._rows_by_artist.get(artist_key(name), ()))
        return rows

    def _weighted_points(self, rows: NDArray[np.int64], target: AudioTarget) -> NDArray[np.float32]:
        """The rows' scaled features times √weight: the space of the mood score and of MMR."""
        names = self.index.feature_names
        w = np.sqrt(np.array([target.weights.get(f, 0.0) for f in names], dtype=np.float32))
        return np.asarray(self.index.scaled_features()[rows] * w, dtype=np.float32)

    def _excluded_rows(self, preferences: Preferences) -> set[int]:
        rows = {self.id_to_row[i] for i in preferences.exclude if i in self.id_to_row}
        if preferences.exclude_artists:
            rows |= self.rows_of_artists(preferences.exclude_artists)
        return rows

    def recommend(
        self,
        reading: Reading,
        target: AudioTarget,
        *,
        k: int = 10,
        image_embedding: FloatArray | None = None,
        preferences: Preferences = NO_PREFERENCES,
    ) -> list[RankedSong]:
        """Top ``k`` songs for one picture, best first, each with its score and parts.

        ``preferences`` (optional; without them the ranking is unchanged) leaves songs and
        artists out, lifts songs close to liked ones and adds all listeners' priors.
        """
        excluded = self._excluded_rows(preferences)
        want = min(len(self.tracks) - len(excluded), max(self.config.candidates, k * 10))
        if want <= 0:
            return []
        names = list(self.index.feature_names)
        target_vec = np.array([target.features[f] for f in names], dtype=np.float32)
        rows, dist2 = self.index.search(target_vec, target.weights, want, exclude=excluded)
        rows = rows[rows >= 0]
        if len(rows) == 0:
            return []
        distances = np.asarray(dist2[: len(rows)], dtype=np.float64)
        spread = local_scale(distances, k)
        point = mood_point(reading, self.profiles)
        genres = dict(point.genres or {})
        parts = self._parts(reading, rows, (distances, spread), genres, image_embedding)
        points = self._weighted_points(rows, target)
        self._feedback_parts(parts, rows, points, preferences, target)
        weights, undo = part_weights(self.config.weights, parts, point.genre_mass)
        score = total_score(parts, weights)
        chosen = diverse_pick(
            Candidates(
                score=score * undo,
                points=points,
                vibes=np.array([self.vibe_of_track[int(r)] for r in rows]),
                artists=[self.artist_of_track[int(r)] for r in rows],
            ),
            k,
            mmr_lambda=self.config.mmr_lambda,
            max_per_artist=self.config.max_per_artist,
            spread=spread,
        )
        scored = _Scored(rows=rows, parts=parts, weights=weights, score=score)
        return [self._ranked(rank, pos, scored) for rank, pos in enumerate(chosen, 1)]

    def _parts(
        self,
        reading: Reading,
        rows: NDArray[np.int64],
        distance: tuple[NDArray[np.float64], float],
        genres: dict[str, float],
        image_embedding: FloatArray | None,
    ) -> Parts:
        """Every candidate's parts; ``distance`` is (squared weighted distances, Σ weights)."""
        facts = CandidateFacts(
            vibes=[self.vibe_of_track[int(r)] for r in rows],
            emotions=[self.emotion_of_track[int(r)] for r in rows],
            popularity=self.popularity_of_track[rows],
            novelty=self.novelty_of_track[rows],
        )
        parts = base_parts(reading, facts, distance[0], distance[1], genres)
        if self.text_embeddings is not None and image_embedding is not None:
            parts["text"] = text_part(self.text_embeddings[rows], image_embedding)
        return parts

    def _feedback_parts(
        self,
        parts: Parts,
        rows: NDArray[np.int64],
        points: NDArray[np.float32],
        preferences: Preferences,
        target: AudioTarget,
    ) -> None:
        liked = [self.id_to_row[i] for i in preferences.lift if i in self.id_to_row]
        spread = sum(target.weights.get(f, 0.0) for f in self.index.feature_names) or 1.0
        if liked:
            liked_points = self._weighted_points(np.asarray(liked[:MAX_LIFT_TRACKS]), target)
            parts["liked"] = nearest_liked_part(points, liked_points, spread)
        if preferences.track_prior is not None:
            ids = [self.tracks[int(r)].id for r in rows]
            parts["prior"] = prior_part(ids, preferences.track_prior)

    def _ranked(self, rank: int, pos: int, scored: _Scored) -> RankedSong:
        """The candidate at ``pos`` as the ``rank``-th song of the answer."""
        return RankedSong(
            rank=rank,
            score=round(float(scored.score[pos]), 4),
            parts={
                name: round(w * float(scored.parts[name][pos]), 4)
                for name, w in scored.weights.items()
            },
            part_values={name: float(values[pos]) for name, values in scored.parts.items()},
            track=self.tracks[int(scored.rows[pos])],
        )
