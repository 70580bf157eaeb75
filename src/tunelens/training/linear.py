"""``tunelens train --images DIR --task emotion|genre``: a linear reading head from a labelled
folder (:mod:`tunelens.training.folders`).

Every picture is embedded once with the frozen encoder; a multinomial logistic regression
(scikit-learn, on standardised embeddings, folded back into one weight matrix) is scored by
stratified k-fold cross-validation, with the majority-class baseline (always answering the
most common label) beside it, so "always sadness" can never pass for learning. The head is
then fitted on every picture and saved as a new version under
``<data_dir>/heads/<encoder model_id>/<task>/<UTC time>/`` (``head.npz`` + ``report.json``).

A head is **activated** — picked by the engine at its next start in place of the zero-shot or
colour probabilities — only when its cross-validated accuracy beats the baseline's and the
difference is unlikely to be luck (:func:`tunelens.training.scores.verdict`). The report says
which.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tunelens.core.errors import InvalidRequest
from tunelens.heads.linear import LinearHead, task_vocabulary
from tunelens.heads.store import new_version, publish, set_active, staging, task_dir
from tunelens.training.folders import (
    EmbeddedFolder,
    LabelledFolder,
    Task,
    embed_folder,
    scan_folder,
)
from tunelens.training.run import TrainingRun
from tunelens.training.scores import majority_baseline, scores, verdict
from tunelens.vision.base import Encoder, FloatArray

#: most cross-validation folds; fewer when the smallest class has fewer pictures
MAX_FOLDS = 5
#: inverse regularisation strength of the logistic regression (scikit-learn's default)
REGULARISATION_C = 1.0


def _pipeline(seed: int) -> Any:
    # scikit-learn costs about a second to import; only fitting a head needs it
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.pipeline import make_pipeline  # noqa: PLC0415
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415

    return make_pipeline(
        StandardScaler(),
        LogisticRegression(C=REGULARISATION_C, max_iter=5000, random_state=seed),
    )


def fit_linear(
    embeddings: FloatArray, labels: Sequence[str], *, seed: int = 0
) -> tuple[list[str], NDArray[np.float32], NDArray[np.float32]]:
    """(classes, weights, bias) of a logistic regression on standardised embeddings, with the
    standardisation folded in so the head is one affine map of the raw embedding."""
    model = _pipeline(seed).fit(embeddings, list(labels))
    scaler, logistic = model[0], model[1]
    scale = np.asarray(scaler.scale_, dtype=np.float64)
    mean = np.asarray(scaler.mean_, dtype=np.float64)
    coef = np.asarray(logistic.coef_, dtype=np.float64) / scale
    bias = np.asarray(logistic.intercept_, dtype=np.float64) - coef @ mean
    classes = [str(c) for c in logistic.classes_]
    return classes, coef.astype(np.float32), bias.astype(np.float32)


def cross_validate(
    embeddings: FloatArray, labels: Sequence[str], *, seed: int = 0
) -> dict[str, Any]:
    """Out-of-fold predictions of the head (stratified k-fold, k ≤ 5)."""
    from sklearn.model_selection import (  # noqa: PLC0415 -- see _pipeline
        StratifiedKFold,
        cross_val_predict,
    )

    counts = Counter(labels)
    if len(counts) < 2:
        raise InvalidRequest(
            f"Training needs readable pictures of at least two labels; found {dict(counts)}.",
            code="too_few_labels",
            details={"counts": dict(sorted(counts.items()))},
        )
    smallest = min(counts.values())
    if smallest < 2:
        raise InvalidRequest(
            "Every label needs at least 2 pictures for cross-validation; "
            + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()) if v < 2)
            + ".",
            code="too_few_images",
            details={"counts": dict(sorted(counts.items()))},
        )
    folds = min(MAX_FOLDS, smallest)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    y = np.asarray(labels)
    predicted = cross_val_predict(_pipeline(seed), embeddings, y, cv=splitter)
    return {"folds": folds, "seed": seed, "predicted": [str(p) for p in predicted]}


def encoder_block(encoder: Encoder) -> dict[str, Any]:
    """How a report names the encoder its pictures were embedded with."""
    return {"name": encoder.name, "model_id": encoder.model_id, "pretrained": encoder.is_pretrained}


@dataclass(frozen=True)
class CrossValidated:
    """A head's out-of-fold scores beside the majority baseline's, and the gate's verdict."""

    cv: dict[str, Any]
    scores: dict[str, Any]
    baseline: dict[str, Any]
    p_value: float
    passed: bool
    sentence: str


