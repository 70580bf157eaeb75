"""Candidates from the FAISS index, then an explainable re-rank with diversity.

Score = weighted sum of parts, each in [0, 1], so a song's score can be read off its parts:

* ``mood``     — closeness of the song's audio features to the picture's target profile
                 (``exp(-d² / Σw)`` over robust-scaled, weighted features);
* ``genre``    — how strongly the picture's vibe points at the song's genre;
* ``text``     — CLIP similarity between the picture and "title — artist, genre / subgenre"
                 (only when the catalogue stores text embeddings for the loaded model);
* ``emotion``  — the reading's probability of the song's own emotion (DyLuMo's rule);
* ``popularity`` — a small prior so that, all else equal, known songs come first;
* ``liked``    — (only with ``lift``) closeness to the nearest song this listener liked;
* ``prior``    — (only with ``track_prior``) what all listeners said about the song, mapped
                 from [-1, 1] to [0, 1].

When ``liked`` or ``prior`` is used, every part weight is divided by the new total, so the
score stays in [0, 1] and the order of songs without feedback does not change.

Diversity uses maximal marginal relevance (Carbonell & Goldstein 1998) in the same feature
space, plus a cap on songs per artist, so ten results are ten different listens.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Track
from tunelens.core import vocab
from tunelens.core.audio import MOOD_FEATURES
from tunelens.core.types import AudioTarget, Reading, RecommendedTrack, TrackOut
from tunelens.explain.text import arousal_words
from tunelens.i18n import Translator
from tunelens.i18n import current as current_language
from tunelens.recommend.mapping import genre_profiles
from tunelens.vision.base import FloatArray

#: MMR similarity factor between songs of different vibe genres (1 = genre-blind)
CROSS_GENRE_SIMILARITY = 0.5
#: least number of catalogue songs of a genre before its mean replaces the documented prior
MIN_GENRE_TRACKS = 20
#: weight of the ``liked`` part (closeness to a song the listener liked) when ``lift`` is given
LIFT_WEIGHT = 0.15
#: most liked songs (most recent first) that lift a listener's results
MAX_LIFT_TRACKS = 50
#: weight of the ``prior`` part (all listeners' feedback on the song) when given
PRIOR_WEIGHT = 0.1


@dataclass(frozen=True)
class RankWeights:
    mood: float = 0.55
    genre: float = 0.2
    text: float = 0.1
    emotion: float = 0.1
    popularity: float = 0.05


@dataclass
class RecommenderConfig:
    candidates: int = 300
    max_per_artist: int = 2
    mmr_lambda: float = 0.8
    weights: RankWeights = field(default_factory=RankWeights)


def artist_key(name: str) -> str:
    """An artist name folded for comparison (case, accents, punctuation and spaces ignored)."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in folded if ch.isalnum())


def track_out(track: Track) -> TrackOut:
    return TrackOut(
        id=track.id,
        title=track.title,
        artist=track.artist,
        album=track.album,
        genre=track.genre,
        subgenre=track.subgenre,
        popularity=track.popularity,
        features={k: round(v, 4) for k, v in track.features.items()},
        emotion=track.dylumo_emotion(),
        links=dict(track.links),
    )


def _valence_words(valence: float, t: Translator) -> str:
    if valence > 0.3:
        return t.pgettext("scene valence", "bright, happy")
    if valence < -0.3:
        return t.pgettext("scene valence", "dark, sombre")
    return t.pgettext("scene valence", "bittersweet")


def _tempo_words(tempo: float, t: Translator) -> str:
    if tempo < 95:
        return t.pgettext("tempo", "slow")
    if tempo < 125:
        return t.pgettext("tempo", "mid-tempo")
    return t.pgettext("tempo", "up-tempo")


