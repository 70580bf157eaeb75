"""More like this: steer a picture's reading and target profile towards one chosen song.

A listener who picks a song from a picture's list says "this one, but keep the picture's mood".
So the new target is a blend, not the song alone:

* audio target: ``(1 - SEED_SHARE) · picture target + SEED_SHARE · song features`` for each
  mood feature the song has (features it lacks keep the picture's value);
* vibe genres: ``(1 - GENRE_SHARE) · picture genres + GENRE_SHARE · one-hot(song's genre)``;
* emotions: the same blend towards the song's own emotion (DyLuMo's rule).

The recommender then ranks as usual (same parts, same diversity), excluding the seed and
every id already shown. Without a picture (only a track id), a stand-in reading is built from
the song itself — its valence and energy placed on the circumplex.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tunelens.catalogue.models import Track
from tunelens.core import vocab
from tunelens.core.errors import InvalidRequest
from tunelens.core.types import (
    AudioTarget,
    ColourSummary,
    EncoderInfo,
    Reading,
    RecommendedTrack,
    TrackOut,
)
from tunelens.i18n import current as current_language
from tunelens.i18n import use as use_language
from tunelens.reading.reader import EMOTION_KERNEL, GENRE_KERNEL, circumplex_probabilities
from tunelens.recommend.mapping import target_profile
from tunelens.recommend.ranking import track_out

if TYPE_CHECKING:
    from tunelens.pipeline import Engine

#: share of the seed song's features in the new target (the rest is the picture's)
SEED_SHARE = 0.6
#: share of the seed song's vibe genre / emotion in the steered reading
GENRE_SHARE = 0.5


@dataclass(frozen=True)
class SimilarResult:
    seed: TrackOut
    reading: Reading
    target: AudioTarget
    tracks: list[RecommendedTrack]


def _unit(x: float) -> float:
    return max(-1.0, min(1.0, x))


def reading_from_track(track: Track, info: EncoderInfo) -> Reading:
    """A stand-in reading for a song alone: its valence/energy as a circumplex point."""
    valence = _unit(2.0 * track.features.get("valence", 0.5) - 1.0)
    arousal = _unit(2.0 * track.features.get("energy", 0.5) - 1.0)
    emotions_vocab, genres_vocab = vocab.emotions(), vocab.genres()
    emotion_p = circumplex_probabilities(valence, arousal, emotions_vocab, EMOTION_KERNEL)
    genre_p = circumplex_probabilities(valence, arousal, genres_vocab, GENRE_KERNEL)
    emotions = {n: round(float(p), 4) for n, p in zip(emotions_vocab.names, emotion_p, strict=True)}
    genres = {n: round(float(p), 4) for n, p in zip(genres_vocab.names, genre_p, strict=True)}
    return Reading(
        emotions=emotions,
        top_emotion=max(emotions, key=lambda n: emotions[n]),
        valence=round(valence, 4),
        arousal=round(arousal, 4),
        genres=genres,
        scenes=[],
        colour=ColourSummary(
            brightness=0.0,
            saturation=0.0,
            colourfulness=0.0,
            warmth=0.0,
            contrast=0.0,
            edge_density=0.0,
            dominant_hue="none",
        ),
        encoder=info,
        context=None,
    )


def _blend_towards(probs: dict[str, float], name: str | None, share: float) -> dict[str, float]:
    if not probs:
        return probs
    names = list(probs)
    values = np.array([probs[n] for n in names], dtype=np.float64)
    total = values.sum() or 1.0
    values = values / total
    if name in probs:
        onehot = np.array([1.0 if n == name else 0.0 for n in names])
        values = (1.0 - share) * values + share * onehot
    return {n: round(float(v), 4) for n, v in zip(names, values, strict=True)}


def steer_reading(reading: Reading, track: Track, share: float = GENRE_SHARE) -> Reading:
    """The reading with its genre and emotion mix pulled towards the song's own."""
    genres = _blend_towards(reading.genres, vocab.genre_for_catalog_label(track.genre), share)
    emotions = _blend_towards(reading.emotions, track.dylumo_emotion(), share)
    return reading.model_copy(
        update={
            "genres": genres,
            "emotions": emotions,
            "top_emotion": max(emotions, key=lambda n: emotions[n]) if emotions else "",
        }
    )


