"""Ridge regression that also penalises how much its prediction moves under exposure changes.

The colour reader predicts people's ratings from lightness and colour, and both change when
the same photo is taken a little brighter or darker. A plain ridge fit leans on them as far
as the ratings allow, so ±10 % exposure moved its valence by a fifth of its own spread and
changed half of the songs. People would not rate a photo differently for a 10 % exposure
change, so the fit is told so: beside the squared errors it minimises the squared change of
the prediction between each photo and its exposure-changed copies
(:mod:`tunelens.vision.exposure`),

    minimise  Σ (y − ȳ − z·w)²  +  β Σ (Δz·w)²  +  α ‖w‖²,

with z the standardised features and Δz their changes. It has a closed form,
``w = (ZᵀZ + β ΔZᵀΔZ + α I)⁻¹ Zᵀ(y − ȳ)``, intercept ȳ; with β = 0 it is scikit-learn's
``Ridge(alpha)`` on standardised features, the fit the reader used before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Design:
    """The photos' features (one row per photo) and, per exposure change, the same photos'
    features after that change (same shape)."""

    x: Array
    changed: tuple[Array, ...]

    def rows(self, index: NDArray[np.int64]) -> Design:
        """The same design restricted to some photos (a fold)."""
        return Design(self.x[index], tuple(c[index] for c in self.changed))

    def columns(self, index: Sequence[int]) -> Design:
        """The same design restricted to some features (an ablation)."""
        cols = list(index)
        return Design(self.x[:, cols], tuple(c[:, cols] for c in self.changed))


@dataclass(frozen=True)
class InvariantRidge:
    """A fitted axis: standardisation, weights on the standardised features, intercept."""

    mean: Array
    scale: Array
    weights: Array
    intercept: float

    def predict(self, x: Array) -> Array:
        out: Array = ((x - self.mean) / self.scale) @ self.weights + self.intercept
        return out


def fit(design: Design, y: Array, *, alpha: float, invariance: float) -> InvariantRidge:
    """The closed-form fit of the module doc (``invariance`` is β)."""
    mean = design.x.mean(axis=0)
    scale = design.x.std(axis=0)
    scale[scale == 0] = 1.0  # a constant feature: as scikit-learn's StandardScaler does
    z = (design.x - mean) / scale
    gram = z.T @ z + alpha * np.eye(z.shape[1])
    for changed in design.changed:
        dz = (changed - design.x) / scale
        gram += invariance * (dz.T @ dz)
    centre = float(y.mean())
    weights = np.linalg.solve(gram, z.T @ (y - centre))
    return InvariantRidge(mean, scale, weights, centre)


def sensitivity(model: InvariantRidge, design: Design) -> float:
    """How far an exposure change moves the prediction, in units of the prediction's own
    spread over the same photos: mean |change| over photos and changes, divided by the SD."""
    base = model.predict(design.x)
    spread = float(base.std())
    if spread == 0 or not design.changed:
        return 0.0
    moved = [float(np.abs(model.predict(c) - base).mean()) for c in design.changed]
    return float(np.mean(moved)) / spread