class Recommender:
    """Ranks catalogue songs for a reading; holds the per-genre profiles of its catalogue."""

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
        self.vibe_of_track = [vocab.genre_for_catalog_label(t.genre) for t in self.tracks]
        # per-track constants of the score, computed once: the 300 candidates of every request
        # would otherwise re-derive them (≈ 1 ms a request)
        self.emotion_of_track = [t.dylumo_emotion() or "" for t in self.tracks]
        self.popularity_of_track = np.array(
            [(t.popularity if t.popularity is not None else 50.0) / 100.0 for t in self.tracks],
            dtype=np.float64,
        )
        self.id_to_row = {t.id: i for i, t in enumerate(self.tracks)}
        self.profiles = genre_profiles(self._catalogue_genre_means())
        self._rows_by_artist: dict[str, list[int]] | None = None

    def rows_of_artists(self, artists: Collection[str]) -> set[int]:
        """Catalogue rows of every song by these artists (names compared by :func:`artist_key`)."""
        if self._rows_by_artist is None:
            by_artist: dict[str, list[int]] = {}
            for row, track in enumerate(self.tracks):
                by_artist.setdefault(artist_key(track.artist), []).append(row)
            self._rows_by_artist = by_artist
        rows: set[int] = set()
        for name in artists:
            rows.update(self._rows_by_artist.get(artist_key(name), ()))
        return rows

    def _catalogue_genre_means(self) -> dict[str, dict[str, float]]:
        sums: dict[str, dict[str, float]] = {}
        counts: dict[str, dict[str, int]] = {}
        for track, vibe in zip(self.tracks, self.vibe_of_track, strict=True):
            if vibe is None:
                continue
            for name in MOOD_FEATURES:
                if name in track.features:
                    sums.setdefault(vibe, {}).setdefault(name, 0.0)
                    counts.setdefault(vibe, {}).setdefault(name, 0)
                    sums[vibe][name] += track.features[name]
                    counts[vibe][name] += 1
        means: dict[str, dict[str, float]] = {}
        for vibe, per_feature in sums.items():
            means[vibe] = {
                name: total / counts[vibe][name]
                for name, total in per_feature.items()
                if counts[vibe][name] >= MIN_GENRE_TRACKS
            }
        return means

    def recommend(
        self,
        reading: Reading,
        target: AudioTarget,
        *,
        k: int = 10,
        image_embedding: FloatArray | None = None,
        exclude: Collection[str] = (),
        exclude_artists: Collection[str] = (),
        lift: Sequence[str] = (),
        track_prior: Mapping[str, float] | None = None,
    ) -> list[RecommendedTrack]:
        """Top ``k`` songs for one picture, best first, each with its parts and reasons.

        Feedback hooks (all optional; without them the ranking is unchanged): ``exclude`` and
        ``exclude_artists`` leave songs out; ``lift`` (liked track ids, most recent first)
        adds a ``liked`` part; ``track_prior`` (track id → [-1, 1]) adds a ``prior`` part.
        """
        feature_names = list(self.index.feature_names)
        target_vec = np.array([target.features[f] for f in feature_names], dtype=np.float32)
        excluded_rows = {self.id_to_row[i] for i in exclude if i in self.id_to_row}
        if exclude_artists:
            excluded_rows |= self.rows_of_artists(exclude_artists)
        want = min(len(self.tracks) - len(excluded_rows), max(self.config.candidates, k * 10))
        if want <= 0:
            return []
        rows, dist2 = self.index.search(target_vec, target.weights, want, exclude=excluded_rows)
        rows = rows[rows >= 0]
        dist2 = dist2[: len(rows)]
        if len(rows) == 0:
            return []
        weight_total = sum(target.weights.get(f, 0.0) for f in feature_names) or 1.0
        parts = self._parts(reading, rows, dist2, weight_total, image_embedding)
        weights = self.config.weights
        use_text = "text" in parts
        part_weights = {
            "mood": weights.mood + (0.0 if use_text else weights.text),
            "genre": weights.genre,
            "emotion": weights.emotion,
            "popularity": weights.popularity,
        }
        if use_text:
            part_weights["text"] = weights.text
        liked_rows = [self.id_to_row[i] for i in lift if i in self.id_to_row][:MAX_LIFT_TRACKS]
        if liked_rows:
            parts["liked"] = self._liked_part(rows, liked_rows, weight_total, target.weights)
            part_weights["liked"] = LIFT_WEIGHT
        if track_prior is not None:
            prior = np.array([float(track_prior.get(self.tracks[int(r)].id, 0.0)) for r in rows])
            parts["prior"] = (1.0 + np.clip(np.nan_to_num(prior), -1.0, 1.0)) / 2.0
            part_weights["prior"] = PRIOR_WEIGHT
        # shown scores are renormalised to [0, 1]; the ranking (MMR) sees the plain sum, so a
        # prior of 0 for every candidate leaves the order exactly as without feedback
        total = 1.0
        if liked_rows or track_prior is not None:
            total = sum(part_weights.values())
            part_weights = {name: w / total for name, w in part_weights.items()}
        score = np.zeros(len(rows))
        for name, weight in part_weights.items():
            score += weight * parts[name]
        chosen = self._diversify(rows, score * total, k, weight_total, target.weights)
        results = []
        for rank, pos in enumerate(chosen, start=1):
            row = int(rows[pos])
            track = self.tracks[row]
            weighted = {
                name: round(part_weights[name] * float(parts[name][pos]), 4)
                for name in part_weights
            }
            results.append(
                RecommendedTrack(
                    rank=rank,
                    score=round(float(score[pos]), 4),
                    parts=weighted,
                    reasons=self._reasons(reading, target, track, parts, pos),
                    track=track_out(track),
                )
            )
        return results

    def _parts(
        self,
        reading: Reading,
        rows: np.ndarray,
        dist2: np.ndarray,
        weight_total: float,
        image_embedding: FloatArray | None,
    ) -> dict[str, np.ndarray]:
        mood = np.exp(-np.maximum(dist2, 0.0) / weight_total)
        top_genre = max(reading.genres.values()) or 1.0
        # square root: a runner-up vibe still counts, so one genre cannot take all ten places
        genre = np.sqrt(
            np.array(
                [reading.genres.get(self.vibe_of_track[r] or "", 0.0) / top_genre for r in rows]
            )
        )
        top_emotion = max(reading.emotions.values()) or 1.0
        emotion = np.array(
            [reading.emotions.get(self.emotion_of_track[r], 0.0) / top_emotion for r in rows]
        )
        popularity = self.popularity_of_track[rows]
        parts = {"mood": mood, "genre": genre, "emotion": emotion, "popularity": popularity}
        if self.text_embeddings is not None and image_embedding is not None:
            sims = self.text_embeddings[rows] @ image_embedding.reshape(-1)
            spread = float(sims.std()) or 1.0
            z = (sims - float(sims.mean())) / spread
            parts["text"] = 1.0 / (1.0 + np.exp(-z))
        return parts

    def _liked_part(
        self,
        rows: np.ndarray,
        liked_rows: Sequence[int],
        weight_total: float,
        weights: dict[str, float],
    ) -> np.ndarray:
        """``exp(-d² / Σw)`` to the nearest liked song, in the same space as ``mood``."""
        scaled = self.index.scaled_features()
        w = np.sqrt(
            np.array([weights.get(f, 0.0) for f in self.index.feature_names], dtype=np.float32)
        )
        points = scaled[rows] * w
        liked = scaled[np.asarray(liked_rows)] * w
        d2 = ((points[:, None, :] - liked[None, :, :]) ** 2).sum(axis=2).min(axis=1)
        return np.asarray(np.exp(-np.nan_to_num(d2, nan=np.inf) / weight_total))

    def _diversify(
        self,
        rows: np.ndarray,
        score: np.ndarray,
        k: int,
        weight_total: float,
        weights: dict[str, float],
    ) -> list[int]:
        scaled = self.index.scaled_features()[rows]
        w = np.sqrt(
            np.array([weights.get(f, 0.0) for f in self.index.feature_names], dtype=np.float32)
        )
        points = scaled * w
        vibes = np.array([self.vibe_of_track[int(r)] or "" for r in rows])
        lam = self.config.mmr_lambda
        chosen: list[int] = []
        per_artist: dict[str, int] = {}
        max_sim = np.zeros(len(rows))
        available = np.ones(len(rows), dtype=bool)
        while len(chosen) < k and available.any():
            mmr = np.where(available, lam * score - (1 - lam) * max_sim, -np.inf)
            pos = int(np.argmax(mmr))
            available[pos] = False
            artist = artist_key(self.tracks[int(rows[pos])].artist)
            if per_artist.get(artist, 0) >= self.config.max_per_artist:
                continue
            per_artist[artist] = per_artist.get(artist, 0) + 1
            chosen.append(pos)
            d2 = ((points - points[pos]) ** 2).sum(axis=1)
            # songs of another vibe genre count as less similar, so the list mixes genres
            same_genre = vibes == vibes[pos]
            sim = np.exp(-d2 / weight_total) * np.where(same_genre, 1.0, CROSS_GENRE_SIMILARITY)
            max_sim = np.maximum(max_sim, sim)
        return chosen

    def _reasons(
        self,
        reading: Reading,
        target: AudioTarget,
        track: Track,
        parts: dict[str, np.ndarray],
        pos: int,
    ) -> list[str]:
        # in the current language (set per request by the engine: tunelens.i18n.use)
        t = current_language()
        reasons: list[str] = []
        if "liked" in parts and parts["liked"][pos] >= 0.6:
            reasons.append(t.gettext("close to songs you liked"))
        feats = track.features
        if "energy" in feats and "acousticness" in feats:
            texture = (
                t.pgettext("sound", "acoustic")
                if feats["acousticness"] >= 0.5
                else t.pgettext("sound", "electric")
            )
            tempo = feats.get("tempo")
            sound = (
                t.gettext("%(texture)s, %(tempo)s", texture=texture, tempo=_tempo_words(tempo, t))
                if tempo
                else texture
            )
            reasons.append(
                t.gettext(
                    "%(arousal)s, %(valence)s scene → %(sound)s (energy %(energy)s)",
                    arousal=arousal_words(reading.arousal, t),
                    valence=_valence_words(reading.valence, t),
                    sound=sound,
                    energy=t.decimal(feats["energy"]),
                )
            )
        if "valence" in feats and abs(feats["valence"] - target.features["valence"]) < 0.15:
            reasons.append(
                t.gettext(
                    "valence %(value)s suits a %(words)s picture",
                    value=t.decimal(feats["valence"]),
                    words=_valence_words(reading.valence, t),
                )
            )
        vibe = vocab.genre_for_catalog_label(track.genre)
        if vibe and parts["genre"][pos] >= 0.5:
            label = track.subgenre or track.genre
            if label and label != vibe:
                reasons.append(
                    t.gettext(
                        "vibe: %(genre)s (%(style)s)", genre=t.label("genre", vibe), style=label
                    )
                )
            else:
                reasons.append(t.gettext("vibe: %(genre)s", genre=t.label("genre", vibe)))
        if "text" in parts and parts["text"][pos] >= 0.75:
            scene = reading.scenes[0].name if reading.scenes else None
            reasons.append(
                t.gettext("matches “%(scene)s”", scene=t.label("scene", scene))
                if scene
                else t.gettext("its title and genre echo the picture")
            )
        emotion = track.dylumo_emotion()
        if emotion and emotion == reading.top_emotion:
            reasons.append(
                t.gettext(
                    "feels like %(emotion)s, like the picture", emotion=t.label("emotion", emotion)
                )
            )
        if not reasons:
            reasons.append(
                t.gettext(
                    "closest audio match (mood fit %(percent)s)",
                    percent=t.percent(float(parts["mood"][pos])),
                )
            )
        return reasons[:3]
