"""Synthetic catalogues with a real catalogue's feature distributions, for scale tests.

A million-song index cannot be tested on a 28k-song CSV, and uniform random features would
make nearest-neighbour search look easier (or harder) than it is: real features are skewed
(instrumentalness is mostly 0, loudness bunches near −6 dB), correlated (energy with
loudness, acousticness against energy) and differ by genre. So synthetic tracks are made by
resampling real ones:

1. pick a genre with its empirical frequency in the reference catalogue (or given weights);
2. pick a real track of that genre uniformly — this keeps the joint distribution of all
   features, including their correlations and missing values;
3. add Gaussian jitter in robust-scaled space: ``x + N(0, (jitter · IQR_genre)²)`` per
   continuous feature, using the genre's own inter-quartile range, so no two synthetic tracks
   coincide and each genre keeps its spread;
4. clip to the ranges the loaders accept (unit features to [0, 1], loudness to −60…5 dB,
   tempo to 30…250 BPM, duration ≥ 30 s); discrete features (key, mode, time signature) are
   copied, never jittered, so they stay valid values.

Tracks get new ids (``syn-0000001``), made-up titles and artists (about eight tracks per
artist, so per-artist caps behave as in real data) and no links: they are not real songs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tunelens.catalogue.loaders import load_source
from tunelens.catalogue.models import Catalogue, Track
from tunelens.core.audio import FEATURES
from tunelens.core.errors import CatalogError

__all__ = ["ReferenceData", "generate_catalogue", "reference_from_catalogue", "synthetic_matrix"]

#: default jitter, as a share of each genre's inter-quartile range
DEFAULT_JITTER = 0.08
_DISCRETE = frozenset({"key", "mode", "time_signature"})
_UNIT = frozenset(
    {
        "danceability",
        "energy",
        "speechiness",
        "acousticness",
        "instrumentalness",
        "liveness",
        "valence",
    }
)
_RANGES: dict[str, tuple[float, float]] = {
    **{name: (0.0, 1.0) for name in _UNIT},
    "loudness": (-60.0, 5.0),
    "tempo": (30.0, 250.0),
    "duration_ms": (30_000.0, 3_600_000.0),
}
_TRACKS_PER_ARTIST = 8


@dataclass(frozen=True)
class ReferenceData:
    """What generation needs from a real catalogue: features, genres and popularity."""

    features: NDArray[np.float32]  # (N, 13) in FEATURES order, NaN = unknown
    genres: tuple[str, ...]  # primary genre per row ("unknown" when absent)
    subgenres: tuple[str | None, ...]
    popularity: NDArray[np.float32]  # NaN = unknown

    def __post_init__(self) -> None:
        n = self.features.shape[0]
        if n == 0:
            raise CatalogError("the reference catalogue is empty", code="catalog_empty")
        if not len(self.genres) == len(self.subgenres) == len(self.popularity) == n:
            raise ValueError("reference arrays have different lengths")


def reference_from_catalogue(catalogue: Catalogue) -> ReferenceData:
    """Reference data from a loaded catalogue (e.g. ``load_source(csv).catalogue``)."""
    return ReferenceData(
        features=np.array(catalogue.feature_matrix(), dtype=np.float32),
        genres=tuple(t.genre or "unknown" for t in catalogue),
        subgenres=tuple(t.subgenre for t in catalogue),
        popularity=np.array(
            [math.nan if t.popularity is None else t.popularity for t in catalogue],
            dtype=np.float32,
        ),
    )


def load_reference(source: str | Path) -> ReferenceData:
    """Load a Spotify-style CSV (or any loader source) as reference data."""
    return reference_from_catalogue(load_source(Path(source)).catalogue)


def _genre_iqr(features: NDArray[np.float32]) -> NDArray[np.float64]:
    out = np.ones(features.shape[1], dtype=np.float64)
    for j in range(features.shape[1]):
        known = features[:, j][~np.isnan(features[:, j])]
        if known.size >= 4:
            q1, q3 = np.percentile(known, [25.0, 75.0])
            out[j] = float(q3 - q1)
    return out


def synthetic_matrix(
    reference: ReferenceData,
    n: int,
    *,
    seed: int = 0,
    jitter: float = DEFAULT_JITTER,
    genre_weights: Mapping[str, float] | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """``(features, source_rows)``: ``n`` synthetic feature rows and the real row each came from.

    Vectorised (a million rows take about a second); :func:`generate_catalogue` wraps the
    rows in :class:`Track` objects.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if jitter < 0 or not math.isfinite(jitter):
        raise ValueError(f"jitter must be a finite number >= 0, got {jitter}")
    rng = np.random.default_rng(seed)
    genres = np.asarray(reference.genres)
    names = sorted(set(reference.genres))
    if genre_weights is None:
        weights = np.array([(genres == g).sum() for g in names], dtype=np.float64)
    else:
        unknown = set(genre_weights) - set(names)
        if unknown:
            raise ValueError(f"genre weights name genres not in the reference: {sorted(unknown)}")
        weights = np.array([max(0.0, genre_weights.get(g, 0.0)) for g in names])
    if weights.sum() <= 0:
        raise ValueError("genre weights must not all be zero")
    counts = rng.multinomial(n, weights / weights.sum())

    out = np.empty((n, len(FEATURES)), dtype=np.float32)
    source_rows = np.empty(n, dtype=np.int64)
    continuous = np.array([name not in _DISCRETE for name in FEATURES])
    start = 0
    for genre, count in zip(names, counts, strict=True):
        if count == 0:
            continue
        members = np.flatnonzero(genres == genre)
        picked = members[rng.integers(0, len(members), size=count)]
        rows = reference.features[picked].astype(np.float64)
        noise = rng.standard_normal(rows.shape) * (jitter * _genre_iqr(reference.features[members]))
        rows[:, continuous] += noise[:, continuous]  # NaN (unknown) stays NaN
        out[start : start + count] = rows
        source_rows[start : start + count] = picked
        start += count
    for name, (low, high) in _RANGES.items():
        j = FEATURES.index(name)
        column = out[:, j]
        np.clip(column, low, high, out=column)
    # Shuffle so genres interleave like a real catalogue rather than arriving in blocks.
    order = rng.permutation(n)
    return out[order], source_rows[order]


