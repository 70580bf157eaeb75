"""Learned picture → audio-feature heads (DyLuMo's approach), fitted and served.

DyLuMo predicted Spotify audio features and emotions from CLIP image features with a small
cross-modal transformer. tunelens offers two heads on the frozen embedding of its encoder,
both predicting the 10 mood features the mapping targets (regression) and DyLuMo's emotions
(classification) together:

* ``ridge`` — closed form: ridge regression for the features and a ridge classifier for the
  emotions, on standardised embeddings, the penalty picked per target by efficient
  leave-one-out (scikit-learn's ``RidgeCV``). Saved as one affine map (``ridge.npz``).
* ``transformer`` — a small multi-task model in PyTorch (the optional ``torch`` extra): the
  embedding is projected into a few tokens (tunelens's encoders give pooled embeddings, not
  patch tokens), a learned summary token is prepended, a few pre-norm transformer layers with
  dropout mix them, and two linear heads read the summary token: features (MSE) and emotions
  (cross-entropy with label smoothing, as DyLuMo used). Input standardisation and output
  de-standardisation are buffers of the model, so the exported ONNX graph maps a raw
  embedding to features in Spotify units and emotion probabilities; serving needs only ONNX
  Runtime, never torch.

Every head's files: ``head.json`` (kind, model, encoder name/id/width, features, emotions),
``report.json`` (see :mod:`tunelens.training.features`) and ``ridge.npz`` or ``model.onnx``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from tunelens.core.errors import ModelUnavailable
from tunelens.heads.linear import softmax
from tunelens.vision.base import FloatArray

HeadModel = Literal["ridge", "transformer"]
HEAD_MODELS: tuple[HeadModel, ...] = ("ridge", "transformer")
FEATURE_TASK = "features"
META_FILE = "head.json"
REPORT_FILE = "report.json"
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


def _standardiser(x: NDArray[np.floating[Any]]) -> tuple[FloatArray, FloatArray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-8] = 1.0  # a constant column: leave it centred, do not blow it up
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


def fit_ridge(
    x: FloatArray,
    y: NDArray[np.float32],
    labels: Sequence[int],
    n_classes: int,
    weights: NDArray[np.float32],
    meta: dict[str, Any],
) -> RidgeHead:
    """Closed-form ridge for features (z-scored targets, penalty per target) and emotions."""
    from sklearn.linear_model import RidgeClassifierCV, RidgeCV

    x_mean, x_scale = _standardiser(x)
    y_mean, y_scale = _standardiser(y)
    xs = (x - x_mean) / x_scale
    ys = (y - y_mean) / y_scale
    regression = RidgeCV(alphas=RIDGE_ALPHAS, alpha_per_target=True).fit(
        xs, ys, sample_weight=weights
    )
    coef = np.asarray(regression.coef_, dtype=np.float64)  # (F, D) in z-space
    w_features = (coef * y_scale[:, None]) / x_scale[None, :]
    b_features = y_mean + y_scale * np.asarray(regression.intercept_) - w_features @ x_mean
    classes = sorted(set(labels))
    w_emotions = np.zeros((n_classes, x.shape[1]), dtype=np.float64)
    b_emotions = np.full(n_classes, -1e3)
    if len(classes) == 1:  # one class seen: always answer it
        b_emotions[classes[0]] = 0.0
    else:
        classifier = RidgeClassifierCV(alphas=RIDGE_ALPHAS).fit(
            xs, np.asarray(labels), sample_weight=weights
        )
        c = np.asarray(classifier.coef_, dtype=np.float64)
        b = np.asarray(classifier.intercept_, dtype=np.float64)
        if len(classes) == 2:  # scikit-learn's binary form: one score for the second class
            c = np.vstack([-c, c]) / 2
            b = np.concatenate([-b, b]) / 2
        for row, cls in enumerate(int(k) for k in classifier.classes_):
            w_emotions[cls] = c[row] / x_scale
            b_emotions[cls] = b[row] - (c[row] / x_scale) @ x_mean
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


# --------------------------------------------------------------------------- transformer


def _require_torch() -> Any:
    try:
        import torch
    except ModuleNotFoundError:
        raise ModelUnavailable(
            "--head transformer needs PyTorch: pip install 'tunelens[torch]' (serving the "
            "exported head needs only ONNX Runtime).",
            code="torch_missing",
        ) from None
    return torch


def transformer_config(
    *,
    tokens: int = 4,
    width: int = 32,
    layers: int = 2,
    heads: int = 2,
    dropout: float = 0.1,
    label_smoothing: float = 0.1,
    epochs: int = 120,
    batch_size: int = 64,
    lr: float = 3e-3,
    weight_decay: float = 1e-2,
    emotion_loss_weight: float = 0.5,
) -> dict[str, Any]:
    """The transformer head's hyper-parameters (defaults: small, for ~10² – 10⁴ pairs)."""
    return {
        "tokens": tokens,
        "width": width,
        "layers": layers,
        "heads": heads,
        "dropout": dropout,
        "label_smoothing": label_smoothing,
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "weight_decay": weight_decay,
        "emotion_loss_weight": emotion_loss_weight,
    }


