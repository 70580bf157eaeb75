"""A trained linear head: saved and loaded, and scikit-learn's one-row binary form."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tunelens.core import vocab
from tunelens.heads.linear import LinearHead


def test_linear_head_round_trip_and_binary_form(tmp_path: Path) -> None:
    head = LinearHead(
        task="genre",
        model_id="m",
        classes=("jazz", "rock"),
        weights=np.array([[2.0, 0.0]], dtype=np.float32),
        bias=np.array([0.0], dtype=np.float32),
        report={"passed": True},
    )
    head.save(tmp_path / "v1")
    loaded = LinearHead.load(tmp_path / "v1")
    p = loaded.probabilities(np.array([[1.0, 0.0], [-1.0, 0.0]], dtype=np.float32), vocab.genres())
    rock, jazz = vocab.genres().names.index("rock"), vocab.genres().names.index("jazz")
    assert p[0, rock] > 0.85 and p[1, jazz] > 0.85
    assert np.allclose(p.sum(axis=1), 1.0)
