"""Learned picture → audio-feature heads (DyLuMo's approach): what they are, saved and loaded.

DyLuMo predicted Spotify audio features and emotions from CLIP image features with a small
cross-modal transformer. tunelens offers two heads on the frozen embedding of its encoder,
both predicting the 10 mood features the mapping targets (regression) and DyLuMo's emotions
(classification) together:

* ``ridge`` — closed form: ridge regression for the features and a ridge classifier for the
  emotions, on standardised embeddings, the penalty picked per target by efficient
  leave-one-out (scikit-learn's ``RidgeCV``). Saved as one affine map (``ridge.npz``).
* ``transformer`` — a small multi-task model in PyTorch (the optional ``torch`` extra), fitted
  and exported by :mod:`tunelens.heads.transformer`; the exported ONNX graph maps a raw
  embedding to features in Spotify units and emotion probabilities, so serving it
  (:class:`OnnxHead`) needs only ONNX Runtime, never torch.

Every head's files: ``head.json`` (kind, model, encoder name/id/width, features, emotions),
``report.json`` (see :mod:`tunelens.training.features`) and ``ridge.npz`` or ``model.onnx``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from tunelens.heads.softmax import softmax
from tunelens.heads.store import FEATURE_TASK, REPORT_FILE
from tunelens.vision.base import FloatArray

HeadModel = Literal["ridge", "transformer"]
HEAD_MODELS: tuple[HeadModel, ...] = ("ridge", "transformer")
META_FILE = "head.json"
RIDGE_FILE = "ridge.npz"
ONNX_FILE = "model.onnx"
#: ridge penalties tried (per target, by efficient leave-one-out)
RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-3, 4, 15))


class FeatureHead(Protocol):
    """What serving and evaluation need from a trained head, whatever its model."""

    meta: dict[str, Any]

    def predict(self, embeddings: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``(N, n_features)`` features in Spotify units and ``(N, n_emotions)`` emotion
        probabilities (ridge: softmax of uncalibrated classifier scores)."""
        ...


@dataclass(frozen=True)
class FitData:
    """What a feature head is fitted on, row by row (one row per training pair)."""

    #: (N, dim) raw embeddings
    x: FloatArray
    #: (N, n_features) target features in Spotify units
    y: NDArray[np.float32]
    #: the emotion class of each row, an index below ``n_classes``
    labels: Sequence[int]
    n_classes: int
    #: per-row sample weights
    weights: NDArray[np.float32]


def standardiser(x: NDArray[np.floating[Any]]) -> tuple[FloatArray, FloatArray]:
    """(mean, scale) of each column; a constant column is centred, never blown up."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-8] = 1.0
    return mean.astype(np.float32), scale.astype(np.float32)


# --------------------------------------------------------------------------- ridge


class RidgeHead:
    """Features ``= X W_fᵀ + b_f`` and emotion scores ``= X W_eᵀ + b_e`` on raw embeddings."""

    def __init__(self, arrays: Mapping[str, NDArray[Any]], meta: dict[str, Any]) -> None:
        self.w_features = np.asarray(arrays["w_features"], dtype=np.float32)
        self.b_features = np.asarray(arrays["b_features"], dtype=np.float32)
        self.w_emotions = np.asarray(arrays["w_emotions"], dtype=np.float32)
        self.b_emotions = np.asarray(arrays["b_emotions"], dtype=np.float32)
        self.meta = meta

    def predict(self, embeddings: FloatArray) -> tuple[FloatArray, FloatArray]:
        x = np.asarray(embeddings, dtype=np.float32)
        features = (x @ self.w_features.T + self.b_features).astype(np.float32)
        scores = (x @ self.w_emotions.T + self.b_emotions).astype(np.float32)
        return features, softmax(scores)

    def save(self, directory: Path) -> None:
        with (directory / RIDGE_FILE).open("wb") as handle:
            np.savez(
                handle,
                w_features=self.w_features,
                b_features=self.b_features,
                w_emotions=self.w_emotions,
                b_emotions=self.b_emotions,
            )


def fit_ridge(data: FitData, meta: dict[str, Any]) -> RidgeHead:
    """Closed-form ridge for features (z-scored targets, penalty per target) and emotions."""
    # scikit-learn costs about a second to import; serving a saved head never needs it
    from sklearn.linear_model import RidgeCV  # noqa: PLC0415

    x_mean, x_scale = standardiser(data.x)
    y_mean, y_scale = standardiser(data.y)
    xs = (data.x - x_mean) / x_scale
    ys = (data.y - y_mean) / y_scale
    regression = RidgeCV(alphas=RIDGE_ALPHAS, alpha_per_target=True).fit(
        xs, ys, sample_weight=data.weights
    )
    coef = np.asarray(regression.coef_, dtype=np.float64)  # (F, D) in z-space
    w_features = (coef * y_scale[:, None]) / x_scale[None, :]
    b_features = y_mean + y_scale * np.asarray(regression.intercept_) - w_features @ x_mean
    w_emotions, b_emotions = _fit_emotions(data, xs, x_mean, x_scale)
    meta = {**meta, "alphas": [float(a) for a in np.atleast_1d(regression.alpha_)]}
    return RidgeHead(
        {
            "w_features": w_features,
            "b_features": b_features,
            "w_emotions": w_emotions,
            "b_emotions": b_emotions,
        },
        meta,
    )


def _fit_emotions(
    data: FitData, xs: FloatArray, x_mean: FloatArray, x_scale: FloatArray
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Ridge classifier weights over every class, folded back to raw embeddings (classes
    never seen get a score of −1000, so they are never answered)."""
    from sklearn.linear_model import RidgeClassifierCV  # noqa: PLC0415 -- see fit_ridge

    classes = sorted(set(data.labels))
    w_emotions = np.zeros((data.n_classes, data.x.shape[1]), dtype=np.float64)
    b_emotions = np.full(data.n_classes, -1e3)
    if len(classes) == 1:  # one class seen: always answer it
        b_emotions[classes[0]] = 0.0
        return w_emotions, b_emotions
    classifier = RidgeClassifierCV(alphas=RIDGE_ALPHAS).fit(
        xs, np.asarray(data.labels), sample_weight=data.weights
    )
    c = np.asarray(classifier.coef_, dtype=np.float64)
    b = np.asarray(classifier.intercept_, dtype=np.float64)
    if len(classes) == 2:  # scikit-learn's binary form: one score for the second class
        c = np.vstack([-c, c]) / 2
        b = np.concatenate([-b, b]) / 2
    for row, cls in enumerate(int(k) for k in classifier.classes_):
        w_emotions[cls] = c[row] / x_scale
        b_emotions[cls] = b[row] - (c[row] / x_scale) @ x_mean
    return w_emotions, b_emotions


