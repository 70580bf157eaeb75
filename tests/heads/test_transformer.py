"""The transformer feature head: its ONNX export answers as the PyTorch model does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tunelens.heads.feature import FitData, OnnxHead
from tunelens.heads.transformer import TransformerConfig, fit_transformer


def test_the_onnx_export_agrees_with_pytorch(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="needs the torch extra")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 14)).astype(np.float32)
    y = np.stack([x[:, 0], x[:, 1] * 2 + 1], axis=1).astype(np.float32)
    meta = {"encoder": {"dim": 14}, "features": ["a", "b"], "emotions": ["p", "q"]}
    data = FitData(
        x=x,
        y=y,
        labels=[int(v > 0) for v in x[:, 0]],
        n_classes=2,
        weights=np.ones(40, np.float32),
    )
    fit = fit_transformer(data, meta, config=TransformerConfig(epochs=5))
    fit.export(tmp_path / "m.onnx")
    onnx_f, onnx_e = OnnxHead(tmp_path / "m.onnx", meta).predict(x)
    torch_f, torch_e = fit.predict_torch(x)
    np.testing.assert_allclose(onnx_f, torch_f, atol=1e-4)
    np.testing.assert_allclose(onnx_e, torch_e, atol=1e-5)
