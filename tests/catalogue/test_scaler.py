"""The robust scaler: median and IQR, unknown values neutral, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tunelens.catalogue.scaler import RobustScaler


def test_robust_scaler() -> None:
    matrix = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, np.nan], [4.0, 5.0], [100.0, 5.0]])
    scaler = RobustScaler.fit(matrix, ["a", "b"])
    assert scaler.median == (3.0, 5.0)
    assert scaler.scale == (2.0, 1.0)  # IQR 4-2; zero IQR falls back to 1
    scaled = scaler.transform(matrix)
    assert scaled.dtype == np.float32
    assert scaled[2, 1] == 0.0  # unknown → median
    assert scaled[4, 0] == pytest.approx(48.5)
    assert RobustScaler.from_dict(json.loads(json.dumps(scaler.to_dict()))) == scaler
    np.testing.assert_allclose(scaler.inverse_transform(scaled[:2]), matrix[:2])
    with pytest.raises(ValueError):
        RobustScaler.from_dict({"names": ["a"], "median": [0.0], "scale": [0.0]})