def _build_net(dim: int, n_features: int, n_classes: int, config: Mapping[str, Any]) -> Any:
    torch = _require_torch()
    nn = torch.nn

    class MultiTaskTransformer(nn.Module):  # type: ignore[misc,name-defined]
        """Embedding → tokens → transformer → (features in Spotify units, emotion probs)."""

        def __init__(self) -> None:
            super().__init__()
            t, w = int(config["tokens"]), int(config["width"])
            self.tokens, self.width = t, w
            for name, size in (("x_mean", dim), ("x_scale", dim)):
                self.register_buffer(
                    name, torch.zeros(size) if "mean" in name else torch.ones(size)
                )
            self.register_buffer("y_mean", torch.zeros(n_features))
            self.register_buffer("y_scale", torch.ones(n_features))
            self.to_tokens = nn.Linear(dim, t * w)
            self.summary = nn.Parameter(torch.zeros(1, 1, w))
            self.position = nn.Parameter(torch.randn(1, t + 1, w) * 0.02)
            layer = nn.TransformerEncoderLayer(
                w,
                int(config["heads"]),
                dim_feedforward=2 * w,
                dropout=float(config["dropout"]),
                batch_first=True,
                norm_first=True,
            )
            self.encoder = nn.TransformerEncoder(
                layer, int(config["layers"]), enable_nested_tensor=False
            )
            self.norm = nn.LayerNorm(w)
            self.drop = nn.Dropout(float(config["dropout"]))
            self.features = nn.Linear(w, n_features)
            self.emotions = nn.Linear(w, n_classes)

        def forward_z(self, x: Any) -> tuple[Any, Any]:
            """z-scored features and emotion logits (what the losses see)."""
            xs = (x - self.x_mean) / self.x_scale
            tokens = self.to_tokens(xs).reshape(-1, self.tokens, self.width)
            summary = self.summary.expand(tokens.shape[0], -1, -1)
            h = self.encoder(torch.cat([summary, tokens], dim=1) + self.position)
            h = self.drop(self.norm(h[:, 0]))
            return self.features(h), self.emotions(h)

        def forward(self, x: Any) -> tuple[Any, Any]:
            z, logits = self.forward_z(x)
            return z * self.y_scale + self.y_mean, torch.softmax(logits, dim=-1)

    return MultiTaskTransformer()


class OnnxHead:
    """A transformer head exported to ONNX, run with ONNX Runtime (no torch)."""

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        import onnxruntime as ort

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


class TransformerFit:
    """A trained torch model, before export (kept to compare PyTorch with ONNX Runtime)."""

    def __init__(self, net: Any, meta: dict[str, Any], losses: list[float]) -> None:
        self.net = net
        self.meta = meta
        self.losses = losses

    def predict_torch(self, embeddings: FloatArray) -> tuple[FloatArray, FloatArray]:
        torch = _require_torch()
        self.net.eval()
        with torch.no_grad():
            f, e = self.net(torch.from_numpy(np.ascontiguousarray(embeddings, dtype=np.float32)))
        return f.numpy().astype(np.float32), e.numpy().astype(np.float32)

    def export(self, path: Path) -> None:
        """Write the model as ONNX: input ``embedding`` (batch, dim), outputs ``features``
        and ``emotions``, batch dimension dynamic."""
        torch = _require_torch()
        self.net.eval()
        example = torch.zeros(2, int(self.meta["encoder"]["dim"]))
        # the TorchScript exporter (0.2 s, no onnxscript needed) warns that it is legacy and
        # about traced shape checks that are constant for this model; the export is checked
        # against PyTorch numerically instead (report["onnx"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._export(torch, example, path)

    def _export(self, torch: Any, example: Any, path: Path) -> None:
        torch.onnx.export(
            self.net,
            (example,),
            str(path),
            input_names=["embedding"],
            output_names=["features", "emotions"],
            dynamic_axes={
                "embedding": {0: "batch"},
                "features": {0: "batch"},
                "emotions": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )


def fit_transformer(
    x: FloatArray,
    y: NDArray[np.float32],
    labels: Sequence[int],
    n_classes: int,
    weights: NDArray[np.float32],
    meta: dict[str, Any],
    *,
    config: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> TransformerFit:
    """Train the multi-task transformer (AdamW, weighted MSE + label-smoothed CE)."""
    torch = _require_torch()
    cfg = dict(transformer_config() if config is None else config)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    net = _build_net(x.shape[1], y.shape[1], n_classes, cfg)
    x_mean, x_scale = _standardiser(x)
    y_mean, y_scale = _standardiser(y)
    net.x_mean.copy_(torch.from_numpy(x_mean))
    net.x_scale.copy_(torch.from_numpy(x_scale))
    net.y_mean.copy_(torch.from_numpy(y_mean))
    net.y_scale.copy_(torch.from_numpy(y_scale))
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    zt = torch.from_numpy(((y - y_mean) / y_scale).astype(np.float32))
    lt = torch.as_tensor(list(labels), dtype=torch.long)
    wt = torch.from_numpy(np.asarray(weights, dtype=np.float32))
    wt = wt / wt.mean()
    optimiser = torch.optim.AdamW(
        net.parameters(), lr=float(cfg["lr"]), weight_decay=float(cfg["weight_decay"])
    )
    ce = torch.nn.CrossEntropyLoss(reduction="none", label_smoothing=float(cfg["label_smoothing"]))
    epochs, batch = int(cfg["epochs"]), int(cfg["batch_size"])
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(1, epochs))
    losses: list[float] = []
    n = xt.shape[0]
    net.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            z, logits = net.forward_z(xt[idx])
            w = wt[idx]
            mse = (((z - zt[idx]) ** 2).mean(dim=1) * w).mean()
            loss = mse + float(cfg["emotion_loss_weight"]) * (ce(logits, lt[idx]) * w).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(idx)
        scheduler.step()
        losses.append(round(total / n, 5))
    net.eval()
    return TransformerFit(net, {**meta, "config": cfg}, losses)


# --------------------------------------------------------------------------- files


def write_meta(directory: Path, meta: Mapping[str, Any], report: Mapping[str, Any]) -> None:
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
    if model not in ("ridge", "transformer"):
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
