"""How closely each song of one answer meets each feature's target: the numbers the feature
reasons (:mod:`tunelens.explain.reasons`) choose from, for every song and feature at once.

A reason is written per song, but what it weighs — each feature's quantile gap to the target,
how much closer than the answer's other songs the song comes, whether it sits audibly on the
target's side — is the same arithmetic for every song and feature of the answer, so it is done
here on (songs, features) arrays, once per answer, instead of in a Python loop per song and
feature. Each number is the same IEEE operation on the same operands as the per-song
formula it replaces, so the reasons do not change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tunelens.core.types import AudioTarget
from tunelens.explain.reasons_quantiles import FeatureQuantiles

#: a quantile gap (song to target) at which a feature no longer counts as matched
FIT_GAP = 0.25
#: a target this far from the catalogue median (in quantile) is fully distinctive
FULL_DISTINCT = 0.4
#: least distinctiveness of a target, and least distance of the song from the median, for a
#: feature to be named by its side ("slow", "more acoustic than most songs")
MIN_DISTINCT, MIN_SONG_SIDE = 0.25, 0.1


@dataclass(frozen=True)
class FeatureFit:
    """Per song and feature of one answer: where the song sits, how it meets the target."""

    #: the features a reason may name (known to the catalogue, worded, weighed), sorted
    features: list[str]
    #: each feature's target as a catalogue quantile
    target_q: dict[str, float]
    #: (songs, features) quantile of each song's value (NaN: unknown)
    song_q: NDArray[np.float64]
    #: (songs, features) how far each song's quantile is from the target's (NaN: unknown)
    gaps: NDArray[np.float64]
    #: per feature, whether the target lies above the catalogue's median
    high: list[bool]
    #: (songs, features) the evidence before the repeat discount: target weight (relative to
    #: the heaviest) × how closely the song meets the target × (how distinctive the target
    #: is + half how much closer than the other songs the song comes)
    score: NDArray[np.float64]
    #: (songs, features) the song sits audibly on the target's side of the median, and the
    #: target is distinctive: the feature may be named by its side
    sided: NDArray[np.bool_]
    #: (songs, features) no other song of the answer is as close to the target on it
    closest: NDArray[np.bool_]

    @property
    def known(self) -> NDArray[np.bool_]:
        """(songs, features) whether the song's value is known."""
        return ~np.isnan(self.song_q)


def measure_fit(
    target: AudioTarget,
    quantiles: FeatureQuantiles,
    songs: Sequence[Mapping[str, float]],
    steps: Mapping[str, float],
) -> FeatureFit:
    """The fit of every song (its features) to ``target`` on every worded feature
    (``steps``: each one's least audible difference from the catalogue's median)."""
    target_q: dict[str, float] = {}
    for name, value in target.features.items():
        q = quantiles.quantile(name, value)
        if q is not None and name in steps and target.weights.get(name, 0.0) > 0:
            target_q[name] = q
    features = sorted(target_q)
    n = len(songs)
    values = np.array(
        [[song.get(name, np.nan) for name in features] for song in songs], dtype=np.float64
    ).reshape(n, len(features))
    song_q = _song_quantiles(values, features, quantiles)
    known = ~np.isnan(values)
    medians = np.array([quantiles.median(name) or 0.0 for name in features], dtype=np.float64)
    signs = np.array([1.0 if target_q[name] > 0.5 else -1.0 for name in features])
    step = np.array([steps[name] for name in features], dtype=np.float64)
    target_off = [
        sign * (target.features[name] - median) >= steps[name]
        for name, sign, median in zip(features, signs.tolist(), medians.tolist(), strict=True)
    ]
    with np.errstate(invalid="ignore"):
        audible = known & np.array(target_off, dtype=bool) & (signs * (values - medians) >= step)
    tq = np.array([target_q[name] for name in features], dtype=np.float64)
    gaps = np.abs(song_q - tq)
    mean, least, present = others_table(gaps)
    weights = target.weights
    top_weight = max(weights.get(f, 0.0) for f in features) if features else 1.0
    w = np.array([weights[name] for name in features], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        apart = np.where(present, np.minimum(1.0, np.maximum(0.0, (mean - gaps) / FIT_GAP)), 0.0)
        fit = np.maximum(0.0, 1.0 - gaps / FIT_GAP)
        distinct = np.minimum(1.0, np.abs(tq - 0.5) / FULL_DISTINCT)
        high = tq > 0.5
        side: NDArray[np.float64] = np.where(high, song_q - 0.5, 0.5 - song_q)
        sided = (distinct >= MIN_DISTINCT) & (side >= MIN_SONG_SIDE) & audible
        closest = present & (gaps < least)
    return FeatureFit(
        features=features,
        target_q=target_q,
        song_q=song_q,
        gaps=gaps,
        high=[bool(h) for h in high],
        score=w / top_weight * fit * (distinct + 0.5 * apart),
        sided=sided,
        closest=closest,
    )


def _song_quantiles(
    values: NDArray[np.float64], features: Sequence[str], quantiles: FeatureQuantiles
) -> NDArray[np.float64]:
    """(songs, features) mid-rank of each value among the catalogue's, exactly as
    :meth:`FeatureQuantiles.quantiles` gives it; NaN where the value is unknown."""
    n = values.shape[0]
    low = np.zeros((n, len(features)))
    high = np.zeros((n, len(features)))
    sizes = np.ones(len(features))
    for col, name in enumerate(features):
        ordered = quantiles.sorted_values[name]
        low[:, col] = np.searchsorted(ordered, values[:, col], side="left")
        high[:, col] = np.searchsorted(ordered, values[:, col], side="right")
        sizes[col] = len(ordered)
    return np.where(np.isnan(values), np.nan, (low + high) / 2.0 / sizes)


def others_table(
    gaps: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """For each song and feature, the mean and the least gap of the answer's *other* songs
    whose value is known, and whether any is: (mean, least, present), each (songs, features).

    With every value known (the usual case) all songs at once: each song's others gathered
    into one (songs, features, songs − 1) block, reduced along its last axis exactly as one
    song's (features, songs − 1) block is; otherwise song by song, column by column."""
    n, f = gaps.shape
    if n >= 2 and not np.isnan(gaps).any():
        others = np.arange(n - 1)[None, :] + (np.arange(n - 1)[None, :] >= np.arange(n)[:, None])
        block = np.ascontiguousarray(gaps[others].transpose(0, 2, 1))
        return block.mean(axis=2), block.min(axis=2), np.ones((n, f), dtype=bool)
    mean = np.full((n, f), np.nan)
    least = np.full((n, f), np.nan)
    present = np.zeros((n, f), dtype=bool)
    for row in range(n):
        for col, pair in enumerate(others_of(gaps, row)):
            if pair is not None:
                mean[row, col], least[row, col] = pair
                present[row, col] = True
    return mean, least, present


def others_of(gaps: NDArray[np.float64], row: int) -> list[tuple[float, float] | None]:
    """Per feature, the mean and the least gap of the songs other than ``row`` whose value is
    known (None: none is)."""
    others = np.delete(gaps, row, axis=0)
    if others.size and not np.isnan(others).any():
        columns = np.ascontiguousarray(others.T)
        return list(zip(columns.mean(axis=1).tolist(), columns.min(axis=1).tolist(), strict=True))
    out: list[tuple[float, float] | None] = []
    for column in others.T:
        known = column[~np.isnan(column)]
        out.append((float(known.mean()), float(known.min())) if len(known) else None)
    return out
