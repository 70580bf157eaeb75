"""Retraining: linear heads from labelled picture folders, and the feedback prior's strength.

**Heads** (``tunelens train --images DIR --task emotion|genre``). ``DIR`` holds one sub-folder
per label, named after a term of the task's vocabulary (``DIR/amusement/*.jpg``,
``DIR/sadness/*.jpg``). Every picture is embedded once with the frozen encoder; a
multinomial logistic regression (scikit-learn, on standardised embeddings, folded back into one
weight matrix) is scored by stratified k-fold cross-validation, with the majority-class
baseline (always answering the most common label) beside it, so "always sadness" can never
pass for learning. The head is then fitted on every picture and saved as a new version under
``<data_dir>/heads/<encoder model_id>/<task>/<UTC time>/`` (``head.npz`` + ``report.json``).

A head is **activated** — picked by the engine at its next start in place of the zero-shot or
colour probabilities — only when its cross-validated accuracy beats the baseline's and the
difference is unlikely to be luck: a one-sided binomial test of the number of correct
out-of-fold answers against the baseline's accuracy, p < 0.05. The report says which.

**Evaluation** (``tunelens eval --images DIR``) runs the reader the engine would use (trained
heads included) over a labelled folder and prints the same report, without cross-validation.

**Feedback** (``tunelens train --from-feedback``) fits one number, the prior strength ``m`` of
:mod:`tunelens.recommend.feedback` (pseudo-votes shrinking a song's prior towards 0), by maximising the
leave-one-vote-out likelihood of the stored votes; see :func:`fit_prior_strength`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from tunelens.core.errors import InvalidRequest, TunelensError
from tunelens.core.settings import EncoderChoice, Settings, get_settings
from tunelens.heads.linear import HEAD_TASKS, LinearHead, task_dir, task_vocabulary
from tunelens.vision.base import Encoder, FloatArray
from tunelens.vision.imaging import LoadedImage, load_image

Task = Literal["emotion", "genre"]

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".mpo"}
)
#: most cross-validation folds; fewer when the smallest class has fewer pictures
MAX_FOLDS = 5
#: a head is activated only when beating the baseline this clearly (one-sided binomial test)
SIGNIFICANCE = 0.05
#: pictures embedded per encoder call
EMBED_BATCH = 16
#: inverse regularisation strength of the logistic regression (scikit-learn's default)
REGULARISATION_C = 1.0

Progress = Callable[[str], None]


# --------------------------------------------------------------------------- labelled folders


@dataclass
class LabelledFolder:
    """The pictures of a labelled folder: relative paths and their labels, in a fixed order."""

    root: Path
    task: Task
    paths: list[str]
    labels: list[str]
    ignored: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.labels).items()))


def _canonical_labels(task: Task) -> dict[str, str]:
    return {name.casefold(): name for name in task_vocabulary(task).names}


def infer_task(root: Path) -> Task:
    """The task whose vocabulary names every sub-folder of ``root`` (for ``tunelens eval``)."""
    names = [p.name.casefold() for p in _label_dirs(root)]
    for task in ("emotion", "genre"):
        known = _canonical_labels(task)
        if names and all(n in known for n in names):
            return task
    raise InvalidRequest(
        f"The sub-folders of {root} ({', '.join(sorted(names)) or 'none'}) are not all "
        "emotions or all genres; pass --task.",
        code="unknown_task",
    )


def _label_dirs(root: Path) -> list[Path]:
    if not root.is_dir():
        raise InvalidRequest(
            f"{root} is not a folder of labelled pictures.",
            code="images_dir_missing",
            details={"path": str(root)},
        )
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def scan_folder(root: Path, task: Task) -> LabelledFolder:
    """List the pictures of a labelled folder; every sub-folder must name a vocabulary term."""
    if task not in HEAD_TASKS:
        raise InvalidRequest(
            f"task must be one of {', '.join(HEAD_TASKS)}, got {task!r}.", code="unknown_task"
        )
    known = _canonical_labels(task)
    folder = LabelledFolder(root=root, task=task, paths=[], labels=[])
    unknown: list[str] = []
    for sub in _label_dirs(root):
        label = known.get(sub.name.casefold())
        if label is None:
            unknown.append(sub.name)
            continue
        for dirpath, dirnames, filenames in os.walk(sub):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = Path(dirpath) / name
                rel = path.relative_to(root).as_posix()
                if name.startswith(".") or path.suffix.lower() not in IMAGE_SUFFIXES:
                    folder.ignored.append(rel)
                    continue
                folder.paths.append(rel)
                folder.labels.append(label)
    if unknown:
        raise InvalidRequest(
            f"Sub-folders of {root} must be {task} names ({', '.join(known.values())}); "
            f"not: {', '.join(unknown)}.",
            code="unknown_label",
            details={"unknown": unknown, "allowed": list(known.values())},
        )
    if len(set(folder.labels)) < 2:
        raise InvalidRequest(
            f"{root} needs pictures in at least two label folders; found "
            f"{folder.counts() or 'none'}.",
            code="too_few_labels",
            details={"counts": folder.counts()},
        )
    return folder


@dataclass
class EmbeddedFolder:
    """Embeddings of a labelled folder's readable pictures, and what could not be read."""

    folder: LabelledFolder
    embeddings: FloatArray
    labels: list[str]
    paths: list[str]
    images: list[LoadedImage]
    skipped: list[dict[str, str]]
    digest: str


