"""``tunelens train features``: fit a learned audio-feature head on paired data, report
honestly, save it versioned, and activate it only when it earns it.

**Split.** Pairs are split by picture (sha256), never by row: every pair of a held-out
picture is held out, so a picture paired with several songs cannot leak into both sides.
The head is fitted on the training pictures only, and the saved head *is* the one the report
measures (no refit on everything afterwards).

**Report** (``report.json`` beside the head), each figure beside its baseline:

* features — per feature and on average, held-out MSE in z-units (squared error divided by the
  feature's variance over the training pairs, so 1.0 is "as far off as the spread of the
  data"; DyLuMo's published 0.12 is in its own units and not comparable) and R²
  (scikit-learn's, against the held-out mean), beside the baseline that always predicts the
  training mean; plus the raw-unit MSE;
* emotions — held-out accuracy and macro-F1 beside the majority class of the training pairs;
* retrieval — for held-out pairs whose song is in the catalogue, how often that song is among
  the 10 / 50 nearest tracks in the recommender's weighted feature space when the target comes
  from the learned head, from the documented mapping (the reading tunelens would make of the
  picture), and from their blend at ``TUNELENS_FEATURE_HEAD_BLEND``; with chance (k / N).

**Gate.** The head passes when its mean held-out MSE is below the mean baseline's *and* it is
closer than the baseline on significantly more held-out pictures than not (one-sided sign
test, p < 0.05), and — when the held-out pictures have more than one emotion — its emotion
accuracy beats the majority class by the same binomial test the reading heads use. It is
**activated** only when it passed and, if a feature head is already active for this encoder,
its held-out MSE is lower than the active head's on the same held-out pictures (a conservative
comparison: the active head may have trained on some of them).
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tunelens.core.errors import CatalogError, InvalidRequest
from tunelens.core.settings import EncoderChoice, Settings, get_settings
from tunelens.heads.feature import (
    FEATURE_TASK,
    HEAD_MODELS,
    ONNX_FILE,
    FeatureHead,
    HeadModel,
    OnnxHead,
    fit_ridge,
    fit_transformer,
    load_feature_head,
    read_meta,
    write_meta,
)
from tunelens.heads.linear import task_dir
from tunelens.heads.store import active_version, set_active
from tunelens.training.linear import SIGNIFICANCE, binomial_tail, new_version, scores, verdict
from tunelens.training.pairs import HEAD_FEATURES, PairSet, Progress, build_pairs
from tunelens.vision.base import Encoder, FloatArray

#: least distinct readable pictures to train on, and to hold out
MIN_IMAGES = 10
MIN_HELD_OUT = 5
#: retrieval cut-offs reported
HIT_KS: tuple[int, ...] = (10, 50)
#: problems written into the report in full (the rest are counted)
MAX_LISTED_PROBLEMS = 200


@dataclass
class FeatureTrainResult:
    report: dict[str, Any]
    path: Path
    activated: bool


def split_by_image(n_images: int, test_size: float, seed: int) -> NDArray[np.bool_]:
    """A held-out mask over pictures: ``round(test_size · n)`` of them, at least
    :data:`MIN_HELD_OUT`, chosen at random with ``seed``."""
    if not 0 < test_size < 1:
        raise InvalidRequest(f"--test-size must be in (0, 1), got {test_size}", code="bad_value")
    held = max(MIN_HELD_OUT, round(test_size * n_images))
    if n_images < MIN_IMAGES or n_images - held < MIN_HELD_OUT:
        raise InvalidRequest(
            f"Training a feature head needs at least {MIN_IMAGES} distinct readable pictures "
            f"with a usable target (found {n_images}).",
            code="too_few_pairs",
            details={"images": n_images, "min": MIN_IMAGES},
        )
    mask = np.zeros(n_images, dtype=bool)
    mask[np.random.default_rng(seed).permutation(n_images)[:held]] = True
    return mask


def _feature_scores(
    predicted: FloatArray,
    truth: NDArray[np.float32],
    train_mean: NDArray[np.float64],
    train_sd: NDArray[np.float64],
    image_of_pair: NDArray[np.int64],
) -> dict[str, Any]:
    """Per-feature and mean MSE (z-units and raw) and R², head vs the training-mean baseline,
    and the per-picture sign test."""
    from sklearn.metrics import r2_score

    baseline = np.broadcast_to(train_mean, truth.shape)
    z_err = ((predicted - truth) / train_sd) ** 2
    z_base = ((baseline - truth) / train_sd) ** 2
    per_feature: dict[str, dict[str, float]] = {}
    for j, name in enumerate(HEAD_FEATURES):
        constant = float(np.ptp(truth[:, j])) == 0.0
        per_feature[name] = {
            "mse": round(float(z_err[:, j].mean()), 4),
            "baseline_mse": round(float(z_base[:, j].mean()), 4),
            "r2": round(float(r2_score(truth[:, j], predicted[:, j])), 4) if not constant else 0.0,
            "baseline_r2": round(float(r2_score(truth[:, j], baseline[:, j])), 4)
            if not constant
            else 0.0,
            "mse_raw": round(float(((predicted[:, j] - truth[:, j]) ** 2).mean()), 6),
        }
    images = np.unique(image_of_pair)
    head_img = np.array([z_err[image_of_pair == i].mean() for i in images])
    base_img = np.array([z_base[image_of_pair == i].mean() for i in images])
    better = int((head_img < base_img).sum())
    p_value = binomial_tail(better, len(images), 0.5)
    return {
        "images": len(images),
        "pairs": len(truth),
        "units": "z: squared error / variance of the feature over the training pairs",
        "mse_mean": round(float(z_err.mean()), 4),
        "baseline_mse_mean": round(float(z_base.mean()), 4),
        "r2_mean": round(float(np.mean([v["r2"] for v in per_feature.values()])), 4),
        "baseline_r2_mean": round(
            float(np.mean([v["baseline_r2"] for v in per_feature.values()])), 4
        ),
        "images_closer_than_baseline": better,
        "sign_test_p": float(f"{p_value:.3g}"),
        "per_feature": per_feature,
    }


def _emotion_scores(
    predicted: list[str], truth: list[str], train_labels: list[str], order: list[str]
) -> dict[str, Any]:
    counts = Counter(train_labels)
    majority = max(order, key=lambda name: (counts.get(name, 0), -order.index(name)))
    labels = [name for name in order if name in set(truth) | set(predicted) | {majority}]
    head = scores(truth, predicted, labels)
    base = scores(truth, [majority] * len(truth), labels)
    out: dict[str, Any] = {
        "labels_from": "the pair's emotion column, else DyLuMo's rule on the target features",
        "classes": sorted(counts, key=order.index),
        "accuracy": head["accuracy"],
        "macro_f1": head["macro_f1"],
        "baseline": {
            "label": majority,
            "accuracy": base["accuracy"],
            "macro_f1": base["macro_f1"],
        },
    }
    if len(set(truth)) < 2 or base["accuracy"] >= 1.0:
        out.update(passed=None, verdict="one emotion in the held-out pairs: not gated")
    else:
        passed, p_value, sentence = verdict(head["accuracy"], base["accuracy"], len(truth))
        out.update(passed=passed, p_value=p_value, verdict=sentence)
    return out


def _retrieval(
    index: Any,
    pairs: PairSet,
    held_pairs: NDArray[np.int64],
    head_features: FloatArray,
    mapping_features: list[dict[str, float]],
    blend: float,
) -> dict[str, Any] | None:
    """Hit rates of the paired song in the top-k nearest tracks, per target source."""
    from tunelens.recommend.mapping import FEATURE_WEIGHTS

    names = list(index.feature_names)
    rows: list[tuple[int, int]] = []  # (position among held-out pairs, catalogue row)
    for pos, p in enumerate(held_pairs):
        track_id = pairs.track_ids[int(p)]
        if track_id is not None and track_id in index.catalogue:
            rows.append((pos, index.catalogue.index_of(track_id)))
    if not rows:
        return None
    k = min(max(HIT_KS), len(index))

    def vector(values: dict[str, float]) -> FloatArray:
        return np.array([values.get(n, math.nan) for n in names], dtype=np.float32)

    def hits(targets: list[dict[str, float]]) -> dict[str, float]:
        found = {kk: 0 for kk in HIT_KS}
        for (_, row), target in zip(rows, targets, strict=True):
            top, _ = index.search(vector(target), FEATURE_WEIGHTS, k)
            ranked = [int(r) for r in top]
            for kk in HIT_KS:
                if row in ranked[:kk]:
                    found[kk] += 1
        return {f"hit_at_{kk}": round(found[kk] / len(rows), 4) for kk in HIT_KS}

    head_targets = []
    map_targets = []
    blend_targets = []
    for pos, _ in rows:
        mapped = mapping_features[pos]
        learned = dict(mapped)
        learned.update(
            {n: float(head_features[pos, j]) for j, n in enumerate(HEAD_FEATURES) if n in mapped}
        )
        head_targets.append(learned)
        map_targets.append(mapped)
        blend_targets.append({n: (1 - blend) * mapped[n] + blend * learned[n] for n in mapped})
    return {
        "pairs": len(rows),
        "catalogue_size": len(index),
        "space": "the recommender's robust-scaled feature space, mapping weights (docs/mapping.md §4)",
        "head": hits(head_targets),
        "mapping": hits(map_targets),
        "blend": {"share": blend, **hits(blend_targets)},
        "chance": {f"hit_at_{kk}": round(min(1.0, kk / len(index)), 4) for kk in HIT_KS},
    }


def _mapping_features(
    model: Encoder, settings: Settings, pairs: PairSet, images: NDArray[np.int64], index: Any
) -> list[dict[str, float]]:
    """The documented mapping's target for each picture, from the reading tunelens makes."""
    from tunelens.core.types import EncoderInfo
    from tunelens.pipeline import build_reader
    from tunelens.recommend.mapping import genre_profiles, target_profile

    info = EncoderInfo(
        name=model.name, pretrained=model.is_pretrained, fallback=False, model_id=model.model_id
    )
    reader, _ = build_reader(model, info, settings)
    if index is not None:
        from tunelens.recommend.ranking import Recommender

        profiles = Recommender(index).profiles
    else:
        profiles = genre_profiles()
    readings = reader.read(
        [], pairs.embeddings[images], stats=[pairs.stats[int(i)] for i in images]
    )
    return [dict(target_profile(r, profiles).features) for r in readings]


