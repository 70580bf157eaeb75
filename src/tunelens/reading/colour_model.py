"""The fitted colour reader: valence and arousal from perceptual features, and how a reading
becomes emotion probabilities.

Its numbers are package data (``reading/data/colour_reader.json``) written by
``tunelens train reader`` (:mod:`tunelens.training.affect_fit`) from people's ratings of the
OASIS calibration photos, so they are fitted, not guessed, and anyone with the data can
reproduce them (a test refits and compares). Valence and arousal are on the people's scale:
their mean rating 1…7 rescaled to [-1, 1] (4, "neutral", is 0). A linear model of a few
features explains only part of what people rate (the picture's content matters more than
its colour), so its predictions stay close to the middle; that is the honest answer.

Emotion probabilities follow from the reading and from how uncertain it is: the fit measures
how far people's ratings fall from the prediction on held-out themes (the residual spread per
axis), and the probability of each of the 8 Mikels emotions is the chance that the people's
point lies in that emotion's part of the circumplex (nearest emotion, with soft borders),
integrated over that spread with a Gauss–Hermite grid. So a reading near the centre stays
flat, and only a reading far from neutral on an axis the model can see is confident. Disgust
is about content (decay, filth), which colour cannot show: it keeps a prior weight below 1.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tunelens.core.types import ReadingScale
from tunelens.core.vocab import Vocabulary
from tunelens.vision.base import FloatArray

#: the package data file the fit writes and the reader loads
MODEL_FILE = "colour_reader.json"
#: Gauss–Hermite nodes per axis (49 points: exact for the smooth kernel at this width)
GRID_POINTS = 7


@dataclass(frozen=True)
class AxisModel:
    """One axis (valence or arousal): standardised-feature weights, intercept, and how far
    people's ratings fall from the prediction on held-out themes (the residual spread)."""

    weights: tuple[float, ...]
    intercept: float
    residual_sd: float


def _fitted_spread(data: Mapping[str, Any]) -> ReadingScale | None:
    """The mean and SD of the fitted predictions over the calibration photos, from the report."""
    spread = data.get("report", {}).get("spread", {})
    try:
        valence, arousal = spread["fitted_valence"], spread["fitted_arousal"]
        return ReadingScale(
            valence=(float(valence["mean"]), float(valence["sd"])),
            arousal=(float(arousal["mean"]), float(arousal["sd"])),
        )
    except (KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class ColourModel:
    """The fitted colour reader (see the module doc)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    valence: AxisModel
    arousal: AxisModel
    #: width of the soft border between emotions' parts of the circumplex
    kernel: float
    #: prior weight per emotion (1 when absent)
    priors: Mapping[str, float]
    #: where its own predictions fall over the calibration photos (the fit's report), if known
    spread: ReadingScale | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColourModel:
        """The model from the JSON the fit writes (extra keys, the report, are ignored)."""
        features = tuple(str(n) for n in data["features"])
        axes = {}
        for axis in ("valence", "arousal"):
            raw = data[axis]
            weights = tuple(float(w) for w in raw["weights"])
            if len(weights) != len(features):
                msg = (
                    f"colour reader: {axis} has {len(weights)} weights for {len(features)} features"
                )
                raise ValueError(msg)
            axes[axis] = AxisModel(weights, float(raw["intercept"]), float(raw["residual_sd"]))
        emotion = data["emotion"]
        return cls(
            features=features,
            mean=tuple(float(x) for x in data["mean"]),
            scale=tuple(float(x) for x in data["scale"]),
            valence=axes["valence"],
            arousal=axes["arousal"],
            kernel=float(emotion["kernel"]),
            priors={str(k): float(v) for k, v in emotion["priors"].items()},
            spread=_fitted_spread(data),
        )

    def standardised(self, perceptual: Mapping[str, float]) -> NDArray[np.float64]:
        """The model's features of one picture, standardised as in the fit."""
        missing = [n for n in self.features if n not in perceptual]
        if missing:
            msg = f"colour statistics lack the perceptual features {missing}"
            raise ValueError(msg)
        values = np.array([perceptual[n] for n in self.features], dtype=np.float64)
        z: NDArray[np.float64] = (values - np.array(self.mean)) / np.array(self.scale)
        return z

    def predict(self, perceptual: Mapping[str, float]) -> tuple[float, float]:
        """(valence, arousal) in [-1, 1]: the people's mean rating the features predict."""
        z = self.standardised(perceptual)
        out = []
        for axis in (self.valence, self.arousal):
            value = float(z @ np.array(axis.weights)) + axis.intercept
            out.append(max(-1.0, min(1.0, value)))
        return out[0], out[1]

    def emotion_probabilities(
        self, valence: float, arousal: float, terms: Vocabulary
    ) -> FloatArray:
        """Each emotion's probability: the chance that people's (valence, arousal) lies in
        its part of the circumplex, given this reading and the fit's residual spread."""
        nodes, weights = np.polynomial.hermite_e.hermegauss(GRID_POINTS)
        weights = weights / weights.sum()
        coords = np.array([[t.valence, t.arousal] for t in terms.terms])
        log_prior = np.log([self.priors.get(t.name, 1.0) for t in terms.terms])
        v = valence + self.valence.residual_sd * nodes
        a = arousal + self.arousal.residual_sd * nodes
        points = np.stack(np.meshgrid(v, a, indexing="ij"), axis=-1).reshape(-1, 2)
        mass = np.outer(weights, weights).reshape(-1)
        dist2 = ((points[:, None, :] - coords[None, :, :]) ** 2).sum(axis=-1)
        logits = -dist2 / self.kernel + log_prior
        logits -= logits.max(axis=1, keepdims=True)
        per_point = np.exp(logits)
        per_point /= per_point.sum(axis=1, keepdims=True)
        probs = mass @ per_point
        out: FloatArray = np.asarray(probs / probs.sum(), dtype=np.float32)
        return out


def model_path() -> Path:
    """Where the packaged model lives (inside the installed package)."""
    return Path(str(resources.files("tunelens.reading").joinpath("data", MODEL_FILE)))


def read_model_file(path: Path | None = None) -> dict[str, Any]:
    """The raw JSON of a colour reader model (the packaged one by default)."""
    data: dict[str, Any] = json.loads((path or model_path()).read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=1)
def load_colour_model() -> ColourModel:
    """The packaged fitted colour reader, read once per process."""
    return ColourModel.from_dict(read_model_file())
