"""Reading → target audio profile. Every formula here is explained in ``docs/mapping.md``.

The picture's mood is a point on Russell's circumplex (valence, arousal). Music research
links those axes to audio features: valence to Spotify's valence and to major mode;
arousal to energy, tempo and loudness, and low arousal to acoustic timbre (Eerola &
Vuoskoski 2011; Gabrielsson & Lindström 2010). The genre the picture's vibe suggests then
pulls the "texture" features (danceability, acousticness, speechiness, …) towards that
genre's mean in the catalogue, and scene tags add small offsets (a concert asks for live
recordings).
"""

from __future__ import annotations

from collections.abc import Mapping

from tunelens.core import vocab
from tunelens.core.audio import FEATURE_RANGES, MOOD_FEATURES
from tunelens.core.types import AudioTarget, Reading

#: how much each feature counts in the distance between a song and the target (see docs)
FEATURE_WEIGHTS: dict[str, float] = {
    "valence": 3.0,
    "energy": 3.0,
    "acousticness": 1.5,
    "danceability": 1.0,
    "tempo": 0.8,
    "loudness": 0.8,
    "instrumentalness": 0.7,
    "mode": 0.5,
    "speechiness": 0.4,
    "liveness": 0.3,
}

#: share of the genre profile in each feature: small for the mood axes, larger for texture
GENRE_SHARE: dict[str, float] = {
    "valence": 0.15,
    "energy": 0.15,
    "mode": 0.15,
    "danceability": 0.4,
    "tempo": 0.3,
    "loudness": 0.3,
    "acousticness": 0.35,
    "instrumentalness": 0.4,
    "speechiness": 0.5,
    "liveness": 0.3,
}


def _clamp(name: str, value: float) -> float:
    low, high = FEATURE_RANGES[name]
    return max(low, min(high, value))


def circumplex_profile(valence: float, arousal: float, awe: float = 0.0) -> dict[str, float]:
    """Audio profile implied by mood alone (valence, arousal in [-1, 1]; awe probability)."""
    return {
        "valence": 0.5 + 0.42 * valence,
        "energy": 0.55 + 0.38 * arousal,
        "danceability": 0.6 + 0.12 * arousal + 0.08 * valence,
        "tempo": 118.0 + 28.0 * arousal,
        "loudness": -7.5 + 4.5 * arousal,
        "acousticness": _clamp("acousticness", 0.22 - 0.45 * arousal),
        "instrumentalness": _clamp(
            "instrumentalness", 0.05 + 0.25 * awe + 0.15 * max(0.0, -arousal)
        ),
        "mode": 0.5 + 0.4 * valence,
        "speechiness": 0.07,
        "liveness": 0.17,
    }


def genre_profiles(
    catalogue_means: Mapping[str, Mapping[str, float]] | None = None,
) -> dict[str, dict[str, float]]:
    """Per vibe genre, the audio profile to pull towards: the catalogue's mean for that genre
    when the catalogue has enough of its songs, else the documented prior from genres.json."""
    out: dict[str, dict[str, float]] = {}
    means = catalogue_means or {}
    for term in vocab.genres().terms:
        profile = dict(term.prior)
        if term.name in means:
            profile.update({k: float(v) for k, v in means[term.name].items() if k in MOOD_FEATURES})
        out[term.name] = profile
    return out


def target_profile(
    reading: Reading, profiles: Mapping[str, Mapping[str, float]] | None = None
) -> AudioTarget:
    """The audio profile a picture asks for, with the weight each feature carries."""
    profiles = profiles or genre_profiles()
    base = circumplex_profile(reading.valence, reading.arousal, reading.emotions.get("awe", 0.0))
    total_p = sum(reading.genres.values()) or 1.0
    features: dict[str, float] = {}
    for name in MOOD_FEATURES:
        genre_value = sum(
            (p / total_p) * profiles[g].get(name, base[name])
            for g, p in reading.genres.items()
            if g in profiles
        )
        share = GENRE_SHARE[name]
        features[name] = (1 - share) * base[name] + share * genre_value
    scene_vocab = vocab.scenes()
    for scene in reading.scenes:
        offsets = scene_vocab.get(scene.name).features
        for name, offset in offsets.items():
            if name in features:
                features[name] += scene.score * offset
    clamped = {name: round(_clamp(name, value), 4) for name, value in features.items()}
    return AudioTarget(features=clamped, weights=dict(FEATURE_WEIGHTS))
