"""Put every audio feature on one scale before distances are computed.

Features live in very different units (tempo ~120 BPM, loudness ~−7 dB, valence 0–1), so a
raw Euclidean distance would be all tempo. :class:`RobustScaler` centres on the median and
divides by a robust spread, which outliers such as a 4-second track or a −46 dB ambient piece
do not distort the way mean/std would.

The spread is the inter-quartile range — unless the middle half of the songs is squeezed
together. Spotify's instrumentalness is 0 (or 0.0001) for most songs with vocals, so its IQR
in the default catalogue is 0.0076: dividing by it made a difference of 0.01, which no
listener hears, count like a whole valence range, and every recommended song fell in a band
holding 7.7 % of the catalogue. So the spread is the largest of

* the IQR;
* the spread of the central 80 % (P90 − P10) × 0.526, which equals the IQR for normally
  distributed values but sees the real spread of a feature that is mostly one value
  (instrumentalness 0.24 instead of 0.0076), and still ignores the outer 10 % on each side;
* a floor per feature, :data:`SCALE_FLOORS` (0.05 on Spotify's 0–1 scales, 5 BPM, 1 dB): a
  difference smaller than that is below what the features resolve, so a feature that is
  nearly constant in a catalogue is nearly ignored instead of amplifying its noise.

The fitted numbers are stored in the index's ``meta.json`` (``scaler``, with ``method``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["SCALE_FLOORS", "SCALE_METHOD", "FloatArray", "RobustScaler"]

#: the float32 matrices and vectors the index stores and searches
FloatArray = NDArray[np.float32]

#: least spread per feature (in its own units); 0–1 features not listed use DEFAULT_FLOOR
SCALE_FLOORS: dict[str, float] = {
    "tempo": 5.0,
    "loudness": 1.0,
    "duration_ms": 10_000.0,
    "key": 1.0,
    "time_signature": 0.5,
}
DEFAULT_FLOOR = 0.05
#: P90 − P10 of a normal distribution is 2.563 σ and its IQR 1.349 σ: this turns one into the other
CENTRAL_80_TO_IQR = 1.349 / 2.563
#: recorded in meta.json so a reader knows how the stored scales were fitted
SCALE_METHOD = "max(iqr, 0.526*(p90-p10), floor)"


def robust_spread(known: NDArray[np.float64], name: str) -> float:
    """The spread a feature is divided by (see the module doc); ``known`` is non-empty."""
    p10, q1, q3, p90 = np.percentile(known, [10.0, 25.0, 75.0, 90.0])
    return max(
        float(q3 - q1),
        float(p90 - p10) * CENTRAL_80_TO_IQR,
        SCALE_FLOORS.get(name, DEFAULT_FLOOR),
    )


@dataclass(frozen=True)
class RobustScaler:
    """Per-feature ``(x − median) / spread`` over the known values; unknown → the median (0).

    Imputing the median makes an unknown feature neutral: it neither attracts nor repels.
    The spread is :func:`robust_spread` (IQR, widened for squeezed features, with a floor);
    a feature with no known values gets scale 1.
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
            medians.append(float(np.median(known)))
            scales.append(robust_spread(known, str(names[j])))
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
        return {
            "names": list(self.names),
            "median": list(self.median),
            "scale": list(self.scale),
            "method": SCALE_METHOD,
        }

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
