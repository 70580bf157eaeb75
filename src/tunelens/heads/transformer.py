"""The ``transformer`` feature head: a small multi-task model, fitted in PyTorch, served in ONNX.

The embedding is projected into a few tokens (tunelens's encoders give pooled embeddings, not
patch tokens), a learned summary token is prepended, a few pre-norm transformer layers with
dropout mix them, and two linear heads read the summary token: features (MSE) and emotions
(cross-entropy with label smoothing, as DyLuMo used). Input standardisation and output
de-standardisation are buffers of the model, so the exported ONNX graph maps a raw embedding
to features in Spotify units and emotion probabilities (served by
:class:`tunelens.heads.feature.OnnxHead`).

PyTorch is the optional ``torch`` extra: this module imports it only when a model is built,
trained or exported, so importing the module (and its :class:`TransformerConfig`) never loads
torch, and a missing torch is a clear :class:`~tunelens.core.errors.ModelUnavailable`.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tunelens.core.errors import ModelUnavailable
from tunelens.heads.feature import FitData, standardiser
from tunelens.vision.base import FloatArray


def _require_torch() -> Any:
    try:
        import torch  # noqa: PLC0415 -- the optional torch extra, loaded only to train
    except ModuleNotFoundError:
        raise ModelUnavailable(
            "--head transformer needs PyTorch: pip install 'tunelens[torch]' (serving the "
            "exported head needs only ONNX Runtime).",
            code="torch_missing",
        ) from None
    return torch


@dataclass(frozen=True)
class TransformerConfig:
    """The transformer head's hyper-parameters (defaults: small, for ~10² – 10⁴ pairs)."""

    tokens: int = 4
    width: int = 32
    layers: int = 2
    heads: int = 2
    dropout: float = 0.1
    label_smoothing: float = 0.1
    epochs: int = 120
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-2
    emotion_loss_weight: float = 0.5

    def as_dict(self) -> dict[str, Any]:
        """The form saved in ``head.json`` (``config``)."""
        return asdict(self)


def _build_net(dim: int, n_features: int, n_classes: int, config: TransformerConfig) -> Any:
    torch = _require_torch()
    nn = torch.nn

    class MultiTaskTransformer(nn.Module):  # type: ignore[misc,name-defined]
        """Embedding → tokens → transformer → (features in Spotify units, emotion probs)."""

        def __init__(self) -> None:
            super().__init__()
            t, w = config.tokens, config.width
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
                config.heads,
                dim_feedforward=2 * w,
                dropout=config.dropout,
                batch_first=True,
                norm_first=True,
            )
            self.encoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(w)
            self.drop = nn.Dropout(config.dropout)
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
    data: FitData,
    meta: dict[str, Any],
    *,
    config: TransformerConfig | None = None,
    seed: int = 0,
) -> TransformerFit:
    """Train the multi-task transformer (AdamW, weighted MSE + label-smoothed CE)."""
    torch = _require_torch()
    cfg = config or TransformerConfig()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    net = _build_net(data.x.shape[1], data.y.shape[1], data.n_classes, cfg)
    x_mean, x_scale = standardiser(data.x)
    y_mean, y_scale = standardiser(data.y)
    net.x_mean.copy_(torch.from_numpy(x_mean))
    net.x_scale.copy_(torch.from_numpy(x_scale))
    net.y_mean.copy_(torch.from_numpy(y_mean))
    net.y_scale.copy_(torch.from_numpy(y_scale))
    tensors = (
        torch.from_numpy(np.ascontiguousarray(data.x, dtype=np.float32)),
        torch.from_numpy(((data.y - y_mean) / y_scale).astype(np.float32)),
        torch.as_tensor(list(data.labels), dtype=torch.long),
    )
    weights = torch.from_numpy(np.asarray(data.weights, dtype=np.float32))
    losses = _train(torch, net, (*tensors, weights / weights.mean()), cfg, generator)
    net.eval()
    return TransformerFit(net, {**meta, "config": cfg.as_dict()}, losses)


def _train(
    torch: Any, net: Any, tensors: tuple[Any, ...], cfg: TransformerConfig, generator: Any
) -> list[float]:
    """The epochs of mini-batch AdamW over (embeddings, z-targets, labels, weights); the
    mean loss of each epoch."""
    xt, zt, lt, wt = tensors
    optimiser = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    ce = torch.nn.CrossEntropyLoss(reduction="none", label_smoothing=cfg.label_smoothing)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(1, cfg.epochs))
    losses: list[float] = []
    n = xt.shape[0]
    net.train()
    for _ in range(cfg.epochs):
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, cfg.batch_size):
            idx = order[start : start + cfg.batch_size]
            z, logits = net.forward_z(xt[idx])
            w = wt[idx]
            mse = (((z - zt[idx]) ** 2).mean(dim=1) * w).mean()
            loss = mse + cfg.emotion_loss_weight * (ce(logits, lt[idx]) * w).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(idx)
        scheduler.step()
        losses.append(round(total / n, 5))
    return losses