def steer_target(target: AudioTarget, track: Track, share: float = SEED_SHARE) -> AudioTarget:
    """The target profile moved ``share`` of the way to the song's features."""
    features = {
        name: round((1.0 - share) * value + share * track.features[name], 4)
        if name in track.features
        else value
        for name, value in target.features.items()
    }
    return AudioTarget(features=features, weights=dict(target.weights))


def _seed_reason(seed: Track, item: RecommendedTrack) -> str:
    """The first reason of a "more like this" song, in the current language (the titles and
    the catalogue's genre names are data, shown as written, isolated inside right-to-left
    text)."""
    t = current_language()
    other = item.track
    title = t.isolate(seed.title) if t.rtl else seed.title
    if other.subgenre and other.subgenre == seed.subgenre:
        return t.gettext("like “%(title)s”: also %(genre)s", title=title, genre=other.subgenre)
    if other.genre and other.genre == seed.genre:
        return t.gettext("like “%(title)s”: also %(genre)s", title=title, genre=other.genre)
    return t.gettext("close in sound to “%(title)s”", title=title)


def _check_inputs(engine: Engine, reading: Reading | None, target: AudioTarget | None) -> None:
    if reading is not None and (not reading.emotions or not reading.genres):
        raise InvalidRequest(
            "The reading must include its emotion and genre probabilities (send the `reading` "
            "object of a recommend answer unchanged).",
            code="invalid_reading",
        )
    if target is not None:
        missing = sorted(set(engine.index.features) - set(target.features))
        if missing:
            raise InvalidRequest(
                f"The target profile lacks the features {', '.join(missing)} (send the "
                "`target` object of a recommend answer unchanged).",
                code="invalid_target",
                details={"missing": missing},
            )


def more_like_this(
    engine: Engine,
    track_id: str,
    *,
    reading: Reading | None = None,
    target: AudioTarget | None = None,
    exclude: Collection[str] = (),
    k: int | None = None,
    exclude_artists: Collection[str] = (),
    lift: Sequence[str] = (),
    track_prior: Mapping[str, float] | None = None,
    lang: str = "en",
) -> SimilarResult:
    """Songs like ``track_id`` that still fit the picture, none of them in ``exclude``, with
    their reasons in ``lang``.

    The feedback hooks (``exclude_artists``, ``lift``, ``track_prior``) work as in
    :meth:`Recommender.recommend <tunelens.recommend.ranking.Recommender.recommend>`.

    Raises ``NotFound`` for an unknown id and ``InvalidRequest`` for a bad ``k``.
    """
    k = engine.check_k(k)
    row = engine.recommender.id_to_row.get(track_id)
    if row is None:
        engine.index.catalogue.by_id(track_id)  # raises NotFound with the standard message
        raise AssertionError("unreachable")  # pragma: no cover
    seed = engine.recommender.tracks[row]
    _check_inputs(engine, reading, target)
    base_reading = reading or reading_from_track(seed, engine.info)
    base_target = target or target_profile(base_reading, engine.recommender.profiles)
    steered_reading = steer_reading(base_reading, seed)
    steered_target = steer_target(base_target, seed)
    with use_language(lang):
        tracks = engine.recommender.recommend(
            steered_reading,
            steered_target,
            k=k,
            exclude={*exclude, track_id},
            exclude_artists=exclude_artists,
            lift=lift,
            track_prior=track_prior,
        )
        for item in tracks:
            item.reasons = [_seed_reason(seed, item), *item.reasons][:3]
    return SimilarResult(
        seed=track_out(seed),
        reading=steered_reading,
        target=steered_target,
        tracks=tracks,
    )
