"""The exposure-penalised ridge: β = 0 is scikit-learn's ridge, a larger β steadies the
prediction under the changes, and the design slices by photos and by features."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

from tunelens.training.invariant_ridge import Design, fit, sensitivity


def _design(seed: int = 0) -> tuple[Design, np.ndarray]:
    """Two features predict y equally well, but only the first moves under the 'exposure'
    changes, so a steady fit must move its weight to the second."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=200)
    x = np.column_stack(
        [signal + rng.normal(0, 0.3, 200), signal + rng.normal(0, 0.3, 200), rng.normal(size=200)]
    )
    shift = np.array([0.5, 0.0, 0.0])
    changed = (x - shift, x + shift)
    return Design(x, changed), signal + rng.normal(0, 0.1, 200)


def test_without_the_penalty_it_is_scikit_learns_ridge() -> None:
    design, y = _design()
    ours = fit(design, y, alpha=10.0, invariance=0.0)
    scaler = StandardScaler().fit(design.x)
    theirs = Ridge(alpha=10.0).fit(scaler.transform(design.x), y)
    assert np.allclose(ours.weights, theirs.coef_, atol=1e-10)
    assert np.isclose(ours.intercept, theirs.intercept_, atol=1e-10)
    assert np.allclose(ours.predict(design.x), theirs.predict(scaler.transform(design.x)))


def test_the_penalty_moves_weight_to_the_steady_feature() -> None:
    design, y = _design()
    plain = fit(design, y, alpha=1.0, invariance=0.0)
    steady = fit(design, y, alpha=1.0, invariance=100.0)
    assert abs(plain.weights[0] - plain.weights[1]) < 0.2  # equally good, equally used
    assert abs(steady.weights[0]) < 0.1 * abs(steady.weights[1])
    assert sensitivity(steady, design) < 0.2 * sensitivity(plain, design)
    # and it still predicts: the steady feature carries the same signal
    assert np.corrcoef(steady.predict(design.x), y)[0, 1] > 0.9


def test_rows_and_columns_slice_every_part() -> None:
    design, _ = _design()
    part = design.rows(np.array([0, 5, 7])).columns([2, 0])
    assert part.x.shape == (3, 2)
    assert all(c.shape == (3, 2) for c in part.changed)
    assert np.array_equal(part.changed[1], design.changed[1][[0, 5, 7]][:, [2, 0]])


def test_a_constant_feature_or_no_changes_do_not_divide_by_zero() -> None:
    design, y = _design()
    flat = Design(np.column_stack([design.x, np.ones(200)]), ())
    model = fit(flat, y, alpha=1.0, invariance=10.0)
    assert np.isfinite(model.weights).all() and model.scale[-1] == 1.0
    assert sensitivity(model, flat) == 0.0
