"""``tunelens train reader``: fit the colour reader on people's ratings, cross-validated by theme.

Photos of one OASIS theme are near-duplicates in mood, so every figure here comes from
theme-grouped folds (:class:`sklearn.model_selection.GroupKFold`, 10 folds): the model never
sees a photo of the theme it is scored on. The report gives Spearman ρ per fold and over all
out-of-fold predictions pooled (the stricter figure: fold-to-fold shifts of the intercept count
against it), beside the hand-set formula the reader used before.

What is fitted, and why these choices:

* **features** (:data:`READER_FEATURES`): five perceptual features, one or two from each group
  that earned its place in the group ablation (:func:`ablation`, documented in
  ``docs/quality.md``): chroma spread, hue variety, CIELAB lightness, a lit centre, and uneven
  light. More features scored lower on held-out themes: with 375 photos of 114 themes, a
  larger model learns the themes, not the light.
* **model**: standardised features, ridge regression (α = 10), one per axis, that also
  penalises how far ±10 % exposure moves the prediction (:mod:`.invariant_ridge`, β =
  :data:`EXPOSURE_INVARIANCE`); targets are people's mean ratings rescaled from 1…7 to
  [-1, 1]. The report's ``exposure`` part gives, for every β of :data:`INVARIANCE_GRID`, the
  cross-validated ρ and how far the exposure changes move each axis (its sensitivity), so
  the price of the steadiness is on record.
* **residual spread**: the root mean square of the out-of-fold residuals per axis, how far
  people's ratings fall from a prediction on a theme the model never saw; the reader's emotion
  probabilities integrate over it (:mod:`tunelens.reading.colour_model`).
* **kernel**: the softness of the borders between emotions, chosen from :data:`KERNELS` by the
  log loss of the out-of-fold emotion probabilities against the emotion whose circumplex
  position is nearest to people's mean rating.

The model, its figures, the sha256 of the ratings file and the library versions are written
as JSON (by default the packaged ``reading/data/colour_reader.json``); a test refits from the
data and compares.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.model_selection import GroupKFold

from tunelens.core import vocab
from tunelens.core.atomic import write_atomic
from tunelens.reading.colour_model import AxisModel, ColourModel
from tunelens.reading.faces import FaceReader
from tunelens.reading.ratings import RatedPhoto, read_ratings
from tunelens.training.affect_data import Measured, fingerprint, measure, spearman
from tunelens.training.affect_faces import face_blend_figures
from tunelens.training.invariant_ridge import Design, InvariantRidge, fit, sensitivity
from tunelens.training.run import TrainingRun
from tunelens.vision.exposure import EXPOSURE_FACTORS
from tunelens.vision.perceptual import FEATURE_GROUPS

Array = NDArray[np.float64]

READER_FEATURES: tuple[str, ...] = (
    "chroma_spread",
    "hue_variety",
    "lightness",
    "centre_minus_surround",
    "block_lightness_spread",
)
ALPHA = 10.0
#: β: the weight of the squared prediction change under ±10 % exposure against the squared
#: error. 10 is the smallest of :data:`INVARIANCE_GRID` at which the shared photos keep 7 of
#: their 10 songs under that change (docs/quality.md, "Exposure-steady reader"); it costs
#: 0.05 of cross-validated valence ρ, which stays above the issue's 0.30 with faces read
EXPOSURE_INVARIANCE = 10.0
INVARIANCE_GRID = (0.0, 1.0, 3.0, 10.0, 30.0, 100.0)
FOLDS = 10
KERNELS = (0.02, 0.05, 0.1, 0.2, 0.4)
#: colour cannot show disgust (it is about content), so its prior weight stays below 1
EMOTION_PRIORS = {"disgust": 0.3}
AXES = ("valence", "arousal")


@dataclass(frozen=True)
class CrossValidated:
    """Out-of-fold predictions of one axis and their agreement with people."""

    oof: Array
    per_fold: list[float]
    pooled: float

    @property
    def mean_fold(self) -> float:
        return float(np.mean(self.per_fold))

    def figures(self) -> dict[str, Any]:
        return {
            "spearman": round(self.pooled, 6),
            "spearman_mean_fold": round(self.mean_fold, 6),
            "spearman_per_fold": [round(r, 6) for r in self.per_fold],
        }


def folds(groups: Sequence[str]) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """The theme-grouped folds (deterministic: GroupKFold balances fold sizes)."""
    splitter = GroupKFold(n_splits=min(FOLDS, len(set(groups))))
    index = np.zeros(len(groups))
    return [(tr, te) for tr, te in splitter.split(index, index, np.asarray(groups))]


def fit_axis(data: Design, y: Array, invariance: float = EXPOSURE_INVARIANCE) -> InvariantRidge:
    return fit(data, y, alpha=ALPHA, invariance=invariance)


def cross_validate(
    data: Design, y: Array, groups: Sequence[str], invariance: float = EXPOSURE_INVARIANCE
) -> CrossValidated:
    oof = np.zeros(len(y))
    per_fold = []
    for train, test in folds(groups):
        model = fit_axis(data.rows(train), y[train], invariance)
        oof[test] = model.predict(data.x[test])
        per_fold.append(spearman(oof[test], y[test]))
    return CrossValidated(oof, per_fold, spearman(oof, y))


def _matrix(features: Sequence[Mapping[str, float]], names: Sequence[str]) -> Array:
    return np.array([[row[n] for n in names] for row in features], dtype=np.float64)


def design(measured: Measured, names: Sequence[str]) -> Design:
    """The named features of every rated photo, as measured and after each exposure change."""
    return Design(
        _matrix(measured.features, names),
        tuple(_matrix(changed, names) for changed in measured.exposed),
    )


def targets(photos: Sequence[RatedPhoto]) -> dict[str, Array]:
    return {
        "valence": np.array([p.valence for p in photos]),
        "arousal": np.array([p.arousal for p in photos]),
    }


def ablation(measured: Measured, photos: Sequence[RatedPhoto]) -> dict[str, Any]:
    """Pooled out-of-fold ρ per axis: every feature group alone, all groups, all but one
    group, the chosen features, and the chosen features less one at a time."""
    groups = [p.theme for p in photos]
    ys = targets(photos)

    def score(names: Sequence[str]) -> dict[str, float]:
        data = design(measured, names)
        return {axis: round(cross_validate(data, ys[axis], groups).pooled, 4) for axis in AXES}

    every = [n for names in FEATURE_GROUPS.values() for n in names]
    return {
        "group_alone": {g: score(names) for g, names in FEATURE_GROUPS.items()},
        "all_groups": score(every),
        "all_but_group": {
            g: score([n for n in every if n not in names]) for g, names in FEATURE_GROUPS.items()
        },
        "chosen": score(READER_FEATURES),
        "chosen_but_feature": {
            f: score([n for n in READER_FEATURES if n != f]) for f in READER_FEATURES
        },
    }


def nearest_emotions(photos: Sequence[RatedPhoto]) -> list[int]:
    """For each photo, the emotion whose circumplex position is nearest people's rating."""
    coords = np.array([[t.valence, t.arousal] for t in vocab.emotions().terms])
    points = np.array([[p.valence, p.arousal] for p in photos])
    dist2 = ((points[:, None, :] - coords[None, :, :]) ** 2).sum(axis=-1)
    return [int(i) for i in dist2.argmin(axis=1)]


