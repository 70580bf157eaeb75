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

from collections.abc import Sequence

import numpy as np

from tunelens.catalogue.models import Track
from tunelens.core import vocab
from tunelens.core.errors import InvalidRequest
from tunelens.core.types import (
    AudioTarget,
    ColourSummary,
    EncoderInfo,
    Reading,
)
from tunelens.reading.reader import EMOTION_KERNEL, GENRE_KERNEL, circumplex_probabilities

#: share of the seed song's features in the new target (the rest is the picture's)
SEED_SHARE = 0.6
#: share of the seed song's vibe genre / emotion in the steered reading
GENRE_SHARE = 0.5


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
    return AudioTarget(features=features, weights=dict(target.weights), genres=target.genres)


def check_inputs(
    features: Sequence[str], reading: Reading | None, target: AudioTarget | None
) -> None:
    """Refuse a sent-back reading or target that lost the fields steering needs."""
    if reading is not None and (not reading.emotions or not reading.genres):
        raise InvalidRequest(
            "The reading must include its emotion and genre probabilities (send the `reading` "
            "object of a recommend answer unchanged).",
            code="invalid_reading",
        )
    if target is not None:
        missing = sorted(set(features) - set(target.features))
        if missing:
            raise InvalidRequest(
                f"The target profile lacks the features {', '.join(missing)} (send the "
                "`target` object of a recommend answer unchanged).",
                code="invalid_target",
                details={"missing": missing},
            )
