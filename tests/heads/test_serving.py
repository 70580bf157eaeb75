"""The serving slot of the feature head: a damaged head falls back to the mapping."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tunelens.heads import feature as fh
from tunelens.heads.feature import load_feature_head
from tunelens.heads.serving import FeatureHeadSlot
from tunelens.heads.store import REPORT_FILE


@pytest.mark.parametrize("damage", ["truncated weights", "head.json without its encoder"])
def test_a_damaged_head_falls_back_to_the_mapping(tmp_path: Path, damage: str) -> None:
    """A head whose files are damaged is refused with a notice; the engine keeps serving."""
    folder = tmp_path / "m" / "features" / "20240101T000000Z"
    folder.mkdir(parents=True)
    meta = {
        "kind": "features",
        "model": "ridge",
        "encoder": {"model_id": "m", "dim": 4},
        "features": ["valence"],
        "emotions": ["joy"],
    }
    np.savez(tmp_path / "w.npz", w=np.zeros((4, 1)))
    whole = (tmp_path / "w.npz").read_bytes()
    if damage == "truncated weights":
        (folder / fh.RIDGE_FILE).write_bytes(whole[: len(whole) // 2])
    else:
        (folder / fh.RIDGE_FILE).write_bytes(whole)
        del meta["encoder"]
    (folder / fh.META_FILE).write_text(json.dumps(meta))
    (folder / REPORT_FILE).write_text(json.dumps({"passed": True}))
    with pytest.raises(ValueError, match="unreadable head"):
        load_feature_head(folder)
    slot = FeatureHeadSlot(tmp_path, "m", 4, blend=0.5)
    assert any("cannot be used" in notice for notice in slot.notices)