def embed_folder(
    folder: LabelledFolder,
    encoder: Encoder,
    settings: Settings,
    *,
    keep_images: bool = False,
    progress: Progress | None = None,
) -> EmbeddedFolder:
    """Decode and embed every picture (unreadable ones are skipped and listed).

    ``digest`` fingerprints the (label, picture sha256) pairs, so a report can tell whether
    an evaluation folder is the one a head was trained on.
    """
    rows: list[FloatArray] = []
    labels: list[str] = []
    paths: list[str] = []
    kept: list[LoadedImage] = []
    skipped: list[dict[str, str]] = []
    fingerprint: list[str] = []
    batch: list[tuple[str, str, LoadedImage]] = []

    def flush() -> None:
        if not batch:
            return
        rows.append(encoder.embed_images([image for _, _, image in batch]))
        for rel, label, image in batch:
            paths.append(rel)
            labels.append(label)
            if keep_images:
                kept.append(image)
        batch.clear()

    for i, (rel, label) in enumerate(zip(folder.paths, folder.labels, strict=True)):
        try:
            image = load_image(folder.root / rel, settings=settings)
        except TunelensError as exc:
            skipped.append({"path": rel, "code": exc.code, "message": exc.message})
            continue
        fingerprint.append(f"{label}\t{image.sha256}")
        batch.append((rel, label, image))
        if len(batch) >= EMBED_BATCH:
            flush()
            if progress is not None:
                progress(f"embedded {i + 1}/{len(folder.paths)} pictures")
    flush()
    embeddings = (
        np.concatenate(rows).astype(np.float32)
        if rows
        else np.zeros((0, encoder.dim), dtype=np.float32)
    )
    digest = hashlib.sha256("\n".join(sorted(fingerprint)).encode()).hexdigest()
    return EmbeddedFolder(folder, embeddings, labels, paths, kept, skipped, digest)


# --------------------------------------------------------------------------- scores


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
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

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


# --------------------------------------------------------------------------- fitting


