"""Candidates from the catalogue index, then an explainable re-rank with diversity.

The ranker holds what it derives once from its catalogue (the catalogue map the mapping reads
targets from: feature quantiles, genres present, their places and folds; and which songs are
over-exposed) and reads each candidate's vibe genre, emotion, popularity and artist from the
catalogue per request, so it holds nothing per song. It answers one question: which
``k`` songs fit this reading and target, under this listener's preferences. Each answer
carries its score and parts (:mod:`tunelens.recommend.scoring`); turning parts into words is
:mod:`tunelens.explain.reasons`' job, and building API answers is the pipeline's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import DYLUMO_EMOTIONS, Track, dylumo_emotion_codes
from tunelens.core import vocab
from tunelens.core.types import AudioTarget, Reading, ReadingScale
from tunelens.recommend.catalogue_map import CatalogueMap
from tunelens.recommend.diversity import Candidates, artist_key, diverse_pick, song_key
from tunelens.recommend.exposure import measure_exposure
from tunelens.recommend.mapping import mood_point
from tunelens.recommend.preferences import NO_PREFERENCES, Preferences
from tunelens.recommend.scoring import (
    CandidateFacts,
    Labels,
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
#: songs the catalogue map's quantiles and genre places are measured on (a spread sample)
STATS_SAMPLE = 200_000
#: distinct artist names whose folded key is remembered between requests
_ARTIST_KEYS_KEPT = 100_000


@dataclass(frozen=True)
class RecommenderConfig:
    candidates: int = 300
    #: most songs of one artist in one answer (``TUNELENS_MAX_PER_ARTIST``)
    max_per_artist: int = 2
    mmr_lambda: float = 0.8
    weights: RankWeights = field(default_factory=RankWeights)
    #: the reader's measured spread (``Reader.scale``): the genre part must place a reading
    #: among photos exactly as the mapping did, or it scores a different vibe from the one
    #: the target and the explanation were made from (people's spread when None)
    reading_scale: ReadingScale | None = None


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
        catalogue = index.catalogue
        self.tracks: Sequence[Track] = catalogue.tracks
        self.text_embeddings = text_embeddings
        self.config = config or RecommenderConfig()
        # No array with one entry per song: a song's vibe genre, popularity and artist are read
        # from the (mapped) catalogue for the few hundred candidates of a request, and derived
        # once per distinct value (a catalogue of ten million songs would otherwise hold
        # ~0.5 GB of per-song Python objects and 64-bit numbers, built at every start).
        self._vibe_of_genre: dict[str | None, str] = {}
        self._artist_keys: dict[str, str] = {}
        self._artist_codes: tuple[NDArray[np.int64], list[str | None]] | None = None
        #: the catalogue map :func:`~tunelens.recommend.mapping.target_profile` reads from
        # (its quantiles from a spread sample of a large catalogue: a percentile of 200,000
        # songs is within a tenth of a percentile of all of them)
        features, genres = _stats_sample(index)
        self.profiles = CatalogueMap.build(
            index.feature_names, features, self._vibes(genres), index.scaler.scale
        )
        #: which songs sit near many grid moods; each candidate's novelty follows from it
        self.exposure = measure_exposure(index, self.profiles)

    def track(self, track_id: str) -> Track | None:
        row = self.index.catalogue.row_of(track_id)
        return None if row is None else self.tracks[row]

    def vibes_of(self, rows: NDArray[np.int64]) -> list[str]:
        """Each row's vibe genre ("" when its catalogue genre names none)."""
        labels = self.vibe_labels(rows)
        return [labels.names[c] for c in labels.codes.tolist()]

    def vibe_labels(self, rows: NDArray[np.int64]) -> Labels:
        """Each row's vibe genre as :class:`Labels`: the rows' catalogue genres are coded by
        the catalogue, and each distinct genre's vibe is looked up once."""
        genre_codes, genres = self.index.catalogue.codes_of("genre", rows)
        per_genre = Labels.of(self._vibes(genres))
        return Labels(per_genre.codes[genre_codes], per_genre.names)

    def _vibes(self, genres: Sequence[str | None]) -> list[str]:
        out = []
        for genre in genres:
            vibe = self._vibe_of_genre.get(genre)
            if vibe is None:
                vibe = self._vibe_of_genre[genre] = vocab.genre_for_catalog_label(genre) or ""
            out.append(vibe)
        return out

    def popularity_of(self, rows: NDArray[np.int64]) -> NDArray[np.float64]:
        """Each row's popularity in [0, 1] (50 % when unknown)."""
        return np.nan_to_num(self.index.catalogue.popularity_of(rows), nan=50.0) / 100.0

    def artists_of(self, rows: NDArray[np.int64]) -> list[str]:
        """The :func:`artist_key` of each row's artist (each name folded once)."""
        return [self.artist_key_of(name) for name in self.index.catalogue.values_of("artist", rows)]

    def artist_key_of(self, name: str | None) -> str:
        """:func:`artist_key` of a catalogue artist name, remembered between requests."""
        keys = self._artist_keys
        text = name or ""
        key = keys.get(text)
        if key is None:
            if len(keys) > _ARTIST_KEYS_KEPT:
                keys.clear()
            key = keys[text] = artist_key(text)
        return key

    def artist_of(self, row: int) -> str:
        """The :func:`artist_key` of a row's artist."""
        return self.artists_of(np.array([row], dtype=np.int64))[0]

    def song_of(self, row: int) -> str:
        """The :func:`song_key` of a row: one song under any spelling of its title and artist."""
        return song_key(self.tracks[row].title, self.artist_of(row))

    def _songs_of(self, rows: NDArray[np.int64], artists: Sequence[str]) -> Callable[[int], str]:
        """:meth:`song_of` by candidate position, for the candidates MMR picks: their titles
        read from the catalogue in one go at the first pick (not a whole track per pick), and
        ``artists`` (their :meth:`artists_of`) as they are."""
        titles: list[str | None] = []

        def song_of(pos: int) -> str:
            if not titles:
                titles.extend(self.index.catalogue.values_of("title", rows))
            return song_key(titles[pos] or "", artists[pos])

        return song_of

    def rows_of_artists(self, artists: Collection[str]) -> set[int]:
        """Catalogue rows of every song by these artists (names compared by :func:`artist_key`).

        The first call codes every row's artist (kept: one small integer per song); a
        catalogue whose listeners never exclude an artist never pays for it."""
        if self._artist_codes is None:
            self._artist_codes = self.index.catalogue.codes("artist")
        codes, names = self._artist_codes
        wanted = {artist_key(name) for name in artists}
        chosen = [i for i, name in enumerate(names) if artist_key(name or "") in wanted]
        return {int(r) for r in np.flatnonzero(np.isin(codes, chosen))}

    def _rows_of_ids(self, ids: Collection[str]) -> list[int]:
        rows = (self.index.catalogue.row_of(i) for i in ids)
        return [r for r in rows if r is not None]

    def _weighted_points(self, rows: NDArray[np.int64], target: AudioTarget) -> NDArray[np.float32]:
        """The rows' scaled features times √weight: the space of the mood score and of MMR."""
        names = self.index.feature_names
        w = np.sqrt(np.array([target.weights.get(f, 0.0) for f in names], dtype=np.float32))
        return np.asarray(self.index.scaled_rows(rows) * w, dtype=np.float32)

    def _excluded_rows(self, preferences: Preferences) -> set[int]:
        rows = set(self._rows_of_ids(preferences.exclude))
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
        want = min(self.index.live_count - len(excluded), max(self.config.candidates, k * 10))
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
        point = mood_point(reading, self.profiles, self.config.reading_scale)
        genres = dict(point.genres or {})
        vibes = self.vibe_labels(rows)
        parts = self._parts(reading, (rows, vibes), (distances, spread), genres, image_embedding)
        points = self._weighted_points(rows, target)
        self._feedback_parts(parts, rows, points, preferences, target)
        weights, undo = part_weights(self.config.weights, parts, point.genre_mass)
        score = total_score(parts, weights)
        artists = _ArtistKeys(self, self.index.catalogue.values_of("artist", rows))
        chosen = diverse_pick(
            Candidates(
                score=score * undo,
                points=points,
                vibes=vibes.codes,
                artists=artists,
                song_of=self._songs_of(rows, artists),
            ),
            k,
            mmr_lambda=self.config.mmr_lambda,
            max_per_artist=self.config.max_per_artist,
            spread=spread,
        )
        scored = _Scored(rows=rows, parts=parts, weights=weights, score=score)
        # only the answer's songs become tracks, read from the catalogue together
        tracks = self.index.catalogue.tracks_of(rows[chosen])
        return [
            self._ranked(rank, pos, scored, track)
            for rank, (pos, track) in enumerate(zip(chosen, tracks, strict=True), 1)
        ]

    def _parts(
        self,
        reading: Reading,
        candidates: tuple[NDArray[np.int64], Labels],
        distance: tuple[NDArray[np.float64], float],
        genres: dict[str, float],
        image_embedding: FloatArray | None,
    ) -> Parts:
        """Every candidate's parts; ``candidates`` is (rows, their vibe genres), ``distance``
        (squared weighted distances, Σ weights)."""
        rows, vibes = candidates
        facts = CandidateFacts(
            vibes=vibes,
            emotions=Labels(
                dylumo_emotion_codes(self.index.catalogue.feature_rows(rows)), DYLUMO_EMOTIONS
            ),
            popularity=self.popularity_of(rows),
            novelty=self.exposure.novelty(rows),
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
        liked = self._rows_of_ids(preferences.lift)
        spread = sum(target.weights.get(f, 0.0) for f in self.index.feature_names) or 1.0
        if liked:
            liked_points = self._weighted_points(np.asarray(liked[:MAX_LIFT_TRACKS]), target)
            parts["liked"] = nearest_liked_part(points, liked_points, spread)
        if preferences.track_prior is not None:
            ids = self.index.catalogue.ids_of(rows)
            parts["prior"] = prior_part(ids, preferences.track_prior)

    def _ranked(self, rank: int, pos: int, scored: _Scored, track: Track) -> RankedSong:
        """The candidate at ``pos`` (whose track is ``track``) as the ``rank``-th song."""
        return RankedSong(
            rank=rank,
            score=round(float(scored.score[pos]), 4),
            parts={
                name: round(w * float(scored.parts[name][pos]), 4)
                for name, w in scored.weights.items()
            },
            part_values={name: float(values[pos]) for name, values in scored.parts.items()},
            track=track,
        )


class _ArtistKeys(Sequence[str]):
    """The candidates' :func:`artist_key`, folded only for the candidates MMR asks about (a
    dozen of the few hundred), from their names read in one go."""

    def __init__(self, ranker: Recommender, names: list[str | None]) -> None:
        self._ranker = ranker
        self._names = names

    def __len__(self) -> int:
        return len(self._names)

    def __getitem__(self, pos: Any) -> Any:
        if isinstance(pos, slice):
            return [self._ranker.artist_key_of(name) for name in self._names[pos]]
        return self._ranker.artist_key_of(self._names[pos])


def _stats_sample(index: CatalogueIndex) -> tuple[FloatArray, list[str | None]]:
    """Raw features and catalogue genres of the spread sample the catalogue map is measured on.

    Kept beside a stored catalogue (:meth:`CatalogueIndex.derived`): at ten million songs the
    200,000 scattered rows lie on most pages of the feature column, so reading them at every
    start would cost seconds and ~0.5 GB of resident pages."""

    def compute() -> dict[str, NDArray[Any]]:
        rows = index.sample_rows(STATS_SAMPLE)
        genres = index.catalogue.values_of("genre", rows)
        names = sorted({g for g in genres if g is not None})
        code = {g: i for i, g in enumerate(names)}
        return {
            "features": index.raw_rows(rows),
            "genre_codes": np.array([code.get(g, -1) for g in genres], dtype=np.int32),  # type: ignore[arg-type]
            "genres": np.array(names, dtype=str),
        }

    inputs = json.dumps({"sample": STATS_SAMPLE, "features": index.feature_names}).encode()
    found = index.derived("stats_sample", inputs, compute)
    names: list[str | None] = [*(str(g) for g in found["genres"]), None]
    return found["features"], [names[int(c)] for c in found["genre_codes"]]
