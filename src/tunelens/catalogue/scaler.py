"""Put every audio feature on one scale before distances are computed.

Features live in very different units (tempo ~120 BPM, loudness ~−7 dB, valence 0–1), so a
raw Euclidean distance would be all tempo. :class:`RobustScaler` uses the median and the
inter-quartile range, which outliers such as a 4-second track or a −46 dB ambient piece do not
distort the way mean/std would. The fitted numbers are stored in the index's ``meta.json``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["FloatArray", "RobustScaler"]

#: the float32 matrices and vectors the index stores and searches
FloatArray = NDArray[np.float32]


@dataclass(frozen=True)
class RobustScaler:
    """Per-feature ``(x − median) / IQR`` over the known values; unknown → the median (0).

    Imputing the median makes an unknown feature neutral: it neither attracts nor repels.
    A feature with no spread (IQR 0, e.g. ``time_signature`` is almost always 4) or no known
    values gets scale 1 so it cannot blow up into huge distances.
    """

    names: tuple[str, ...]
    median: tuple[float, ...]
    scale: tuple[float, ...]

    @classmethod
    def fit(cls, matrix: NDArray[np.floating[Any]], names: Sequence[str]) -> RobustScaler:
        """Fit on ``matrix`` (N, F) whose columns are ``names``; NaN = unknown."""
        if matrix.ndim != 2 or matrix.shape[1] != len(names):
            raise ValueError(f"matrix shape {matrix.shape} does not match {len(names)} names")
        medians: list[float] = []
        scales: list[float] = []
        for j in range(matrix.shape[1]):
            column = matrix[:, j]
            known = column[~np.isnan(column)].astype(np.float64)
            if known.size == 0:
                medians.append(0.0)
                scales.append(1.0)
                continue
            q1, med, q3 = np.percentile(known, [25.0, 50.0, 75.0])
            iqr = float(q3 - q1)
            medians.append(float(med))
            scales.append(iqr if iqr > 1e-12 else 1.0)
        return cls(tuple(names), tuple(medians), tuple(scales))

    def transform(self, matrix: NDArray[np.floating[Any]]) -> FloatArray:
        """Scale (N, F) or (F,) raw values; NaN becomes 0 (the median)."""
        values = np.asarray(matrix, dtype=np.float64)
        if values.shape[-1] != len(self.names):
            raise ValueError(f"expected {len(self.names)} features, got {values.shape[-1]}")
        scaled = (values - np.asarray(self.median)) / np.asarray(self.scale)
        out: FloatArray = np.nan_to_num(scaled, nan=0.0).astype(np.float32)
        return out

    def inverse_transform(self, scaled: NDArray[np.floating[Any]]) -> FloatArray:
        """Back to raw units (for explaining a scaled target)."""
        values = np.asarray(scaled, dtype=np.float64)
        out: FloatArray = (values * np.asarray(self.scale) + np.asarray(self.median)).astype(
            np.float32
        )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form stored in ``meta.json``."""
        return {"names": list(self.names), "median": list(self.median), "scale": list(self.scale)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RobustScaler:
        """Inverse of :meth:`to_dict`; ValueError when the shape is wrong."""
        names = tuple(str(n) for n in data["names"])
        median = tuple(float(m) for m in data["median"])
        scale = tuple(float(s) for s in data["scale"])
        if not len(names) == len(median) == len(scale):
            raise ValueError("scaler names/median/scale lengths differ")
        if not all(math.isfinite(s) and s > 0 for s in scale):
            raise ValueError("scaler scales must be positive")
        return cls(names, median, scale)