def emotion_log_loss(model: ColourModel, oof: Mapping[str, Array], labels: Sequence[int]) -> float:
    terms = vocab.emotions()
    losses = [
        -math.log(max(float(model.emotion_probabilities(v, a, terms)[k]), 1e-12))
        for v, a, k in zip(oof["valence"], oof["arousal"], labels, strict=True)
    ]
    return float(np.mean(losses))


def fit_kernel(
    base: ColourModel, oof: Mapping[str, Array], photos: Sequence[RatedPhoto]
) -> tuple[float, dict[str, float]]:
    """The kernel of :data:`KERNELS` whose out-of-fold emotion probabilities have the lowest
    log loss, and every kernel's log loss (beside the label frequencies' own)."""
    labels = nearest_emotions(photos)
    losses = {}
    for kernel in KERNELS:
        model = replace(base, kernel=kernel)
        losses[str(kernel)] = round(emotion_log_loss(model, oof, labels), 6)
    counts = np.bincount(labels, minlength=len(vocab.emotions().terms)) / len(labels)
    losses["label_frequencies"] = round(
        float(-np.mean([math.log(max(counts[k], 1e-12)) for k in labels])), 6
    )
    best = min(KERNELS, key=lambda k: losses[str(k)])
    return best, losses


@dataclass(frozen=True)
class ReaderFit:
    """The fitted model: what the JSON holds and the CLI prints — coefficients and the fit's
    report, with the face blend's held-out figures when faces were measured."""

    model: dict[str, Any]