def _pipeline(seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

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
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

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


def _encoder_block(encoder: Encoder) -> dict[str, Any]:
    return {"name": encoder.name, "model_id": encoder.model_id, "pretrained": encoder.is_pretrained}


def new_version(parent: Path) -> str:
    """A version name: the UTC time, ``-2``, ``-3``… when one already exists this second."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name, n = stamp, 1
    while (parent / name).exists():
        n += 1
        name = f"{stamp}-{n}"
    return name


@dataclass
class TrainResult:
    head: LinearHead
    report: dict[str, Any]
    path: Path


def train_head(
    images: Path,
    task: Task,
    *,
    settings: Settings | None = None,
    encoder: EncoderChoice | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> TrainResult:
    """Embed a labelled folder, cross-validate, fit and save a new head version."""
    from tunelens.vision.registry import load_encoder

    settings = settings or get_settings()
    folder = scan_folder(images, task)
    model, notices = load_encoder(encoder or settings.encoder, settings)
    if progress is not None:
        for notice in notices:
            progress(f"notice: {notice}")
        progress(f"embedding {len(folder.paths)} pictures with {model.name} ({model.model_id})")
    embedded = embed_folder(folder, model, settings, progress=progress)
    cv = cross_validate(embedded.embeddings, embedded.labels, seed=seed)
    classes = sorted(set(embedded.labels), key=task_vocabulary(task).names.index)
    head_scores = scores(embedded.labels, cv["predicted"], classes)
    baseline = majority_baseline(embedded.labels, classes)
    passed, p_value, sentence = verdict(
        head_scores["accuracy"], baseline["accuracy"], len(embedded.labels)
    )
    fitted_classes, weights, bias = fit_linear(embedded.embeddings, embedded.labels, seed=seed)
    parent = task_dir(settings.heads_dir, model.model_id, task)
    parent.mkdir(parents=True, exist_ok=True)
    version = new_version(parent)
    report: dict[str, Any] = {
        "kind": "cross-validated",
        "task": task,
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "encoder": _encoder_block(model),
        "images_dir": str(images),
        "images": len(embedded.labels),
        "images_digest": embedded.digest,
        "class_counts": dict(sorted(Counter(embedded.labels).items())),
        "skipped": embedded.skipped,
        "ignored_files": folder.ignored,
        "model": f"StandardScaler + LogisticRegression(C={REGULARISATION_C}), multinomial",
        "cv": {"folds": cv["folds"], "seed": seed, "stratified": True},
        "accuracy": head_scores["accuracy"],
        "macro_f1": head_scores["macro_f1"],
        "confusion_matrix": head_scores["confusion_matrix"],
        "baseline": baseline,
        "p_value": p_value,
        "passed": passed,
        "activated": passed,
        "verdict": sentence
        + (
            "; activated: the engine uses it for "
            f"{task} from its next start (newest passing version wins)"
            if passed
            else "; NOT activated: the engine keeps its current reading for " + task
        ),
        "notices": notices,
    }
    head = LinearHead(
        task=task,
        model_id=model.model_id,
        classes=fitted_classes,
        weights=weights,
        bias=bias,
        version=version,
        report=report,
    )
    # write into a temporary sibling, then rename: a half-written head is never picked up
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=parent))
    try:
        head.save(staging)
        staging.rename(parent / version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    head.path = parent / version
    if passed:  # the newest passing head becomes the active one (``tunelens heads rollback``)
        from tunelens.heads.store import set_active

        set_active(parent, version, reason="trained: beat the majority-class baseline")
    return TrainResult(head=head, report=report, path=parent / version)


# --------------------------------------------------------------------------- evaluation


def evaluate(
    images: Path,
    task: Task | None = None,
    *,
    settings: Settings | None = None,
    encoder: EncoderChoice | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The report of the reader the engine would build (trained heads included) on a folder."""
    from tunelens.core.types import EncoderInfo
    from tunelens.pipeline import build_reader
    from tunelens.vision.registry import load_encoder

    settings = settings or get_settings()
    task = task or infer_task(images)
    folder = scan_folder(images, task)
    choice = encoder or settings.encoder
    model, notices = load_encoder(choice, settings)
    info = EncoderInfo(
        name=model.name,
        pretrained=model.is_pretrained,
        fallback=choice == "auto" and model.name == "colour",
        model_id=model.model_id,
    )
    reader, head_notices = build_reader(model, info, settings)
    notices.extend(head_notices)
    embedded = embed_folder(folder, model, settings, keep_images=True, progress=progress)
    vocabulary = task_vocabulary(task)
    predicted: list[str] = []
    for start in range(0, len(embedded.images), EMBED_BATCH):
        chunk = embedded.images[start : start + EMBED_BATCH]
        rows = embedded.embeddings[start : start + EMBED_BATCH]
        emotion_p, genre_p = reader.probabilities(chunk, rows)
        probabilities = emotion_p if task == "emotion" else genre_p
        predicted.extend(vocabulary.names[int(j)] for j in probabilities.argmax(axis=1))
    labels = sorted(set(embedded.labels) | set(predicted), key=vocabulary.names.index)
    result = scores(embedded.labels, predicted, labels)
    baseline = majority_baseline(embedded.labels, labels)
    head = reader.trained.get(task)
    in_use = reader.head_info()[task]
    report: dict[str, Any] = {
        "kind": "evaluation",
        "task": task,
        "encoder": _encoder_block(model),
        "head": in_use,
        "images_dir": str(images),
        "images": len(embedded.labels),
        "images_digest": embedded.digest,
        "class_counts": dict(sorted(Counter(embedded.labels).items())),
        "skipped": embedded.skipped,
        **result,
        "baseline": baseline,
        "notices": notices,
    }
    if result["accuracy"] is not None and embedded.labels:
        passed, p_value, sentence = verdict(
            result["accuracy"], baseline["accuracy"], len(embedded.labels)
        )
        report.update(p_value=p_value, passed=passed, verdict=sentence)
    if head is not None and head.report.get("images_digest") == embedded.digest:
        report["warning"] = (
            "These are the pictures the head was trained on: this measures fit, not how it "
            "does on new pictures (see the head's cross-validated report for that)."
        )
    return report


def format_report(report: Mapping[str, Any]) -> str:
    """The report as plain text for the terminal."""
    lines: list[str] = []
    enc = report.get("encoder", {})
    title = "cross-validated head report" if report.get("kind") == "cross-validated" else "eval"
    lines.append(
        f"{title}: task {report.get('task')}, encoder {enc.get('name')} ({enc.get('model_id')}), "
        f"{report.get('images')} pictures"
    )
    if report.get("kind") == "evaluation":
        head = report.get("head", {})
        lines.append(
            "  reading with: "
            + (
                f"trained head {head.get('version')}"
                if head.get("kind") == "trained"
                else str(head.get("kind"))
            )
        )
    if report.get("cv"):
        lines.append(f"  {report['cv']['folds']}-fold stratified cross-validation")
    lines.append(
        "  class counts: " + ", ".join(f"{k} {v}" for k, v in report["class_counts"].items())
    )
    baseline = report.get("baseline", {})

    def pct(value: Any) -> str:
        return "–" if value is None else f"{value:.1%}"

    lines.append(f"  {'':<22}{'accuracy':>10}{'macro-F1':>10}")
    lines.append(
        f"  {'head' if report.get('kind') == 'cross-validated' else 'reader':<22}"
        f"{pct(report.get('accuracy')):>10}{pct(report.get('macro_f1')):>10}"
    )
    lines.append(
        f"  {'majority (' + str(baseline.get('label')) + ')':<22}"
        f"{pct(baseline.get('accuracy')):>10}{pct(baseline.get('macro_f1')):>10}"
    )
    matrix = report.get("confusion_matrix")
    if matrix:
        labels = matrix["labels"]
        width = max(8, *(len(label) + 1 for label in labels))
        lines.append("  confusion matrix (rows: true label, columns: answer)")
        lines.append("  " + " " * width + "".join(f"{label:>{width}}" for label in labels))
        for label, row in zip(labels, matrix["rows"], strict=True):
            lines.append(f"  {label:<{width}}" + "".join(f"{n:>{width}}" for n in row))
    if report.get("skipped"):
        lines.append(f"  skipped {len(report['skipped'])} unreadable pictures")
    if report.get("verdict"):
        lines.append(f"  verdict: {report['verdict']}")
    if report.get("warning"):
        lines.append(f"  warning: {report['warning']}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- feedback prior

PRIOR_FILE = "prior.json"
#: candidate prior strengths (pseudo-votes) tried by :func:`fit_prior_strength`
STRENGTH_GRID: tuple[float, ...] = tuple(
    sorted({*(round(float(x), 3) for x in np.geomspace(0.25, 200.0, 40)), 5.0})
)
#: votes on songs with at least two voters needed before the fit says anything
MIN_INFORMATIVE_VOTES = 30


def _loo_log_likelihood(
    votes: Sequence[tuple[float, float, float]], strength: float, weight_ni: float
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


def fit_prior_strength(
    votes: Mapping[str, Any], *, min_votes: int = MIN_INFORMATIVE_VOTES
) -> dict[str, Any]:
    """Pick the prior strength ``m`` that best predicts each stored vote from the others.

    Only songs with two or more voters say anything about ``m`` (with one vote every ``m``
    predicts 50 %), so those are the data; with fewer than ``min_votes`` of their votes the
    report says so and recommends keeping the default. ``m → ∞`` (no per-song prior, every
    song 50 %) is reported beside the fit as the baseline it must beat.
    """
    from tunelens.recommend.feedback import NOT_INTERESTED_WEIGHT, PRIOR_STRENGTH

    rows = [
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

    def mean_ll(m: float) -> float:
        total, weight = _loo_log_likelihood(rows, m, NOT_INTERESTED_WEIGHT)
        return total / weight if weight else 0.0

    grid = {m: mean_ll(m) for m in STRENGTH_GRID}
    best = max(grid, key=lambda m: (grid[m], m))  # ties: the larger m, the more cautious
    no_prior = math.log(0.5)
    passed = grid[best] > no_prior
    report.update(
        prior_strength=best if passed else PRIOR_STRENGTH,
        fitted_strength=best,
        mean_log_likelihood={
            "fitted": round(grid[best], 5),
            "default": round(grid[PRIOR_STRENGTH], 5),
            "no_prior": round(no_prior, 5),
        },
        passed=passed,
        verdict=(
            f"m = {best:g} predicts held-out votes best (mean log-likelihood {grid[best]:.4f} "
            f"vs {grid[PRIOR_STRENGTH]:.4f} for the default m = {PRIOR_STRENGTH:g} and "
            f"{no_prior:.4f} without a per-song prior); saved"
            if passed
            else "no prior strength predicts held-out votes better than a coin flip; "
            f"keeping the default m = {PRIOR_STRENGTH:g}"
        ),
    )
    return report


def train_from_feedback(db: Any, settings: Settings | None = None) -> dict[str, Any]:
    """Fit the prior strength on the stored votes; save it when the fit passed."""
    from tunelens.storage.repository import track_votes

    settings = settings or get_settings()
    report = fit_prior_strength(track_votes(db))
    if report["passed"]:
        parent = settings.reranking_dir
        parent.mkdir(parents=True, exist_ok=True)
        version = new_version(parent)
        report["version"] = version
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=parent))
        (staging / PRIOR_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        staging.rename(parent / version)
        report["path"] = str(parent / version)
    return report


def load_prior_strength(settings: Settings) -> tuple[float | None, str | None]:
    """(strength, version) of the newest saved feedback fit that passed, or (None, None)."""
    parent = settings.reranking_dir
    if not parent.is_dir():
        return None, None
    for directory in sorted(
        (p for p in parent.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
        reverse=True,
    ):
        try:
            data = json.loads((directory / PRIOR_FILE).read_text(encoding="utf-8"))
            strength = float(data["prior_strength"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if data.get("passed") and math.isfinite(strength) and strength > 0:
            return strength, directory.name
    return None, None
