"""Where a song's feature value sits among the catalogue's songs: what the reasons call
distinctive, close or far (:mod:`tunelens.explain.reasons`).

Measured once per catalogue (the pipeline keeps it) and read for every song of every answer,
so the lookups of one answer are vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class FeatureQuantiles:
    """Each mood feature's catalogue values, sorted: where a value sits among the songs.

    Quantiles rather than the ranking's scaling, because "distinctive" must mean "unlike most
    songs of this catalogue" whatever scale the ranking uses (and a near-constant feature is
    not distinctive just because its spread is tiny)."""

    sorted_values: dict[str, NDArray[np.float64]]

    @classmethod
    def from_matrix(cls, names: Sequence[str], matrix: NDArray[np.floating]) -> FeatureQuantiles:
        """From an (N, F) matrix in ``names`` order; NaN (unknown) values left out."""
        out: dict[str, NDArray[np.float64]] = {}
        for column, name in enumerate(names):
            values = np.asarray(matrix[:, column], dtype=np.float64)
            values = np.sort(values[np.isfinite(values)])
            if len(values):
                out[name] = values
        return cls(out)

    def median(self, name: str) -> float | None:
        values = self.sorted_values.get(name)
        return None if values is None else float(values[len(values) // 2])

    def spread(self, name: str) -> float:
        """The interquartile range: how much the catalogue's songs differ on the feature."""
        values = self.sorted_values.get(name)
        if values is None:
            return 0.0
        n = len(values)
        return float(values[(3 * n) // 4] - values[n // 4])

    def quantile(self, name: str, value: float) -> float | None:
        """The mid-rank share of songs below ``value`` (ties count half), None when unknown."""
        values = self.sorted_values.get(name)
        if values is None:
            return None
        low = int(np.searchsorted(values, value, side="left"))
        high = int(np.searchsorted(values, value, side="right"))
        return (low + high) / 2.0 / len(values)

    def quantiles(self, name: str, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """:meth:`quantile` of many values of one known feature at once (the same numbers)."""
        ordered = self.sorted_values[name]
        low = np.searchsorted(ordered, values, side="left")
        high = np.searchsorted(ordered, values, side="right")
        return np.asarray((low + high) / 2.0 / len(ordered), dtype=np.float64)
