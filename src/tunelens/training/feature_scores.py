"""How a feature head is judged: the split by picture, and each figure beside its baseline.

**Split.** Pairs are split by picture (sha256), never by row: every pair of a held-out
picture is held out, so a picture paired with several songs cannot leak into both sides.
The head is fitted on the training pictures only, and the saved head *is* the one the report
measures (no refit on everything afterwards).

**Figures** (assembled into ``report.json`` by :mod:`tunelens.training.feature_report`):

* features — per feature and on average, held-out MSE in z-units (squared error divided by the
  feature's variance over the training pairs, so 1.0 is "as far off as the spread of the
  data"; DyLuMo's published 0.12 is in its own units and not comparable) and R²
  (scikit-learn's, against the held-out mean), beside the baseline that always predicts the
  training mean; plus the raw-unit MSE, and a sign test over held-out pictures;
* emotions — held-out accuracy and macro-F1 beside the majority class of the training pairs;
* retrieval — for held-out pairs whose song is in the catalogue, how often that song is among
  the 10 / 50 nearest tracks in the recommender's weighted feature space when the target comes
  from the learned head, from the documented mapping (the reading tunelens would make of the
  picture), and from their blend at ``TUNELENS_FEATURE_HEAD_BLEND``; with chance (k / N).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tunelens.catalogue.index import CatalogueIndex
from tunelens.core import vocab
from tunelens.core.errors import InvalidRequest
from tunelens.core.settings import Settings
from tunelens.core.types import EncoderInfo
from tunelens.heads.feature import FitData, load_feature_head, read_meta
from tunelens.heads.store import active_version
from tunelens.pipeline import build_reader
from tunelens.recommend.mapping import FEATURE_WEIGHTS, genre_profiles, target_profile
from tunelens.recommend.ranking import Recommender
from tunelens.training.pairs import HEAD_FEATURES, PairSet
from tunelens.training.scores import binomial_tail, scores, verdict
from tunelens.vision.base import Encoder, FloatArray

#: least distinct readable pictures to train on, and to hold out
MIN_IMAGES = 10
MIN_HELD_OUT = 5
#: retrieval cut-offs reported
HIT_KS: tuple[int, ...] = (10, 50)


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


@dataclass(frozen=True)
class SplitPairs:
    """A run's pairs split by picture: which pairs fit the head, which judge it, and the
    emotion classes the head answers (the vocabulary's order, those the pairs use)."""

    pairs: PairSet
    #: per distinct picture: held out?
    held_images: NDArray[np.bool_]
    train: NDArray[np.int64]
    held: NDArray[np.int64]
    emotions: list[str]

    @classmethod
    def split(cls, pairs: PairSet, test_size: float, seed: int) -> SplitPairs:
        held_images = split_by_image(len(pairs.image_sha256), test_size, seed)
        held = held_images[pairs.image_index]
        used = set(pairs.emotions)
        return cls(
            pairs=pairs,
            held_images=held_images,
            train=np.flatnonzero(~held),
            held=np.flatnonzero(held),
            emotions=[n for n in vocab.emotions().names if n in used],
        )

    @property
    def x_all(self) -> FloatArray:
        """(n_pairs, dim) each pair's picture embedding."""
        return self.pairs.embeddings[self.pairs.image_index]

    def fit_data(self) -> FitData:
        """The training pairs, as the heads' fitters take them."""
        class_index = {name: i for i, name in enumerate(self.emotions)}
        return FitData(
            x=self.x_all[self.train],
            y=self.pairs.targets[self.train],
            labels=[class_index[self.pairs.emotions[int(i)]] for i in self.train],
            n_classes=len(self.emotions),
            weights=self.pairs.weights[self.train],
        )


@dataclass(frozen=True)
class TrainingContext:
    """What the head will serve with: the encoder the pairs were embedded with, the
    settings (the mapping's reader, the blend), and the catalogue index (None: no catalogue,
    so retrieval is not measured)."""

    model: Encoder
    settings: Settings
    index: CatalogueIndex | None


def feature_scores(
    predicted: FloatArray,
    truth: NDArray[np.float32],
    train_mean: NDArray[np.float64],
    train_sd: NDArray[np.float64],
    image_of_pair: NDArray[np.int64],
) -> dict[str, Any]:
    """Per-feature and mean MSE (z-units and raw) and R², head vs the training-mean baseline,
    and the per-picture sign test."""
    # scikit-learn costs about a second to import; only scoring a run needs it
    from sklearn.metrics import r2_score  # noqa: PLC0415

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


def emotion_scores(
    predicted: list[str], truth: list[str], train_labels: list[str], order: list[str]
) -> dict[str, Any]:
    """Held-out emotion accuracy and macro-F1 beside the training pairs' majority class,
    gated when the held-out pairs have more than one emotion."""
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


def mapping_features(data: SplitPairs, context: TrainingContext) -> list[dict[str, float]]:
    """The documented mapping's target for each held-out pair's picture, from the reading
    tunelens makes of it (the reader the engine builds, the catalogue's genre profiles)."""
    model = context.model
    info = EncoderInfo(
        name=model.name, pretrained=model.is_pretrained, fallback=False, model_id=model.model_id
    )
    reader, _ = build_reader(model, info, context.settings)
    profiles = (
        Recommender(context.index).profiles if context.index is not None else genre_profiles()
    )
    images = data.pairs.image_index[data.held]
    readings = reader.read(
        [], data.pairs.embeddings[images], stats=[data.pairs.stats[int(i)] for i in images]
    )
    return [dict(target_profile(r, profiles).features) for r in readings]


def _hits(
    index: CatalogueIndex, rows: list[tuple[int, int]], targets: list[dict[str, float]]
) -> dict[str, float]:
    """How often each pair's catalogue row is in the top k of its target's search."""
    names = list(index.feature_names)
    k = min(max(HIT_KS), len(index))
    found = dict.fromkeys(HIT_KS, 0)
    for (_, row), target in zip(rows, targets, strict=True):
        vector = np.array([target.get(n, math.nan) for n in names], dtype=np.float32)
        top, _ = index.search(vector, FEATURE_WEIGHTS, k)
        ranked = [int(r) for r in top]
        for kk in HIT_KS:
            if row in ranked[:kk]:
                found[kk] += 1
    return {f"hit_at_{kk}": round(found[kk] / len(rows), 4) for kk in HIT_KS}


def retrieval(
    index: CatalogueIndex,
    data: SplitPairs,
    head_features: FloatArray,
    mapping: list[dict[str, float]],
    blend: float,
) -> dict[str, Any] | None:
    """Hit rates of the paired song in the top-k nearest tracks, per target source."""
    rows: list[tuple[int, int]] = []  # (position among held-out pairs, catalogue row)
    for pos, p in enumerate(data.held):
        track_id = data.pairs.track_ids[int(p)]
        if track_id is not None and track_id in index.catalogue:
            rows.append((pos, index.catalogue.index_of(track_id)))
    if not rows:
        return None
    head_targets = []
    map_targets = []
    blend_targets = []
    for pos, _ in rows:
        mapped = mapping[pos]
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
        "head": _hits(index, rows, head_targets),
        "mapping": _hits(index, rows, map_targets),
        "blend": {"share": blend, **_hits(index, rows, blend_targets)},
        "chance": {f"hit_at_{kk}": round(min(1.0, kk / len(index)), 4) for kk in HIT_KS},
    }


def active_comparison(folder: Path, data: SplitPairs, model: Encoder) -> dict[str, Any]:
    """The active head's held-out MSE on the same pictures (z-units of the training pairs),
    or why it cannot be compared."""
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
    truth = data.pairs.targets[data.held]
    sd = data.pairs.targets[data.train].std(axis=0).astype(np.float64)
    sd[sd < 1e-8] = 1.0
    predicted, _ = head.predict(data.x_all[data.held])
    return {
        "active": version,
        "active_mse_mean": round(float((((predicted - truth) / sd) ** 2).mean()), 4),
    }
