"""Reading → target audio profile. Every formula here is explained in ``docs/mapping.md``.

The picture's mood is a point on Russell's circumplex (valence, arousal). Music research
links those axes to audio features: valence to Spotify's valence and to major mode;
arousal to energy, tempo and loudness, and low arousal to acoustic, often instrumental
timbre (Eerola & Vuoskoski 2011; Gabrielsson & Lindström 2010; Juslin & Laukka 2004).

With a catalogue (:class:`~tunelens.recommend.catalogue_map.CatalogueMap`) each feature's
target is the catalogue's own value at a percentile the mood sets, so the calmest picture asks
for the catalogue's calmest songs and the most ecstatic one for its most energetic: targets
span the real range of whatever catalogue is loaded. The vibe genres the picture points at
(folded onto the genres the catalogue has) then pull the texture features towards those
genres' means, and scene tags add small offsets (a concert asks for live recordings).

Without a catalogue (tools that map readings before any index exists) the fixed formulas of
:func:`circumplex_profile` stand in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist

from tunelens.core import vocab
from tunelens.core.audio import FEATURE_RANGES, MOOD_FEATURES
from tunelens.core.types import AudioTarget, Reading, ReadingScale
from tunelens.recommend.catalogue_map import CatalogueMap

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

#: share of the genre profile in each feature: none for the mood axes (the picture's mood
#: decides them, and a genre's average would pull every target back to the middle), larger
#: for texture, which genre determines more than mood
GENRE_SHARE: dict[str, float] = {
    "valence": 0.0,
    "energy": 0.0,
    "mode": 0.0,
    "danceability": 0.4,
    "tempo": 0.3,
    "loudness": 0.3,
    "acousticness": 0.35,
    "instrumentalness": 0.4,
    "speechiness": 0.5,
    "liveness": 0.3,
}

#: people's mean ratings of photos on the reading's scale (1…7 rescaled to [-1, 1]): mean and
#: SD over the 375 OASIS calibration photos (docs/mapping.md). A reading is placed among photos
#: people rated by these before it is placed among songs.
PHOTO_VALENCE: tuple[float, float] = (0.107, 0.401)
PHOTO_AROUSAL: tuple[float, float] = (-0.159, 0.272)
#: a reading on people's own scale (zero-shot readers, and any reader without a measured spread)
PEOPLE_SCALE = ReadingScale(valence=PHOTO_VALENCE, arousal=PHOTO_AROUSAL)
#: most the catalogue's valence–energy rank correlation may tilt the energy percentile
MAX_COUPLING = 0.8
#: texture features' percentiles: ``p = 0.5 + energy_slope · (p_energy − 0.5) + valence_slope ·
#: valence / 2`` (valence as a signed percentile among photos)
PERCENTILE_SLOPES: dict[str, tuple[float, float]] = {
    "loudness": (1.0, 0.0),
    "acousticness": (-1.0, 0.0),
    "danceability": (0.6, 0.3),
    "tempo": (0.6, 0.0),
    "speechiness": (0.0, 0.0),
    "liveness": (0.0, 0.0),
}
#: instrumentalness rises only for calm pictures: p = 0.5 + CALM_INSTRUMENTAL · max(0, 1 − 2 p_energy)
CALM_INSTRUMENTAL = 0.45
#: targets stop this far from the catalogue's ends (never "the single most extreme song")
END_PERCENTILE = 0.03
#: share of Spotify's own 0–1 energy scale in the energy target (the rest is the catalogue's
#: quantile): energy is a perceptual scale of its own, so a catalogue of mostly loud songs
#: must not make a misty lake ask for energy 0.75 (docs/mapping.md §3, "Energy anchoring")
ABSOLUTE_ENERGY_SHARE = 0.5

_NORMAL = NormalDist()


@dataclass(frozen=True)
class MoodPoint:
    """What the target is computed from: the picture's valence and arousal as signed
    percentiles among photos people rated (−1 … 1, 0 = the typical photo), and its vibe over
    the catalogue's genres (normalised) with the share of the vibe the catalogue kept."""

    valence: float
    arousal: float
    genres: Mapping[str, float] | None = None
    genre_mass: float = 0.0


def photo_rank(value: float, reference: tuple[float, float]) -> float:
    """Where a reading's valence or arousal sits among photos people rated, as a signed
    percentile in (−1, 1): ``2 Φ((x − mean) / sd) − 1``."""
    mean, sd = reference
    return 2.0 * _NORMAL.cdf((value - mean) / sd) - 1.0


def _clamp(name: str, value: float) -> float:
    low, high = FEATURE_RANGES[name]
    return max(low, min(high, value))


def _percentile(p: float) -> float:
    return min(1.0 - END_PERCENTILE, max(END_PERCENTILE, p))


def circumplex_profile(valence: float, arousal: float, awe: float = 0.0) -> dict[str, float]:
    """Audio profile implied by mood alone, without a catalogue (valence, arousal in [-1, 1];
    awe probability). Only for callers with no catalogue at hand."""
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


def energy_percentile(point: MoodPoint, coupling: float) -> float:
    """The energy percentile a picture asks for: its arousal, tilted by its valence as much as
    valence and energy go together in the catalogue (``coupling``, their rank correlation):
    ``Φ(ρ z_valence + √(1 − ρ²) z_arousal)``, z being the normal scores of the percentiles."""
    rho = min(MAX_COUPLING, max(0.0, coupling))
    z_v = _NORMAL.inv_cdf(min(0.999, max(0.001, (point.valence + 1.0) / 2.0)))
    z_a = _NORMAL.inv_cdf(min(0.999, max(0.001, (point.arousal + 1.0) / 2.0)))
    return _percentile(_NORMAL.cdf(rho * z_v + math.sqrt(1.0 - rho * rho) * z_a))