# --------------------------------------------------------------------------- ONNX


class OnnxHead:
    """A transformer head exported to ONNX, run with ONNX Runtime (no torch)."""

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        # ONNX Runtime loads only when a transformer head is actually served
        import onnxruntime as ort  # noqa: PLC0415

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # a few thousand multiply-adds: threads only cost
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # a truncated or foreign file
            raise ValueError(f"unreadable ONNX head {path}: {exc}") from exc
        self.meta = meta

    def predict(self, embeddings: FloatArray) -> tuple[FloatArray, FloatArray]:
        x = np.ascontiguousarray(embeddings, dtype=np.float32)
        if x.shape[0] == 0:
            return (
                np.zeros((0, len(self.meta["features"])), dtype=np.float32),
                np.zeros((0, len(self.meta["emotions"])), dtype=np.float32),
            )
        features, emotions = self.session.run(None, {"embedding": x})
        return np.asarray(features, dtype=np.float32), np.asarray(emotions, dtype=np.float32)


# --------------------------------------------------------------------------- files


def write_meta(directory: Path, meta: Mapping[str, Any], report: Mapping[str, Any]) -> None:
    """Write ``head.json`` and ``report.json`` of a feature head."""
    (directory / META_FILE).write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (directory / REPORT_FILE).write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def read_meta(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(``head.json``, ``report.json``) of a saved feature head; ``ValueError`` if unreadable."""
    try:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        report_path = directory / REPORT_FILE
        report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"unreadable head at {directory}: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("kind") != FEATURE_TASK:
        raise ValueError(f"{directory} is not a feature head")
    return meta, report if isinstance(report, dict) else {}


def load_feature_head(directory: Path) -> FeatureHead:
    """Load a saved feature head (ridge weights or the ONNX model); ``ValueError`` when its
    files are missing or inconsistent."""
    meta, _ = read_meta(directory)
    model = meta.get("model")
    if model not in HEAD_MODELS:
        raise ValueError(f"unknown feature head model {model!r} at {directory}")
    # Any failure here (a truncated .npz is a BadZipFile, a damaged .onnx an ONNX Runtime
    # error, a head.json without its encoder a KeyError) means this head cannot serve; the
    # callers turn ValueError into "use the mapping" instead of failing the whole engine.
    try:
        if model == "ridge":
            with np.load(directory / RIDGE_FILE) as data:
                arrays = {k: data[k] for k in data.files}
            head: FeatureHead = RidgeHead(arrays, meta)
        else:
            head = OnnxHead(directory / ONNX_FILE, meta)
        probe = np.zeros((1, int(meta["encoder"]["dim"])), dtype=np.float32)
        features, emotions = head.predict(probe)
    except Exception as exc:
        raise ValueError(f"unreadable head at {directory}: {type(exc).__name__}: {exc}") from exc
    if features.shape != (1, len(meta["features"])) or emotions.shape[1] != len(meta["emotions"]):
        raise ValueError(f"head at {directory} does not match its head.json")
    return head
