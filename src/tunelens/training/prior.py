"""``tunelens train --from-feedback``: fit the feedback prior's strength on the stored votes.

The prior strength ``m`` of :mod:`tunelens.recommend.feedback` (pseudo-votes shrinking a
song's prior towards 0) is picked by maximising the leave-one-vote-out likelihood of the
stored votes (:func:`fit_prior_strength`). A fit that passes is saved with
:func:`tunelens.heads.prior.save_prior_fit`, where the feedback effects read it back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from tunelens.core.settings import Settings, get_settings
from tunelens.heads.prior import save_prior_fit
from tunelens.recommend.feedback import NOT_INTERESTED_WEIGHT, PRIOR_STRENGTH
from tunelens.storage.db import Database
from tunelens.storage.repository import Votes, track_votes

#: candidate prior strengths (pseudo-votes) tried by :func:`fit_prior_strength`
STRENGTH_GRID: tuple[float, ...] = tuple(
    sorted({*(round(float(x), 3) for x in np.geomspace(0.25, 200.0, 40)), 5.0})
)
#: votes on songs with at least two voters needed before the fit says anything
MIN_INFORMATIVE_VOTES = 30

#: (likes, dislikes, not interested) of one song
VoteCounts = tuple[float, float, float]


def _loo_log_likelihood(
    votes: Sequence[VoteCounts], strength: float, weight_ni: float
) -> tuple[float, float]:
    """(sum of weighted log-likelihoods, total weight) of each vote given the song's other
    votes, under the feedback prior: P(like) = (likes + m/2) / (weighted votes + m)."""
    total, weight = 0.0, 0.0
    half = strength / 2
    for likes, dislikes, not_interested in votes:
        against = dislikes + weight_ni * not_interested
        n = likes + against
        if likes:
            p = (likes - 1 + half) / (n - 1 + strength)
            total += likes * math.log(max(p, 1e-12))
            weight += likes
        if dislikes:
            p = (likes + half) / (n - 1 + strength)
            total += dislikes * math.log(max(1 - p, 1e-12))
            weight += dislikes
        if not_interested:
            p = (likes + half) / (n - weight_ni + strength)
            total += weight_ni * not_interested * math.log(max(1 - p, 1e-12))
            weight += weight_ni * not_interested
    return total, weight


def _mean_log_likelihood(rows: Sequence[VoteCounts], strength: float) -> float:
    total, weight = _loo_log_likelihood(rows, strength, NOT_INTERESTED_WEIGHT)
    return total / weight if weight else 0.0


def fit_prior_strength(
    votes: Mapping[str, Votes], *, min_votes: int = MIN_INFORMATIVE_VOTES
) -> dict[str, Any]:
    """Pick the prior strength ``m`` that best predicts each stored vote from the others.

    Only songs with two or more voters say anything about ``m`` (with one vote every ``m``
    predicts 50 %), so those are the data; with fewer than ``min_votes`` of their votes the
    report says so and recommends keeping the default. ``m → ∞`` (no per-song prior, every
    song 50 %) is reported beside the fit as the baseline it must beat.
    """
    rows: list[VoteCounts] = [
        (float(v.likes), float(v.dislikes), float(v.not_interested))
        for v in votes.values()
        if v.likes + v.dislikes + v.not_interested >= 2
    ]
    informative = sum(a + b + c for a, b, c in rows)
    all_votes = sum(v.likes + v.dislikes + v.not_interested for v in votes.values())
    likes = sum(v.likes for v in votes.values())
    report: dict[str, Any] = {
        "kind": "feedback-prior",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "songs_with_votes": len(votes),
        "votes": int(all_votes),
        "songs_with_2plus_voters": len(rows),
        "informative_votes": int(informative),
        "like_share": round(likes / all_votes, 4) if all_votes else None,
        "default_strength": PRIOR_STRENGTH,
        "min_informative_votes": min_votes,
    }
    if informative < min_votes:
        report.update(
            passed=False,
            prior_strength=PRIOR_STRENGTH,
            verdict=(
                f"only {int(informative)} votes on songs with two or more voters (need "
                f"{min_votes}); not enough to fit anything, keeping the default "
                f"m = {PRIOR_STRENGTH:g}"
            ),
        )
        return report
    report.update(_best_strength(rows))
    return report


def _best_strength(rows: Sequence[VoteCounts]) -> dict[str, Any]:
    """The grid's best ``m`` beside the default and "no prior", and whether it passed."""
    grid = {m: _mean_log_likelihood(rows, m) for m in STRENGTH_GRID}
    best = max(grid, key=lambda m: (grid[m], m))  # ties: the larger m, the more cautious
    no_prior = math.log(0.5)
    passed = grid[best] > no_prior
    return {
        "prior_strength": best if passed else PRIOR_STRENGTH,
        "fitted_strength": best,
        "mean_log_likelihood": {
            "fitted": round(grid[best], 5),
            "default": round(grid[PRIOR_STRENGTH], 5),
            "no_prior": round(no_prior, 5),
        },
        "passed": passed,
        "verdict": (
            f"m = {best:g} predicts held-out votes best (mean log-likelihood {grid[best]:.4f} "
            f"vs {grid[PRIOR_STRENGTH]:.4f} for the default m = {PRIOR_STRENGTH:g} and "
            f"{no_prior:.4f} without a per-song prior); saved"
            if passed
            else "no prior strength predicts held-out votes better than a coin flip; "
            f"keeping the default m = {PRIOR_STRENGTH:g}"
        ),
    }


def train_from_feedback(db: Database, settings: Settings | None = None) -> dict[str, Any]:
    """Fit the prior strength on the stored votes; save it when the fit passed."""
    settings = settings or get_settings()
    report = fit_prior_strength(track_votes(db))
    if report["passed"]:
        report["path"] = str(save_prior_fit(settings.reranking_dir, report))
    return report
