"""The softmax every head shares."""

from __future__ import annotations

import numpy as np

from tunelens.heads.softmax import softmax


def test_softmax_sums_to_one_and_survives_large_logits() -> None:
    p = softmax(np.array([[1000.0, 1000.0], [0.0, np.log(3.0)]], dtype=np.float32))
    assert p.dtype == np.float32
    np.testing.assert_allclose(p, [[0.5, 0.5], [0.25, 0.75]], rtol=1e-6)
