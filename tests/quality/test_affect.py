"""The affect harness: ratings, the 1994 baseline, and the report on synthetic pictures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.quality.conftest import HEADER, save_pictures, write_rated_greys
from tunelens.core.errors import InvalidRequest
from tunelens.core.settings import get_settings
from tunelens.quality.affect import (
    BASELINE,
    READER,
    READER_NO_FACES,
    AffectJob,
    evaluate_affect,
    valdez_mehrabian,
)


@pytest.mark.parametrize(
    ("rgb", "expected"),
    [
        ((255, 255, 255), (0.69, -0.31)),  # V = 1, S = 0
        ((255, 0, 0), (0.91, 0.29)),  # V = 1, S = 1
        ((0, 0, 0), (0.0, 0.0)),
        ((128, 128, 128), (0.69 * 128 / 255, -0.31 * 128 / 255)),
    ],
)
def test_valdez_mehrabian(rgb: tuple[int, int, int], expected: tuple[float, float]) -> None:
    pixels = np.zeros((50, 80, 3), dtype=np.uint8) + np.array(rgb, dtype=np.uint8)
    assert valdez_mehrabian(pixels) == pytest.approx(expected, abs=1e-3)


def test_report_on_grey_pictures(tmp_path: Path, mood_catalog: Path) -> None:
    """On grey pictures the baseline's pleasure is brightness and its arousal minus brightness,
    so against ratings that follow lightness both ρ are exactly 1; the unreadable photo is
    reported, not fatal; the report is plain JSON."""
    levels = [20, 45, 70, 95, 120, 145, 170, 195, 220, 245]
    images, ratings = write_rated_greys(tmp_path, levels)
    job = AffectJob(images, ratings, encoder="colour", catalog_dir=mood_catalog, bootstrap=40)
    report = evaluate_affect(get_settings(), job)
    json.dumps(report, allow_nan=False)
    assert report["photos"] == 10 and report["themes"] == 4
    assert [s["file"] for s in report["skipped"]] == ["missing.png"]
    readers = {r["name"]: r for r in report["readers"]}
    assert set(readers) <= {READER, READER_NO_FACES, BASELINE} and READER in readers
    baseline = readers[BASELINE]["overall"]
    assert baseline["n"] == 10
    assert baseline["valence"] == {"estimate": 1.0, "low": 1.0, "high": 1.0}
    assert baseline["arousal"] == {"estimate": 1.0, "low": 1.0, "high": 1.0}
    assert set(readers[BASELINE]["categories"]) == {"Object", "Scenery"}
    assert readers[BASELINE]["categories"]["Object"]["n"] == 5
    ours = readers[READER]
    for dim in ("valence", "arousal"):
        rho = ours["overall"][dim]["estimate"]
        difference = ours["minus_baseline"][dim]["estimate"]
        if rho is None:  # a reading constant over the pictures has no rank order
            assert difference is None
        else:
            assert -1 <= rho <= 1 and math.isclose(difference, rho - 1.0, abs_tol=2e-3)
    assert "minus_baseline" not in readers[BASELINE]
    assert report["bootstrap"] == {"rounds": 40, "seed": 0, "coverage": 0.95}


def test_same_seed_same_report(tmp_path: Path, mood_catalog: Path) -> None:
    rng = np.random.default_rng(0)
    pictures = {
        f"n{i}.png": Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8))
        for i in range(8)
    }
    images = save_pictures(tmp_path / "noise", pictures)
    ratings = tmp_path / "ratings.csv"
    rows = [f"n{i}.png,T,Object,{rng.uniform(1, 7)},{rng.uniform(1, 7)}" for i in range(8)]
    ratings.write_text(HEADER + "\n".join(rows) + "\n")
    job = AffectJob(images, ratings, encoder="colour", catalog_dir=mood_catalog, bootstrap=30)
    first = evaluate_affect(get_settings(), job)
    assert first == evaluate_affect(get_settings(), job)


def test_nothing_readable_is_an_error(tmp_path: Path, mood_catalog: Path) -> None:
    ratings = tmp_path / "ratings.csv"
    ratings.write_text(HEADER + "gone.png,T,Object,4,4\n")
    job = AffectJob(tmp_path, ratings, encoder="colour", catalog_dir=mood_catalog)
    with pytest.raises(InvalidRequest, match="none of the 1 rated photos"):
        evaluate_affect(get_settings(), job)