def _versions() -> dict[str, str]:
    names = ("tunelens", "numpy", "scipy", "scikit-learn", "pillow")
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def residual_sd(ys: Mapping[str, Array], cv: Mapping[str, CrossValidated]) -> dict[str, float]:
    """Per axis, the root mean square of the out-of-fold residuals."""
    return {a: float(np.sqrt(np.mean((ys[a] - cv[a].oof) ** 2))) for a in AXES}


def _final_model(
    data: Design, ys: Mapping[str, Array], residual: Mapping[str, float]
) -> ColourModel:
    """Fit on the photos given; the residual spread is measured out of fold by the caller."""
    axes = {}
    fitted = {axis: fit_axis(data, ys[axis]) for axis in AXES}
    for axis, model in fitted.items():
        axes[axis] = AxisModel(
            weights=tuple(float(w) for w in model.weights),
            intercept=model.intercept,
            residual_sd=residual[axis],
        )
    scaling = fitted["valence"]
    return ColourModel(
        features=READER_FEATURES,
        mean=tuple(float(m) for m in scaling.mean),
        scale=tuple(float(s) for s in scaling.scale),
        valence=axes["valence"],
        arousal=axes["arousal"],
        kernel=KERNELS[0],
        priors=dict(EMOTION_PRIORS),
    )


def model_dict(model: ColourModel) -> dict[str, Any]:
    """The JSON body the reader loads (:meth:`ColourModel.from_dict`)."""
    return {
        "features": list(model.features),
        "mean": list(model.mean),
        "scale": list(model.scale),
        **{
            axis: {
                "weights": list(m.weights),
                "intercept": m.intercept,
                "residual_sd": m.residual_sd,
            }
            for axis, m in (("valence", model.valence), ("arousal", model.arousal))
        },
        "emotion": {"kernel": model.kernel, "priors": dict(model.priors)},
    }


def _spread(values: Array) -> dict[str, float]:
    return {"mean": round(float(values.mean()), 6), "sd": round(float(values.std()), 6)}


def fit_reader(
    images: Path, ratings: Path, run: TrainingRun, face_reader: FaceReader | None = None
) -> ReaderFit:
    """Measure the rated photos, cross-validate, fit on all of them, and report."""
    photos = read_ratings(ratings, min_themes=2)
    run.say(f"measuring {len(photos)} rated photos in {images}")
    measured: Measured = measure(images, photos, run, face_reader)
    groups = [p.theme for p in photos]
    ys = targets(photos)
    data = design(measured, READER_FEATURES)
    cv = {axis: cross_validate(data, ys[axis], groups) for axis in AXES}
    hand_set = np.array(measured.hand_set)
    residual = residual_sd(ys, cv)
    model = _final_model(data, ys, residual)
    kernel, kernel_losses = fit_kernel(model, {a: cv[a].oof for a in AXES}, photos)
    model = replace(model, kernel=kernel)
    fitted = dict(zip(AXES, _predict_all(model, data.x), strict=True))
    run.say("ablation of the feature groups")
    body = model_dict(model)
    body["report"] = {
        "scale": "people's mean rating, 1…7 rescaled to [-1, 1] ((r − 4) / 3)",
        "model": (
            f"standardised features, ridge α = {ALPHA:g}, one per axis, prediction changes "
            f"under ±10 % exposure penalised with β = {EXPOSURE_INVARIANCE:g}"
        ),
        "cross_validation": {
            "folds": len(cv["valence"].per_fold),
            "grouped_by": "theme",
            **{axis: cv[axis].figures() for axis in AXES},
            "by_category": _by_category(photos, cv),
        },
        "before": {
            "what": "the hand-set formula the colour reader used before (no fit)",
            "valence": round(spearman(hand_set[:, 0], ys["valence"]), 6),
            "arousal": round(spearman(hand_set[:, 1], ys["arousal"]), 6),
        },
        "emotion_kernel_log_loss": kernel_losses,
        "ablation": ablation(measured, photos),
        "exposure": exposure_report(data, ys, groups),
        "spread": {
            **{f"fitted_{a}": _spread(fitted[a]) for a in AXES},
            **{f"people_{a}": _spread(ys[a]) for a in AXES},
        },
        **_provenance(ratings, photos),
    }
    if measured.faces is not None:
        # the product reads faces (the installed default), so the held-out figures with
        # faces blended in are the offline reader's own and belong with the model
        run.say("measuring the face blend")
        held_out = cv_oof_models(replace(model, kernel=kernel), data, ys, groups)
        body["report"]["faces"] = face_blend_figures(photos, measured, held_out)
    return ReaderFit(model=body)


