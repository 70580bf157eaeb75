"""A feature head's ``report.json``: its figures beside their baselines, the gate, the verdict
sentence, and the same report as text for the terminal.

**Gate.** The head passes when its mean held-out MSE is below the mean baseline's *and* it is
closer than the baseline on significantly more held-out pictures than not (one-sided sign
test, p < 0.05), and — when the held-out pictures have more than one emotion — its emotion
accuracy beats the majority class by the same binomial test the reading heads use. It is
**activated** only when it passed and, if a feature head is already active for this encoder,
its held-out MSE is lower than the active head's on the same held-out pictures (a conservative
comparison: the active head may have trained on some of them).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import numpy as np

from tunelens.heads.feature import FeatureHead
from tunelens.heads.store import FEATURE_TASK
from tunelens.training.feature_scores import (
    SplitPairs,
    TrainingContext,
    emotion_scores,
    feature_scores,
    mapping_features,
    retrieval,
)
from tunelens.training.scores import SIGNIFICANCE

#: problems written into the report in full (the rest are counted)
MAX_LISTED_PROBLEMS = 200


def judge(
    data: SplitPairs, fitted: FeatureHead, meta: dict[str, Any], context: TrainingContext
) -> dict[str, Any]:
    """The report of ``fitted`` on the held-out pairs (without notices, comparison and
    verdict, which the caller adds), and whether it passed its baselines."""
    pairs = data.pairs
    truth = pairs.targets[data.held]
    train_y = pairs.targets[data.train].astype(np.float64)
    train_mean = train_y.mean(axis=0)
    train_sd = train_y.std(axis=0)
    train_sd[train_sd < 1e-8] = 1.0
    predicted, emotion_p = fitted.predict(data.x_all[data.held])
    features = feature_scores(predicted, truth, train_mean, train_sd, pairs.image_index[data.held])
    emotions = emotion_scores(
        [data.emotions[int(j)] for j in emotion_p.argmax(axis=1)],
        [pairs.emotions[int(i)] for i in data.held],
        [pairs.emotions[int(i)] for i in data.train],
        data.emotions,
    )
    found = None
    if context.index is not None:
        mapping = mapping_features(data, context)
        found = retrieval(
            context.index, data, predicted, mapping, context.settings.feature_head_blend
        )
    features_pass = (
        features["mse_mean"] < features["baseline_mse_mean"]
        and features["sign_test_p"] < SIGNIFICANCE
    )
    return {
        "kind": FEATURE_TASK,
        "task": FEATURE_TASK,
        "model": meta["model"],
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "encoder": meta["encoder"],
        "pretrained_warning": None
        if context.model.is_pretrained
        else "the encoder has no trained weights (colour statistics or random CLIP): these "
        "figures measure the training plumbing on this data, not picture understanding",
        "pairs": _pairs_block(data, meta),
        "split": {
            "by": "picture (sha256)",
            "train_images": int((~data.held_images).sum()),
            "held_out_images": int(data.held_images.sum()),
            "train_pairs": len(data.train),
            "held_out_pairs": len(data.held),
        },
        "held_out": features,
        "emotions": emotions,
        "retrieval": found,
        "features_passed": bool(features_pass),
        "passed": bool(features_pass and emotions["passed"] is not False),
    }


def _pairs_block(data: SplitPairs, meta: dict[str, Any]) -> dict[str, Any]:
    pairs = data.pairs
    problem_counts = Counter(p["code"] for p in pairs.problems)
    return {
        "used": len(pairs),
        "images": len(pairs.image_sha256),
        "sources": pairs.sources,
        "skipped": len(pairs.problems),
        "problem_counts": dict(sorted(problem_counts.items())),
        "problems": pairs.problems[:MAX_LISTED_PROBLEMS],
        "data_until": meta.get("data_until"),
    }


def should_activate(report: dict[str, Any], comparison: dict[str, Any]) -> bool:
    """Passed, and better than the active head on the same pictures (when there is one)."""
    return bool(
        report["passed"]
        and (
            comparison.get("active_mse_mean") is None
            or report["held_out"]["mse_mean"] < comparison["active_mse_mean"]
        )
    )


def verdict_sentence(report: dict[str, Any], comparison: dict[str, Any], activated: bool) -> str:
    """One line saying what the head beat, and whether it was activated."""
    held = report["held_out"]
    parts = [
        f"held-out MSE {held['mse_mean']:.3f} vs {held['baseline_mse_mean']:.3f} for the "
        f"training mean (closer on {held['images_closer_than_baseline']}/{held['images']} "
        f"pictures, sign test p = {held['sign_test_p']:.2g})"
    ]
    emotions = report["emotions"]
    parts.append(f"emotions: {emotions['verdict']}")
    if not report["passed"]:
        return "; ".join(parts) + "; does NOT beat its baselines: NOT activated"
    if not activated:
        return "; ".join(parts) + (
            f"; beats its baselines but not the active head {comparison['active']} "
            f"(MSE {comparison['active_mse_mean']:.3f} on the same pictures): NOT activated"
        )
    return "; ".join(parts) + "; activated"


def format_feature_report(report: dict[str, Any]) -> str:
    """The report as plain text for the terminal."""
    enc = report["encoder"]
    lines = [
        f"feature head report: {report['model']} on {enc['name']} ({enc['model_id']}, "
        f"width {enc['dim']})",
        *_pairs_lines(report),
        *_feature_lines(report),
    ]
    emotions = report["emotions"]
    lines.append(
        f"  emotions: accuracy {emotions['accuracy']:.1%}, macro-F1 {emotions['macro_f1']:.3f}; "
        f"majority ({emotions['baseline']['label']}) {emotions['baseline']['accuracy']:.1%}, "
        f"{emotions['baseline']['macro_f1']:.3f}"
    )
    lines.extend(_retrieval_lines(report.get("retrieval")))
    if report.get("onnx"):
        lines.append(
            "  ONNX vs PyTorch: max |Δ| features "
            f"{report['onnx']['max_abs_diff_features']:.2e}, emotions "
            f"{report['onnx']['max_abs_diff_emotions']:.2e}"
        )
    if report.get("pretrained_warning"):
        lines.append(f"  warning: {report['pretrained_warning']}")
    lines.append(f"  verdict: {report['verdict']}")
    return "\n".join(lines)


def _pairs_lines(report: dict[str, Any]) -> list[str]:
    pairs = report["pairs"]
    lines = [
        f"  pairs used {pairs['used']} over {pairs['images']} pictures; "
        f"skipped {pairs['skipped']} rows"
        + (
            " (" + ", ".join(f"{k} {v}" for k, v in pairs["problem_counts"].items()) + ")"
            if pairs["problem_counts"]
            else ""
        )
    ]
    for problem in pairs["problems"][:10]:
        lines.append(f"    {problem['row']}: {problem['code']}: {problem['message']}")
    if pairs["skipped"] > 10:
        lines.append(f"    … {pairs['skipped'] - 10} more in report.json")
    split = report["split"]
    lines.append(
        f"  held out {split['held_out_pairs']} pairs of {split['held_out_images']} pictures "
        f"(split by picture); trained on {split['train_pairs']} pairs"
    )
    return lines


def _feature_lines(report: dict[str, Any]) -> list[str]:
    held = report["held_out"]
    lines = [f"  {'feature':<18}{'MSE':>8}{'mean→':>8}{'R²':>8}{'mean→':>8}"]
    for name, row in held["per_feature"].items():
        lines.append(
            f"  {name:<18}{row['mse']:>8.3f}{row['baseline_mse']:>8.3f}"
            f"{row['r2']:>8.3f}{row['baseline_r2']:>8.3f}"
        )
    lines.append(
        f"  {'all (z-units)':<18}{held['mse_mean']:>8.3f}{held['baseline_mse_mean']:>8.3f}"
        f"{held['r2_mean']:>8.3f}{held['baseline_r2_mean']:>8.3f}"
    )
    return lines


def _retrieval_lines(found: dict[str, Any] | None) -> list[str]:
    if not found:
        return []
    lines = [
        f"  retrieval over {found['catalogue_size']} songs, {found['pairs']} "
        "held-out pairs: paired song in top 10 / top 50"
    ]
    for name in ("head", "mapping", "blend", "chance"):
        row = found[name]
        label = f"blend {row['share']:.2f}" if name == "blend" else name
        lines.append(f"    {label:<14}{row['hit_at_10']:>8.1%}{row['hit_at_50']:>8.1%}")
    return lines
