"""The saved feedback prior: written as a version, read back newest passing first."""

from __future__ import annotations

from pathlib import Path

from tests.labelled_pictures import settings_for
from tunelens.heads.prior import load_prior_strength, save_prior_fit


def test_the_newest_passing_fit_is_read_back(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    assert load_prior_strength(settings) == (None, None)
    report = {"passed": True, "prior_strength": 2.5}
    path = save_prior_fit(settings.reranking_dir, report)
    assert path.name == report["version"]
    assert load_prior_strength(settings) == (2.5, path.name)
    save_prior_fit(settings.reranking_dir, {"passed": True, "prior_strength": float("nan")})
    assert load_prior_strength(settings) == (2.5, path.name)  # an unusable fit is skipped
