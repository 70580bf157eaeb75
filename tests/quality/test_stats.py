"""Spearman's ρ, its bootstrap interval and the top-k overlap, on data whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import spearmanr

from tunelens.quality.stats import (
    Interval,
    bootstrap_difference,
    bootstrap_spearman,
    resample_indices,
    spearman,
    spearman_rows,
    top_overlap,
)


def correlated(n: int, r: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A bivariate normal sample with Pearson correlation ``r``."""
    x = rng.standard_normal(n)
    y = r * x + math.sqrt(1 - r * r) * rng.standard_normal(n)
    return x, y


def population_spearman(r: float) -> float:
    """Spearman's ρ of a bivariate normal with Pearson r (Pearson 1907): 6/π · asin(r/2)."""
    return 6 / math.pi * math.asin(r / 2)


def test_spearman_is_scipys_and_undefined_for_a_constant() -> None:
    rng = np.random.default_rng(0)
    x, y = correlated(200, 0.5, rng)
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic)
    assert spearman(x, -x) == pytest.approx(-1.0)
    assert math.isnan(spearman(np.ones(10), np.arange(10)))
    with pytest.raises(ValueError, match="1-D"):
        spearman(x, y[:-1])


def test_rows_match_scipy_with_ties() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, size=(40, 30)).astype(float)  # many ties
    y = x + rng.integers(0, 3, size=(40, 30))
    rows = spearman_rows(x, y)
    expected = [spearmanr(a, b).statistic for a, b in zip(x, y, strict=True)]
    assert rows == pytest.approx(expected)
    assert math.isnan(spearman_rows(np.ones((1, 5)), np.arange(5.0)[None])[0])


def test_resamples_are_seeded() -> None:
    first = resample_indices(50, 20, seed=3)
    assert first.shape == (20, 50) and first.min() >= 0 and first.max() < 50
    assert np.array_equal(first, resample_indices(50, 20, seed=3))
    assert not np.array_equal(first, resample_indices(50, 20, seed=4))


def test_interval_of_a_large_sample_has_the_textbook_width() -> None:
    """At n = 1500 the interval is as wide as Fieller, Hartley & Pearson's (1957) standard
    error of Spearman's ρ says (var of Fisher z ≈ 1.06 / (n − 3)), and centred near the
    population value."""
    rng = np.random.default_rng(2)
    n, r = 1500, 0.6
    x, y = correlated(n, r, rng)
    found = bootstrap_spearman(x, y, resample_indices(n, 400, seed=0))
    truth = population_spearman(r)
    standard_error = math.sqrt(1.06 / (n - 3)) * (1 - truth**2)
    assert found.high - found.low == pytest.approx(2 * 1.96 * standard_error, rel=0.25)
    assert abs(found.estimate - truth) < 3 * standard_error
    assert found.low < found.estimate < found.high


def test_interval_covers_about_95_percent() -> None:
    """Over many small samples, the percentile interval holds the population ρ about 95 % of
    the time (percentile intervals run a little short at n = 60)."""
    rng = np.random.default_rng(5)
    truth = population_spearman(0.4)
    hits = 0
    trials = 150
    for trial in range(trials):
        x, y = correlated(60, 0.4, rng)
        found = bootstrap_spearman(x, y, resample_indices(60, 300, seed=trial))
        hits += found.low <= truth <= found.high
    assert 0.85 <= hits / trials <= 0.99


def test_independent_samples_straddle_zero_and_a_monotone_one_is_exact() -> None:
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal(400), rng.standard_normal(400)
    found = bootstrap_spearman(x, y, resample_indices(400, 300, seed=0))
    assert found.low < 0 < found.high
    exact = bootstrap_spearman(x, np.exp(x), resample_indices(400, 50, seed=0))
    assert (exact.estimate, exact.low, exact.high) == pytest.approx((1.0, 1.0, 1.0))


def test_difference_is_paired() -> None:
    rng = np.random.default_rng(7)
    x, y = correlated(300, 0.5, rng)
    draws = resample_indices(300, 200, seed=0)
    same = bootstrap_difference(x, x, y, draws)
    assert (same.estimate, same.low, same.high) == (0.0, 0.0, 0.0)
    noisy = x + 2 * rng.standard_normal(300)
    better = bootstrap_difference(x, noisy, y, draws)
    assert better.estimate == pytest.approx(spearman(x, y) - spearman(noisy, y))
    assert better.low > 0  # x predicts y much better than x buried in noise


def test_no_resamples_no_interval_and_json_has_no_nan() -> None:
    found = bootstrap_spearman([1, 2, 3, 4], [1, 3, 2, 4], resample_indices(4, 0, seed=0))
    assert found.estimate == pytest.approx(0.8)
    assert found.to_dict() == {"estimate": 0.8, "low": None, "high": None}
    assert Interval(math.nan, 0.1, 0.2).to_dict()["estimate"] is None


def test_top_overlap_ignores_order() -> None:
    assert top_overlap(["a", "b", "c"], ["c", "a", "d"]) == 2
    assert top_overlap(["a"], []) == 0