def catalogue_profile(point: MoodPoint, catalogue: CatalogueMap) -> dict[str, float]:
    """Audio profile implied by mood alone, read off ``catalogue``'s own distribution: each
    feature at the percentile the mood sets (valence among songs of the target energy);
    energy halfway between the catalogue's quantile and the same point of Spotify's 0–1
    scale (ABSOLUTE_ENERGY_SHARE)."""
    v = point.valence
    p_energy = energy_percentile(point, catalogue.coupling)
    out: dict[str, float] = {}
    if catalogue.knows("mode"):
        out["mode"] = 0.5 + 0.4 * v
    if catalogue.knows("energy"):
        share = ABSOLUTE_ENERGY_SHARE
        out["energy"] = (1.0 - share) * catalogue.at("energy", p_energy) + share * p_energy
    for name, (e_slope, v_slope) in PERCENTILE_SLOPES.items():
        if catalogue.knows(name):
            p = 0.5 + e_slope * (p_energy - 0.5) + v_slope * v / 2
            out[name] = catalogue.at(name, _percentile(p))
    if catalogue.knows("instrumentalness"):
        p = 0.5 + CALM_INSTRUMENTAL * max(0.0, 1.0 - 2.0 * p_energy)
        out["instrumentalness"] = catalogue.at("instrumentalness", _percentile(p))
    if catalogue.knows("valence"):
        out["valence"] = catalogue.valence_at(_percentile((v + 1.0) / 2.0), p_energy)
    return out


def mood_target(point: MoodPoint, catalogue: CatalogueMap) -> dict[str, float]:
    """The catalogue profile of ``point`` with the genre pull applied (no scenes): texture
    features move a share ``GENRE_SHARE × genre_mass`` towards the mean of the picture's
    genres in this catalogue. Features the catalogue never knows are left out."""
    base = catalogue_profile(point, catalogue)
    genres = point.genres or {}
    profiles = catalogue.genres.profiles
    out: dict[str, float] = {}
    for name, mood_value in base.items():
        pulled = [(p, profiles[g][name]) for g, p in genres.items() if name in profiles.get(g, {})]
        share = GENRE_SHARE.get(name, 0.0) * point.genre_mass
        weight = sum(p for p, _ in pulled)
        out[name] = mood_value
        if pulled and share > 0 and weight > 0:
            genre_value = sum(p * x for p, x in pulled) / weight
            out[name] = (1 - share) * mood_value + share * genre_value
    return out


def genre_profiles(
    catalogue_means: Mapping[str, Mapping[str, float]] | None = None,
) -> dict[str, dict[str, float]]:
    """Per vibe genre, the audio profile to pull towards without a catalogue map: the given
    catalogue mean for that genre when known, else the documented prior from genres.json."""
    out: dict[str, dict[str, float]] = {}
    means = catalogue_means or {}
    for term in vocab.genres().terms:
        profile = dict(term.prior)
        if term.name in means:
            profile.update({k: float(v) for k, v in means[term.name].items() if k in MOOD_FEATURES})
        out[term.name] = profile
    return out


def _fixed_target(
    reading: Reading, profiles: Mapping[str, Mapping[str, float]] | None
) -> dict[str, float]:
    """The catalogue-free target: fixed circumplex formulas and the genre priors."""
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
    return features


def mood_point(
    reading: Reading, catalogue: CatalogueMap, scale: ReadingScale | None = None
) -> MoodPoint:
    """The reading as the mapping sees it in ``catalogue``: placed among photos by its rank on
    its reader's ``scale`` (people's by default), its genres folded onto the genres the
    catalogue has and weighed by how near each one's measured place is to the mood."""
    scale = scale or PEOPLE_SCALE
    valence = photo_rank(reading.valence, scale.valence)
    arousal = photo_rank(reading.arousal, scale.arousal)
    genres, mass = catalogue.genres.evidence(reading.genres, valence, arousal)
    return MoodPoint(valence=valence, arousal=arousal, genres=genres, genre_mass=mass)


def target_profile(
    reading: Reading,
    profiles: CatalogueMap | Mapping[str, Mapping[str, float]] | None = None,
    scale: ReadingScale | None = None,
) -> AudioTarget:
    """The audio profile a picture asks for, with the weight each feature carries.

    ``profiles`` is the loaded catalogue's :class:`CatalogueMap` (``Recommender.profiles``);
    a plain genre → profile mapping, or nothing, falls back to the fixed formulas. A feature
    the catalogue never knows (e.g. mode in a set without it) gets weight 0.
    """
    weights = dict(FEATURE_WEIGHTS)
    genres: dict[str, float] = {}
    if isinstance(profiles, CatalogueMap):
        point = mood_point(reading, profiles, scale)
        genres = {name: round(share, 4) for name, share in (point.genres or {}).items()}
        features = mood_target(point, profiles)
        for name in MOOD_FEATURES:
            if name not in features:
                features[name] = circumplex_profile(reading.valence, reading.arousal)[name]
                weights[name] = 0.0
    else:
        features = _fixed_target(reading, profiles)
    scene_vocab = vocab.scenes()
    for scene in reading.scenes:
        offsets = scene_vocab.get(scene.name).features
        for name, offset in offsets.items():
            if name in features:
                features[name] += scene.score * offset
    clamped = {name: round(_clamp(name, value), 4) for name, value in features.items()}
    return AudioTarget(features=clamped, weights=weights, genres=genres)