def _active_comparison(
    folder: Path, model: Encoder, x: FloatArray, truth: NDArray[np.float32], sd: Any
) -> dict[str, Any]:
    version = active_version(folder)
    if version is None:
        return {"active": None}
    try:
        head = load_feature_head(folder / version)
        meta, _ = read_meta(folder / version)
    except ValueError as exc:
        return {"active": version, "error": str(exc)}
    if meta["encoder"].get("dim") != model.dim or list(meta["features"]) != list(HEAD_FEATURES):
        return {"active": version, "error": "trained for another encoder width or features"}
    predicted, _ = head.predict(x)
    return {
        "active": version,
        "active_mse_mean": round(float((((predicted - truth) / sd) ** 2).mean()), 4),
    }


def train_features(
    *,
    pairs_csv: Path | None = None,
    db: Any = None,
    head: HeadModel = "ridge",
    settings: Settings | None = None,
    encoder: EncoderChoice | None = None,
    encoder_model: Encoder | None = None,
    catalog_dir: Path | None = None,
    seed: int = 0,
    test_size: float = 0.25,
    feedback_weight: float = 0.5,
    transformer: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> FeatureTrainResult:
    """Read and embed the pairs, split by picture, fit, report, save, maybe activate.

    ``encoder_model`` reuses an already loaded encoder (the retrain scheduler's); otherwise
    ``encoder`` (or the settings) chooses one."""
    from tunelens.catalogue.index import CatalogueIndex
    from tunelens.vision.registry import load_encoder

    if head not in HEAD_MODELS:
        raise InvalidRequest(
            f"--head must be one of {', '.join(HEAD_MODELS)}, got {head!r}.", code="unknown_head"
        )
    settings = settings or get_settings()
    notices: list[str] = []
    index: Any = None
    try:
        index = CatalogueIndex.load(catalog_dir or settings.default_catalog_dir)
    except CatalogError as exc:
        if catalog_dir is not None or exc.code != "catalog_missing":
            raise
        notices.append(
            f"no catalogue ({exc.message}): track ids cannot be resolved and retrieval is not "
            "measured"
        )
    if encoder_model is not None:
        model = encoder_model
    else:
        model, encoder_notices = load_encoder(encoder or settings.encoder, settings)
        notices.extend(encoder_notices)
    if progress is not None:
        for notice in notices:
            progress(f"notice: {notice}")
        progress(f"reading pairs; embedding with {model.name} ({model.model_id})")
    pairs = build_pairs(
        encoder=model,
        settings=settings,
        catalogue=index.catalogue if index is not None else None,
        pairs_csv=pairs_csv,
        db=db,
        feedback_weight=feedback_weight,
        progress=progress,
    )
    held_images = split_by_image(len(pairs.image_sha256), test_size, seed)
    held = held_images[pairs.image_index]
    train_p = np.flatnonzero(~held)
    held_p = np.flatnonzero(held)
    x_all = pairs.embeddings[pairs.image_index]
    x_train, y_train = x_all[train_p], pairs.targets[train_p]
    order = [n for n in _emotion_order() if n in set(pairs.emotions)]
    class_index = {name: i for i, name in enumerate(order)}
    labels_train = [class_index[pairs.emotions[int(i)]] for i in train_p]
    encoder_block = {
        "name": model.name,
        "model_id": model.model_id,
        "dim": model.dim,
        "pretrained": model.is_pretrained,
    }
    meta: dict[str, Any] = {
        "kind": FEATURE_TASK,
        "model": head,
        "encoder": encoder_block,
        "features": list(HEAD_FEATURES),
        "emotions": order,
        "data_until": pairs.data_until.isoformat() if pairs.data_until else None,
    }
    if progress is not None:
        progress(
            f"fitting the {head} head on {len(train_p)} pairs "
            f"({int((~held_images).sum())} pictures); holding out {len(held_p)} pairs "
            f"({int(held_images.sum())} pictures)"
        )
    fitted: FeatureHead
    onnx_check: dict[str, Any] | None = None
    staging_parent = task_dir(settings.heads_dir, model.model_id, FEATURE_TASK)
    staging_parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=staging_parent))
    try:
        if head == "ridge":
            ridge = fit_ridge(
                x_train, y_train, labels_train, len(order), pairs.weights[train_p], meta
            )
            meta = ridge.meta
            ridge.save(staging)
            fitted = ridge
        else:
            fit = fit_transformer(
                x_train,
                y_train,
                labels_train,
                len(order),
                pairs.weights[train_p],
                meta,
                config=transformer,
                seed=seed,
            )
            meta = {**fit.meta, "final_train_loss": fit.losses[-1] if fit.losses else None}
            fit.export(staging / ONNX_FILE)
            fitted = OnnxHead(staging / ONNX_FILE, meta)
            probe = x_all[held_p] if len(held_p) else x_train[:8]
            onnx_f, onnx_e = fitted.predict(probe)
            torch_f, torch_e = fit.predict_torch(probe)
            onnx_check = {
                "max_abs_diff_features": float(np.abs(onnx_f - torch_f).max()),
                "max_abs_diff_emotions": float(np.abs(onnx_e - torch_e).max()),
            }
        report = _report(
            pairs, fitted, model, settings, index, train_p, held_p, held_images, order, meta
        )
        report["notices"] = notices
        if onnx_check is not None:
            report["onnx"] = onnx_check
        train_sd = pairs.targets[train_p].std(axis=0).astype(np.float64)
        train_sd[train_sd < 1e-8] = 1.0
        comparison = _active_comparison(
            staging_parent, model, x_all[held_p], pairs.targets[held_p], train_sd
        )
        report["comparison"] = comparison
        activated = report["passed"] and (
            comparison.get("active_mse_mean") is None
            or report["held_out"]["mse_mean"] < comparison["active_mse_mean"]
        )
        report["activated"] = bool(activated)
        report["verdict"] = _verdict(report, comparison, bool(activated))
        version = new_version(staging_parent)
        report["version"] = version
        meta["version"] = version
        write_meta(staging, meta, report)
        staging.rename(staging_parent / version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    path = staging_parent / version
    if activated:
        set_active(staging_parent, version, reason="trained: beat its baselines")
    return FeatureTrainResult(report=report, path=path, activated=bool(activated))


def _emotion_order() -> list[str]:
    from tunelens.core import vocab

    return list(vocab.emotions().names)


def _report(
    pairs: PairSet,
    fitted: FeatureHead,
    model: Encoder,
    settings: Settings,
    index: Any,
    train_p: NDArray[np.int64],
    held_p: NDArray[np.int64],
    held_images: NDArray[np.bool_],
    order: list[str],
    meta: dict[str, Any],
) -> dict[str, Any]:
    x_held = pairs.embeddings[pairs.image_index[held_p]]
    truth = pairs.targets[held_p]
    train_y = pairs.targets[train_p].astype(np.float64)
    train_mean = train_y.mean(axis=0)
    train_sd = train_y.std(axis=0)
    train_sd[train_sd < 1e-8] = 1.0
    predicted, emotion_p = fitted.predict(x_held)
    features = _feature_scores(predicted, truth, train_mean, train_sd, pairs.image_index[held_p])
    emotion_pred = [order[int(j)] for j in emotion_p.argmax(axis=1)]
    emotions = _emotion_scores(
        emotion_pred,
        [pairs.emotions[int(i)] for i in held_p],
        [pairs.emotions[int(i)] for i in train_p],
        order,
    )
    retrieval = None
    if index is not None:
        mapping = _mapping_features(model, settings, pairs, pairs.image_index[held_p], index)
        retrieval = _retrieval(
            index, pairs, held_p, predicted, mapping, settings.feature_head_blend
        )
    features_pass = (
        features["mse_mean"] < features["baseline_mse_mean"]
        and features["sign_test_p"] < SIGNIFICANCE
    )
    passed = bool(features_pass and emotions["passed"] is not False)
    problem_counts = Counter(p["code"] for p in pairs.problems)
    return {
        "kind": FEATURE_TASK,
        "task": FEATURE_TASK,
        "model": meta["model"],
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "encoder": meta["encoder"],
        "pretrained_warning": None
        if model.is_pretrained
        else "the encoder has no trained weights (colour statistics or random CLIP): these "
        "figures measure the training plumbing on this data, not picture understanding",
        "pairs": {
            "used": len(pairs),
            "images": len(pairs.image_sha256),
            "sources": pairs.sources,
            "skipped": len(pairs.problems),
            "problem_counts": dict(sorted(problem_counts.items())),
            "problems": pairs.problems[:MAX_LISTED_PROBLEMS],
            "data_until": meta.get("data_until"),
        },
        "split": {
            "by": "picture (sha256)",
            "train_images": int((~held_images).sum()),
            "held_out_images": int(held_images.sum()),
            "train_pairs": len(train_p),
            "held_out_pairs": len(held_p),
        },
        "held_out": features,
        "emotions": emotions,
        "retrieval": retrieval,
        "features_passed": bool(features_pass),
        "passed": passed,
    }


def _verdict(report: dict[str, Any], comparison: dict[str, Any], activated: bool) -> str:
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
    held = report["held_out"]
    split = report["split"]
    lines = [
        f"feature head report: {report['model']} on {enc['name']} ({enc['model_id']}, "
        f"width {enc['dim']})",
        f"  pairs used {report['pairs']['used']} over {report['pairs']['images']} pictures; "
        f"skipped {report['pairs']['skipped']} rows"
        + (
            " (" + ", ".join(f"{k} {v}" for k, v in report["pairs"]["problem_counts"].items()) + ")"
            if report["pairs"]["problem_counts"]
            else ""
        ),
    ]
    for problem in report["pairs"]["problems"][:10]:
        lines.append(f"    {problem['row']}: {problem['code']}: {problem['message']}")
    if report["pairs"]["skipped"] > 10:
        lines.append(f"    … {report['pairs']['skipped'] - 10} more in report.json")
    lines.append(
        f"  held out {split['held_out_pairs']} pairs of {split['held_out_images']} pictures "
        f"(split by picture); trained on {split['train_pairs']} pairs"
    )
    lines.append(f"  {'feature':<18}{'MSE':>8}{'mean→':>8}{'R²':>8}{'mean→':>8}")
    for name, row in held["per_feature"].items():
        lines.append(
            f"  {name:<18}{row['mse']:>8.3f}{row['baseline_mse']:>8.3f}"
            f"{row['r2']:>8.3f}{row['baseline_r2']:>8.3f}"
        )
    lines.append(
        f"  {'all (z-units)':<18}{held['mse_mean']:>8.3f}{held['baseline_mse_mean']:>8.3f}"
        f"{held['r2_mean']:>8.3f}{held['baseline_r2_mean']:>8.3f}"
    )
    emotions = report["emotions"]
    lines.append(
        f"  emotions: accuracy {emotions['accuracy']:.1%}, macro-F1 {emotions['macro_f1']:.3f}; "
        f"majority ({emotions['baseline']['label']}) {emotions['baseline']['accuracy']:.1%}, "
        f"{emotions['baseline']['macro_f1']:.3f}"
    )
    retrieval = report.get("retrieval")
    if retrieval:
        lines.append(
            f"  retrieval over {retrieval['catalogue_size']} songs, {retrieval['pairs']} "
            "held-out pairs: paired song in top 10 / top 50"
        )
        for name in ("head", "mapping", "blend", "chance"):
            row = retrieval[name]
            label = f"blend {row['share']:.2f}" if name == "blend" else name
            lines.append(f"    {label:<14}{row['hit_at_10']:>8.1%}{row['hit_at_50']:>8.1%}")
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