@dataclass
class TrainResult:
    head: LinearHead
    report: dict[str, Any]
    path: Path


def train_head(images: Path, task: Task, run: TrainingRun) -> TrainResult:
    """Embed a labelled folder, cross-validate, fit and save a new head version."""
    folder = scan_folder(images, task)
    model, notices = run.load_encoder()
    for notice in notices:
        run.say(f"notice: {notice}")
    run.say(f"embedding {len(folder.paths)} pictures with {model.name} ({model.model_id})")
    embedded = embed_folder(folder, model, run)
    scored = _cross_validated_scores(embedded, task, run.seed)
    fitted_classes, weights, bias = fit_linear(embedded.embeddings, embedded.labels, seed=run.seed)
    parent = task_dir(run.settings.heads_dir, model.model_id, task)
    parent.mkdir(parents=True, exist_ok=True)
    version = new_version(parent)
    report = _report(folder, embedded, model, version, scored)
    report["notices"] = notices
    head = LinearHead(
        task=task,
        model_id=model.model_id,
        classes=tuple(fitted_classes),
        weights=weights,
        bias=bias,
        version=version,
        report=report,
    )
    # write into a hidden staging folder, then rename: a half-written head is never picked up
    with staging(parent) as staged:
        head.save(staged)
        path = publish(staged, version)
    head.path = path
    if report["passed"]:  # the newest passing head becomes the active one (``heads rollback``)
        set_active(parent, version, reason="trained: beat the majority-class baseline")
    return TrainResult(head=head, report=report, path=path)


def _cross_validated_scores(embedded: EmbeddedFolder, task: Task, seed: int) -> CrossValidated:
    """The out-of-fold scores, the baseline's, and the gate's verdict."""
    cv = cross_validate(embedded.embeddings, embedded.labels, seed=seed)
    classes = sorted(set(embedded.labels), key=task_vocabulary(task).names.index)
    head_scores = scores(embedded.labels, cv["predicted"], classes)
    baseline = majority_baseline(embedded.labels, classes)
    passed, p_value, sentence = verdict(
        head_scores["accuracy"], baseline["accuracy"], len(embedded.labels)
    )
    return CrossValidated(
        cv={"folds": cv["folds"], "seed": seed, "stratified": True},
        scores=head_scores,
        baseline=baseline,
        p_value=p_value,
        passed=passed,
        sentence=sentence,
    )


def _report(
    folder: LabelledFolder,
    embedded: EmbeddedFolder,
    model: Encoder,
    version: str,
    scored: CrossValidated,
) -> dict[str, Any]:
    """The head's ``report.json`` (without its notices), in its documented key order."""
    task, passed = folder.task, scored.passed
    return {
        "kind": "cross-validated",
        "task": task,
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "encoder": encoder_block(model),
        "images_dir": str(folder.root),
        "images": len(embedded.labels),
        "images_digest": embedded.digest,
        "class_counts": dict(sorted(Counter(embedded.labels).items())),
        "skipped": embedded.skipped,
        "ignored_files": folder.ignored,
        "model": f"StandardScaler + LogisticRegression(C={REGULARISATION_C}), multinomial",
        "cv": scored.cv,
        "accuracy": scored.scores["accuracy"],
        "macro_f1": scored.scores["macro_f1"],
        "confusion_matrix": scored.scores["confusion_matrix"],
        "baseline": scored.baseline,
        "p_value": scored.p_value,
        "passed": passed,
        "activated": passed,
        "verdict": scored.sentence
        + (
            "; activated: the engine uses it for "
            f"{task} from its next start (newest passing version wins)"
            if passed
            else "; NOT activated: the engine keeps its current reading for " + task
        ),
    }
