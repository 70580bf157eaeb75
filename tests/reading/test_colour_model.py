"""The fitted colour reader's package data and how it turns a reading into emotions."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from tunelens.core import vocab
from tunelens.reading.colour_model import (
    ColourModel,
    load_colour_model,
    model_path,
    read_model_file,
)
from tunelens.vision.perceptual import FEATURE_NAMES

EMOTIONS = vocab.emotions()
POSITIVE = {"amusement", "awe", "contentment", "excitement"}


def probabilities(model: ColourModel, valence: float, arousal: float) -> dict[str, float]:
    p = model.emotion_probabilities(valence, arousal, EMOTIONS)
    return dict(zip(EMOTIONS.names, (float(x) for x in p), strict=True))


def test_packaged_model_loads_and_names_real_features() -> None:
    assert model_path().is_file()
    model = load_colour_model()
    assert set(model.features) <= set(FEATURE_NAMES)
    assert len(model.mean) == len(model.scale) == len(model.features)
    assert all(s > 0 for s in model.scale)
    assert 0 < model.valence.residual_sd < 1 and 0 < model.arousal.residual_sd < 1
    assert model.priors["disgust"] < 1


def test_the_packaged_file_ships_no_research_data() -> None:
    """Coefficients and figures only: no photo names, no per-photo ratings."""
    text = model_path().read_text(encoding="utf-8")
    assert ".jpg" not in text.lower() and "valence_mean" not in text


def test_prediction_follows_the_weights_signs() -> None:
    model = load_colour_model()
    middle = dict(zip(model.features, model.mean, strict=True))
    base = model.predict(middle)
    assert base == pytest.approx((model.valence.intercept, model.arousal.intercept), abs=1e-9)
    for i, name in enumerate(model.features):
        moved = {**middle, name: middle[name] + model.scale[i]}
        v, a = model.predict(moved)
        assert np.sign(v - base[0]) == np.sign(model.valence.weights[i])
        assert np.sign(a - base[1]) == np.sign(model.arousal.weights[i])


def test_prediction_stays_in_range_and_needs_its_features() -> None:
    model = load_colour_model()
    extreme = {n: 1e6 for n in model.features}
    v, a = model.predict(extreme)
    assert -1 <= v <= 1 and -1 <= a <= 1
    with pytest.raises(ValueError, match="perceptual features"):
        model.predict({})


def test_probabilities_sum_to_one_everywhere() -> None:
    model = load_colour_model()
    for v in np.linspace(-1, 1, 7):
        for a in np.linspace(-1, 1, 7):
            p = model.emotion_probabilities(float(v), float(a), EMOTIONS)
            assert p.shape == (8,) and p.sum() == pytest.approx(1.0, abs=1e-5)
            assert (p >= 0).all()


def test_confidence_grows_with_the_distance_from_neutral() -> None:
    model = load_colour_model()
    positive = [
        sum(probabilities(model, v, -0.1)[n] for n in POSITIVE) for v in (0.0, 0.2, 0.4, 0.7)
    ]
    assert positive == sorted(positive)
    assert 0.35 < positive[0] < 0.75  # at neutral valence: no confident side
    assert positive[-1] > 0.9
    # a reading at the centre is flatter than one far out
    centre = max(probabilities(model, 0.0, 0.0).values())
    far = max(probabilities(model, 0.8, -0.5).values())
    assert centre < 0.5 < far


def test_a_calm_bright_warm_reading_is_never_fear_or_anger() -> None:
    model = load_colour_model()
    for v in (0.05, 0.2, 0.4, 0.7):
        for a in (-0.6, -0.3, -0.1, 0.0, 0.1):
            p = probabilities(model, v, a)
            top = max(p, key=lambda n: p[n])
            assert top in POSITIVE, (v, a, p)
            assert p["fear"] + p["anger"] < 0.1


def test_disgust_is_never_the_confident_answer() -> None:
    model = load_colour_model()
    for v in np.linspace(-1, 1, 9):
        for a in np.linspace(-1, 1, 9):
            assert probabilities(model, float(v), float(a))["disgust"] < 0.5


def test_a_wider_residual_spread_flattens_the_answer() -> None:
    model = load_colour_model()
    wide = replace(
        model,
        valence=replace(model.valence, residual_sd=1.0),
        arousal=replace(model.arousal, residual_sd=1.0),
    )
    assert max(probabilities(wide, 0.6, -0.3).values()) < max(
        probabilities(model, 0.6, -0.3).values()
    )


def test_from_dict_refuses_weights_that_do_not_fit_the_features() -> None:
    data: dict[str, Any] = read_model_file()
    data["valence"] = {**data["valence"], "weights": data["valence"]["weights"][:-1]}
    with pytest.raises(ValueError, match="weights"):
        ColourModel.from_dict(data)
