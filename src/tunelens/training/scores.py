"""Classification scores and the gate every trained head must pass: beat the majority-class
baseline by more than luck.

"Always sadness" can score well on a folder that is mostly sad, so a head's accuracy is
always reported beside the majority-class baseline's, and a head passes only when it is
above the baseline *and* a one-sided binomial test of its correct answers against the
baseline's accuracy gives p < :data:`SIGNIFICANCE`. The reading heads and the emotion part
of the feature heads share this gate; the feature heads' sign test uses :func:`binomial_tail`
too.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

#: a head is activated only when beating the baseline this clearly (one-sided binomial test)
SIGNIFICANCE = 0.05


def binomial_tail(successes: int, trials: int, p: float) -> float:
    """P(X ≥ successes) for X ~ Binomial(trials, p), summed in log space (exact)."""
    if successes <= 0:
        return 1.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(trials + 1)
        - math.lgamma(k + 1)
        - math.lgamma(trials - k + 1)
        + k * log_p
        + (trials - k) * log_q
        for k in range(successes, trials + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def scores(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 and the confusion matrix over ``labels`` (rows: truth)."""
    # scikit-learn costs about a second to import; only scoring a run needs it
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score  # noqa: PLC0415

    if not truth:
        return {"accuracy": None, "macro_f1": None, "confusion_matrix": None}
    matrix = confusion_matrix(truth, predicted, labels=list(labels))
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        # macro-F1 over the labels in the truth or the answers (scikit-learn's default), so
        # labels nobody used do not count as zeros
        "macro_f1": round(float(f1_score(truth, predicted, average="macro", zero_division=0)), 4),
        "confusion_matrix": {"labels": list(labels), "rows": matrix.astype(int).tolist()},
    }


def verdict(accuracy: float, baseline: float, n: int) -> tuple[bool, float, str]:
    """(passed, p-value, sentence): does ``accuracy`` beat the majority baseline, not by luck?"""
    correct = round(accuracy * n)
    p_value = binomial_tail(correct, n, baseline)
    passed = accuracy > baseline and p_value < SIGNIFICANCE
    if passed:
        text = (
            f"accuracy {accuracy:.1%} beats the majority-class baseline {baseline:.1%} "
            f"(one-sided binomial p = {p_value:.2g} < {SIGNIFICANCE})"
        )
    elif accuracy > baseline:
        text = (
            f"accuracy {accuracy:.1%} is above the majority-class baseline {baseline:.1%} but "
            f"could be luck (one-sided binomial p = {p_value:.2g} ≥ {SIGNIFICANCE})"
        )
    else:
        text = f"accuracy {accuracy:.1%} does not beat the majority-class baseline {baseline:.1%}"
    return passed, round(p_value, 6), text


def majority_baseline(truth: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Scores of always answering the most common label (what "always sadness" gets)."""
    if not truth:
        return {"label": None, "accuracy": None, "macro_f1": None}
    # ties go to the label that comes first in the vocabulary (``labels`` order)
    counts = Counter(truth)
    label = max(labels, key=lambda name: (counts.get(name, 0), -list(labels).index(name)))
    out = scores(truth, [label] * len(truth), labels)
    out.pop("confusion_matrix")
    return {"label": label, **out}
