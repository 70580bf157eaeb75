"""The gate's arithmetic: the exact binomial tail, and the majority baseline."""

from __future__ import annotations

import pytest

from tunelens.training.scores import binomial_tail, majority_baseline, verdict


def test_binomial_tail() -> None:
    assert binomial_tail(0, 10, 0.5) == 1.0
    assert binomial_tail(10, 10, 0.5) == pytest.approx(1 / 1024)
    assert binomial_tail(6, 10, 0.5) == pytest.approx(386 / 1024)


def test_majority_baseline_and_verdict() -> None:
    baseline = majority_baseline(["b", "a", "b"], ["a", "b"])
    assert baseline["label"] == "b" and baseline["accuracy"] == pytest.approx(0.6667)
    # a tie goes to the label first in the vocabulary's order
    assert majority_baseline(["b", "a"], ["a", "b"])["label"] == "a"
    passed, _, sentence = verdict(0.9, 0.5, 100)
    assert passed and "beats" in sentence
    lucky, _, sentence = verdict(0.6, 0.5, 10)
    assert not lucky and "could be luck" in sentence