def generate_catalogue(
    reference: ReferenceData,
    n: int,
    *,
    seed: int = 0,
    jitter: float = DEFAULT_JITTER,
    genre_weights: Mapping[str, float] | None = None,
) -> Catalogue:
    """A catalogue of ``n`` synthetic tracks resampled from ``reference`` (see module doc)."""
    matrix, source_rows = synthetic_matrix(
        reference, n, seed=seed, jitter=jitter, genre_weights=genre_weights
    )
    rng = np.random.default_rng(seed + 1)
    n_artists = max(1, n // _TRACKS_PER_ARTIST)
    artists = rng.integers(0, n_artists, size=n)
    pop_noise = rng.normal(0.0, 5.0, size=n)
    width = max(7, len(str(n)))
    tracks: list[Track] = []
    known = ~np.isnan(matrix)
    for i in range(n):
        src = int(source_rows[i])
        genre = reference.genres[src]
        popularity = float(reference.popularity[src])
        row, mask = matrix[i], known[i]
        features = {FEATURES[j]: float(row[j]) for j in np.flatnonzero(mask)}
        tracks.append(
            Track(
                id=f"syn-{i:0{width}d}",
                title=f"Synthetic {genre} no. {i}",
                artist=f"Synthetic Artist {int(artists[i]):06d}",
                genre=None if genre == "unknown" else genre,
                subgenre=reference.subgenres[src],
                popularity=None
                if math.isnan(popularity)
                else float(min(100.0, max(0.0, round(popularity + pop_noise[i])))),
                features=features,
                source="jsonl",
                genres=() if genre == "unknown" else (genre,),
            )
        )
    return Catalogue(tracks)
