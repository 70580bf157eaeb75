"""The feedback prior's strength, fitted on stored votes, saved where the feedback effects
read it, and ``tunelens train --from-feedback``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.labelled_pictures import settings_for
from tunelens.cli.app import main
from tunelens.core.settings import get_settings
from tunelens.heads.prior import load_prior_strength
from tunelens.recommend.feedback import PRIOR_STRENGTH, FeedbackEffects
from tunelens.storage import repository as repo
from tunelens.storage.db import Database
from tunelens.storage.repository import Votes
from tunelens.training.prior import fit_prior_strength, train_from_feedback


def _votes(probabilities: list[float], voters: int, seed: int = 0) -> dict[str, Votes]:
    rng = np.random.default_rng(seed)
    out = {}
    for i, p in enumerate(probabilities):
        likes = int(rng.binomial(voters, p))
        out[f"t{i}"] = Votes(likes=likes, dislikes=voters - likes)
    return out


def test_prior_strength_fit() -> None:
    # songs people clearly agree on: a weak prior (small m) predicts held-out votes best
    polarised = fit_prior_strength(_votes([0.1, 0.9] * 15, voters=6))
    assert polarised["passed"] and polarised["prior_strength"] < PRIOR_STRENGTH
    ll = polarised["mean_log_likelihood"]
    assert ll["fitted"] >= ll["default"] and ll["fitted"] > ll["no_prior"]
    # coin-flip votes: no per-song prior beats 50 %, nothing is saved
    noise = fit_prior_strength(_votes([0.5] * 30, voters=6, seed=1))
    assert not noise["passed"] and noise["prior_strength"] == PRIOR_STRENGTH
    # too few votes on songs with two or more voters: says so
    few = fit_prior_strength({"a": Votes(likes=1), "b": Votes(likes=1, dislikes=1)})
    assert not few["passed"] and "not enough" in few["verdict"]


def test_train_from_feedback_saves_where_feedback_effects_read(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "home")
    db = Database.from_settings(settings)
    rng = np.random.default_rng(3)
    for track in range(12):
        p = 0.9 if track % 2 else 0.1
        for voter in range(5):
            kind = "like" if rng.random() < p else "dislike"
            repo.record_feedback(db, track_id=f"t{track}", kind=kind, client_id=f"c{voter}")
    report = train_from_feedback(db, settings)
    assert report["passed"] and report["votes"] == 60
    strength, version = load_prior_strength(settings)
    assert strength == report["prior_strength"] and version == report["version"]
    effects = FeedbackEffects.from_settings(db, settings)
    assert effects.prior_strength == strength
    db.dispose()


def test_train_from_feedback_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--from-feedback"]) == 0
    out = capsys.readouterr().out
    assert "not enough" in out
    assert load_prior_strength(get_settings()) == (None, None)
