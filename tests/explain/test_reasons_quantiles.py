"""Where a value sits among the catalogue's songs: one value at a time and many at once agree."""

from __future__ import annotations

import numpy as np

from tunelens.explain.reasons_quantiles import FeatureQuantiles


def _quantiles() -> FeatureQuantiles:
    matrix = np.array([[0.1, 60.0], [0.5, np.nan], [0.5, 120.0], [0.9, 90.0]])
    return FeatureQuantiles.from_matrix(["energy", "tempo"], matrix)


def test_unknown_values_are_left_out_and_ties_count_half() -> None:
    q = _quantiles()
    assert list(q.sorted_values["tempo"]) == [60.0, 90.0, 120.0]
    assert q.quantile("energy", 0.5) == 0.5  # one below, two equal: (1 + 3) / 2 / 4
    assert q.quantile("energy", 0.0) == 0.0 and q.quantile("energy", 1.0) == 1.0
    assert q.quantile("loudness", 0.5) is None
    assert q.median("tempo") == 90.0 and q.spread("tempo") == 60.0


def test_many_values_at_once_are_the_same_numbers_as_one_by_one() -> None:
    q = _quantiles()
    values = np.array([0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95])
    many = q.quantiles("energy", values)
    assert many.tolist() == [q.quantile("energy", float(v)) for v in values]
    assert q.quantiles("tempo", np.array([], dtype=np.float64)).shape == (0,)
