"""The colour reader fit's report as text (``tunelens train reader`` without ``--json``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _pair(figures: Mapping[str, Any]) -> str:
    return f"valence {figures['valence']:+.3f}  arousal {figures['arousal']:+.3f}"


def _cv_lines(cv: Mapping[str, Any]) -> list[str]:
    lines = [f"theme-grouped cross-validation ({cv['folds']} folds), Spearman ρ with people:"]
    for axis in ("valence", "arousal"):
        fig = cv[axis]
        folds = " ".join(f"{r:+.2f}" for r in fig["spearman_per_fold"])
        lines.append(
            f"  {axis:8s} pooled {fig['spearman']:+.3f}  mean of folds "
            f"{fig['spearman_mean_fold']:+.3f}  per fold: {folds}"
        )
    for category, fig in cv["by_category"].items():
        lines.append(f"  {category:8s} ({fig['photos']} photos) {_pair(fig)}")
    return lines


def _ablation_lines(ablation: Mapping[str, Any]) -> list[str]:
    lines = [
        "ablation (pooled out-of-fold ρ):",
        f"  all groups          {_pair(ablation['all_groups'])}",
    ]
    for group, fig in ablation["group_alone"].items():
        lines.append(f"  only {group:14s} {_pair(fig)}")
    for group, fig in ablation["all_but_group"].items():
        lines.append(f"  all but {group:11s} {_pair(fig)}")
    lines.append(f"  chosen features     {_pair(ablation['chosen'])}")
    for feature, fig in ablation["chosen_but_feature"].items():
        lines.append(f"  chosen − {feature:22s} {_pair(fig)}")
    return lines


def _face_lines(faces: Mapping[str, Any]) -> list[str]:
    lines = [f"face blend ({faces['photos_with_faces']} photos with faces):"]
    for scope in ("all_photos", "photos_with_faces_only"):
        for state in ("faces_off", "faces_on"):
            lines.append(f"  {scope:22s} {state:9s} {_pair(faces[scope][state])}")
    neutral = faces["neutral_faces"]
    lines.append(
        f"  neutral faces: {neutral['photos']} photos, sadness changes by "
        f"{neutral['sadness_change']:+.3f} on average"
    )
    return lines


def _exposure_lines(exposure: Mapping[str, Any]) -> list[str]:
    lines = [
        "steadiness under ±10 % exposure, by β (pooled out-of-fold ρ; how far the change "
        "moves each axis, in its own spreads):"
    ]
    for beta, row in exposure["sweep"].items():
        chosen = "  ← chosen" if float(beta) == exposure["invariance"] else ""
        lines.append(
            f"  β {beta:>4}  valence {row['valence']:+.3f} (moves {row['valence_sensitivity']:.3f})"
            f"  arousal {row['arousal']:+.3f} (moves {row['arousal_sensitivity']:.3f}){chosen}"
        )
    return lines


def format_reader_report(report: Mapping[str, Any], path: str | None = None) -> str:
    """Figures first (before → after), then the model, the ablation and the face blend."""
    body = report["report"]
    cv = body["cross_validation"]
    lines = [
        f"colour reader fitted on {body['data']['photos']} photos of "
        f"{body['data']['themes']} themes (ratings sha256 {body['data']['ratings_sha256'][:12]}…)",
        f"before (hand-set formula, no fit):  {_pair(body['before'])}",
        f"after  (fitted, held-out themes):   valence {cv['valence']['spearman']:+.3f}  "
        f"arousal {cv['arousal']['spearman']:+.3f}",
        *_cv_lines(cv),
        "model: " + body["model"],
    ]
    for axis in ("valence", "arousal"):
        weights = ", ".join(
            f"{name} {w:+.3f}"
            for name, w in zip(report["features"], report[axis]["weights"], strict=True)
        )
        lines.append(
            f"  {axis}: intercept {report[axis]['intercept']:+.3f}; {weights}; "
            f"residual sd {report[axis]['residual_sd']:.3f}"
        )
    lines.append(
        f"  emotion kernel {report['emotion']['kernel']:g} (log loss by kernel: "
        + ", ".join(f"{k} {v:.3f}" for k, v in body["emotion_kernel_log_loss"].items())
        + ")"
    )
    lines.extend(_ablation_lines(body["ablation"]))
    if "exposure" in body:
        lines.extend(_exposure_lines(body["exposure"]))
    if "faces" in body:
        lines.extend(_face_lines(body["faces"]))
    if path:
        lines.append(f"saved to {path}")
    return "\n".join(lines)
