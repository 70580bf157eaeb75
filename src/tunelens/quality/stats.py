"""The statistics of the quality harness: Spearman's ρ with bootstrap intervals, and how many
songs two top-k lists share.

Ratings of photos are ordinal (a 1–7 scale averaged over ~100 people) and a reader's valence
is on its own scale, so agreement is measured by rank (Spearman), never by value. The interval
comes from resampling photos with replacement (percentile bootstrap, seeded so a report can be
reproduced exactly); the same resamples serve every reader in a run, so two readers' intervals
— and the interval of their difference — describe the same draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]

#: the two-sided coverage of every interval the harness prints
COVERAGE = 0.95


@dataclass(frozen=True)
class Interval:
    """A figure with its bootstrap interval (NaN bounds when there were no resamples)."""

    estimate: float
    low: float
    high: float

    def to_dict(self, digits: int = 3) -> dict[str, float | None]:
        """JSON-safe: NaN (e.g. a constant reading) becomes null."""
        return {
            "estimate": _rounded(self.estimate, digits),
            "low": _rounded(self.low, digits),
            "high": _rounded(self.high, digits),
        }


def _rounded(value: float, digits: int) -> float | None:
    return None if not math.isfinite(value) else round(value, digits)


def spearman(x: ArrayLike, y: ArrayLike) -> float:
    """Spearman's ρ of two equally long samples (NaN when either is constant or too short)."""
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"spearman needs two 1-D samples of one length, got {a.shape}, {b.shape}")
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    from scipy.stats import spearmanr  # noqa: PLC0415 - scipy.stats takes ~1 s to import; only eval needs it

    return float(spearmanr(a, b).statistic)


def resample_indices(n: int, rounds: int, seed: int) -> IndexArray:
    """``rounds`` bootstrap resamples of ``n`` photos (rows of indices), drawn from ``seed``."""
    if n < 1 or rounds < 0:
        raise ValueError(f"need at least one photo and rounds >= 0, got n={n}, rounds={rounds}")
    rng = np.random.default_rng(seed)
    return rng.integers(0, n, size=(rounds, n)).astype(np.intp)


def spearman_rows(x: FloatArray, y: FloatArray) -> FloatArray:
    """Spearman's ρ of each row of ``x`` with the same row of ``y`` (NaN for a constant row).

    Average ranks then Pearson, which is what :func:`scipy.stats.spearmanr` computes, done for
    all resamples at once: a thousand resamples of a few hundred photos take milliseconds."""
    from scipy.stats import rankdata  # noqa: PLC0415 - scipy.stats takes ~1 s to import; only eval needs it

    rx = rankdata(x, axis=1)
    ry = rankdata(y, axis=1)
    rx = rx - rx.mean(axis=1, keepdims=True)
    ry = ry - ry.mean(axis=1, keepdims=True)
    denominator = np.sqrt((rx * rx).sum(axis=1) * (ry * ry).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (rx * ry).sum(axis=1) / denominator
    return np.where(denominator > 0, rho, np.nan).astype(np.float64)


def _percentiles(samples: FloatArray, estimate: float) -> Interval:
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return Interval(estimate, math.nan, math.nan)
    tail = (1 - COVERAGE) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return Interval(estimate, float(low), float(high))


def bootstrap_spearman(x: ArrayLike, y: ArrayLike, indices: IndexArray) -> Interval:
    """ρ(x, y) with the percentile interval over the resamples in ``indices``."""
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    estimate = spearman(a, b)
    if indices.size == 0:
        return Interval(estimate, math.nan, math.nan)
    return _percentiles(spearman_rows(a[indices], b[indices]), estimate)


def bootstrap_difference(
    x: ArrayLike, baseline: ArrayLike, y: ArrayLike, indices: IndexArray
) -> Interval:
    """ρ(x, y) − ρ(baseline, y), paired on the same resamples: does ``x`` beat the baseline
    by more than the luck of which photos were rated?"""
    a = np.asarray(x, dtype=np.float64)
    c = np.asarray(baseline, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    estimate = spearman(a, b) - spearman(c, b)
    if indices.size == 0:
        return Interval(estimate, math.nan, math.nan)
    samples = spearman_rows(a[indices], b[indices]) - spearman_rows(c[indices], b[indices])
    return _percentiles(samples, estimate)


def top_overlap(first: Sequence[str], second: Sequence[str]) -> int:
    """How many songs of one top-k list are also in the other (order does not matter)."""
    return len(set(first) & set(second))