def _provenance(ratings: Path, photos: Sequence[RatedPhoto]) -> dict[str, Any]:
    """Which data the model came from, with which libraries, and the command that refits it."""
    return {
        "data": {
            "ratings_sha256": fingerprint(ratings),
            "photos": len(photos),
            "themes": len({p.theme for p in photos}),
        },
        "versions": _versions(),
        "command": (
            "tunelens train reader --images ../shared/data/affect_oasis_calibration/images "
            "--ratings ../shared/data/affect_oasis_calibration/ratings.csv"
        ),
    }


def exposure_report(data: Design, ys: Mapping[str, Array], groups: Sequence[str]) -> dict[str, Any]:
    """For every β of :data:`INVARIANCE_GRID`: each axis's pooled out-of-fold ρ, and how far
    the exposure changes move the prediction of the model fitted on all photos, in units of
    its own spread (the price and the gain of the chosen β, side by side)."""
    sweep: dict[str, dict[str, float]] = {}
    for beta in INVARIANCE_GRID:
        row: dict[str, float] = {}
        for axis in AXES:
            row[axis] = round(cross_validate(data, ys[axis], groups, beta).pooled, 6)
            moved = sensitivity(fit_axis(data, ys[axis], beta), data)
            row[f"{axis}_sensitivity"] = round(moved, 6)
        sweep[f"{beta:g}"] = row
    return {
        "factors": list(EXPOSURE_FACTORS),
        "invariance": EXPOSURE_INVARIANCE,
        "sensitivity": "mean |prediction change| over photos and changes / SD of predictions",
        "sweep": sweep,
    }


def _predict_all(model: ColourModel, x: Array) -> tuple[Array, Array]:
    rows = [dict(zip(model.features, row, strict=True)) for row in x]
    pairs = np.array([model.predict(r) for r in rows])
    return pairs[:, 0], pairs[:, 1]


def _by_category(
    photos: Sequence[RatedPhoto], cv: Mapping[str, CrossValidated]
) -> dict[str, dict[str, float]]:
    out = {}
    for category in sorted({p.category for p in photos}):
        idx = [i for i, p in enumerate(photos) if p.category == category]
        out[category] = {
            "photos": len(idx),
            **{
                axis: round(spearman(cv[axis].oof[idx], targets(photos)[axis][idx]), 6)
                for axis in AXES
            },
        }
    return out


def cv_oof_models(
    final: ColourModel, data: Design, ys: Mapping[str, Array], groups: Sequence[str]
) -> list[ColourModel]:
    """For each photo, the colour model fitted without its theme (the final model's residual
    spread and kernel), to measure the face blend on held-out readings."""
    residual = {"valence": final.valence.residual_sd, "arousal": final.arousal.residual_sd}
    per_photo: list[ColourModel] = [final] * len(groups)
    for train, test in folds(groups):
        fold = _final_model(data.rows(train), {a: ys[a][train] for a in AXES}, residual)
        for i in test:
            per_photo[int(i)] = replace(fold, kernel=final.kernel)
    return per_photo


def write_model(model: Mapping[str, Any], path: Path) -> None:
    """Write the model JSON (sorted keys, stable numbers) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(model, indent=2, ensure_ascii=False) + "\n"
    write_atomic(path, text.encode("utf-8"))
