"""The Spotify audio features every layer speaks of: their names, order and valid ranges.

They live in the core because the catalogue stores them, the mapping targets them, the learned
heads predict them and the reasons name them; none of those should import another to know
what a feature is called.
"""

from __future__ import annotations

#: The Spotify audio features, in the column order used by every matrix and file.
FEATURES: tuple[str, ...] = (
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "duration_ms",
    "time_signature",
)

#: The features that carry mood (used by default for search); key, duration and metre do not.
MOOD_FEATURES: tuple[str, ...] = (
    "valence",
    "energy",
    "danceability",
    "tempo",
    "loudness",
    "acousticness",
    "instrumentalness",
    "mode",
    "speechiness",
    "liveness",
)

#: The range each mood feature may take in a target (tempo in BPM, loudness in dB).
FEATURE_RANGES: dict[str, tuple[float, float]] = {
    "valence": (0.0, 1.0),
    "energy": (0.0, 1.0),
    "danceability": (0.0, 1.0),
    "tempo": (50.0, 200.0),
    "loudness": (-30.0, 0.0),
    "acousticness": (0.0, 1.0),
    "instrumentalness": (0.0, 1.0),
    "mode": (0.0, 1.0),
    "speechiness": (0.0, 1.0),
    "liveness": (0.0, 1.0),
}
