"""Synthetic catalogues and readings for the recommend tests (no shared data needed)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue, Track
from tunelens.core.audio import MOOD_FEATURES
from tunelens.core.types import ColourSummary, EncoderInfo, Reading, ScoredLabel
from tunelens.recommend.catalogue_map import CatalogueMap

EMOTIONS = {
    "amusement": 0.2,
    "awe": 0.1,
    "contentment": 0.2,
    "excitement": 0.1,
    "anger": 0.1,
    "disgust": 0.1,
    "fear": 0.1,
    "sadness": 0.1,
}


def make_reading(
    valence: float,
    arousal: float,
    genres: Mapping[str, float] | None = None,
    scenes: list[ScoredLabel] | None = None,
) -> Reading:
    return Reading(
        emotions=dict(EMOTIONS),
        top_emotion="amusement",
        valence=valence,
        arousal=arousal,
        genres=dict(genres) if genres is not None else {"pop": 0.5, "rock": 0.5},
        scenes=scenes or [],
        colour=ColourSummary(
            brightness=0.5,
            saturation=0.5,
            colourfulness=0.5,
            warmth=0.0,
            contrast=0.5,
            edge_density=0.1,
            dominant_hue="blue",
        ),
        encoder=EncoderInfo(name="colour", pretrained=False, fallback=False, model_id="x"),
    )


def uniform_features(rng: np.random.Generator) -> dict[str, float]:
    """Every mood feature drawn independently over its usual range."""
    return {
        "valence": float(rng.random()),
        "energy": float(rng.random()),
        "danceability": float(rng.random()),
        "tempo": float(rng.uniform(60, 180)),
        "loudness": float(rng.uniform(-25, -2)),
        "acousticness": float(rng.random()),
        "instrumentalness": float(rng.random()),
        "mode": float(rng.integers(0, 2)),
        "speechiness": float(rng.random() * 0.3),
        "liveness": float(rng.random() * 0.5),
    }


def genre_catalogue(
    centres: Mapping[str, Mapping[str, float]], per_genre: int = 60, seed: int = 0
) -> Catalogue:
    """``per_genre`` songs of each genre label, each feature its centre ± a little noise
    (features a centre does not name are drawn uniformly)."""
    rng = np.random.default_rng(seed)
    tracks = []
    for label, centre in centres.items():
        for i in range(per_genre):
            features = uniform_features(rng)
            for name, value in centre.items():
                spread = 4.0 if name == "tempo" else 1.0 if name == "loudness" else 0.05
                features[name] = float(value + rng.normal(0, spread))
            for name in ("valence", "energy", "danceability", "acousticness", "instrumentalness"):
                features[name] = float(np.clip(features[name], 0.0, 1.0))
            tracks.append(
                Track(
                    id=f"{label}-{i}",
                    title=f"{label} {i}",
                    artist=f"{label} artist {i % 15}",
                    genre=label,
                    features=features,
                )
            )
    return Catalogue(tracks)


def catalogue_map(index: CatalogueIndex, vibes: list[str]) -> CatalogueMap:
    return CatalogueMap.build(index.feature_names, index.raw_features(), vibes, index.scaler.scale)


def uniform_index(n: int = 2000, seed: int = 1) -> CatalogueIndex:
    rng = np.random.default_rng(seed)
    tracks = [
        Track(id=f"u{i}", title=f"Song {i}", artist=f"Artist {i}", features=uniform_features(rng))
        for i in range(n)
    ]
    return CatalogueIndex.build(Catalogue(tracks), features=MOOD_FEATURES)
