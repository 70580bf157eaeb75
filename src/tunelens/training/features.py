"""``tunelens train features``: fit a learned audio-feature head on paired data, report
honestly, save it versioned, and activate it only when it earns it.

The pairs come from :mod:`tunelens.training.pairs`; they are split by picture and judged by
:mod:`tunelens.training.feature_scores`; the report, its gate and its verdict are
:mod:`tunelens.training.feature_report`'s. The head is written into a hidden staging folder
and renamed into place as a new version of ``<data_dir>/heads/<model_id>/features/``; it
becomes the active one only when it passed and beats the active head (see
:func:`~tunelens.training.feature_report.should_activate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tunelens.catalogue.index import CatalogueIndex
from tunelens.core.errors import CatalogError, InvalidRequest
from tunelens.core.settings import Settings
from tunelens.heads.feature import (
    HEAD_MODELS,
    ONNX_FILE,
    FeatureHead,
    HeadModel,
    OnnxHead,
    fit_ridge,
    write_meta,
)
from tunelens.heads.store import FEATURE_TASK, new_version, publish, set_active, staging, task_dir
from tunelens.heads.transformer import TransformerConfig, fit_transformer
from tunelens.training.feature_report import judge, should_activate, verdict_sentence
from tunelens.training.feature_scores import SplitPairs, TrainingContext, active_comparison
from tunelens.training.pairs import HEAD_FEATURES, PairSources, build_pairs
from tunelens.training.run import TrainingRun
from tunelens.vision.base import Encoder


@dataclass(frozen=True)
class FeatureFit:
    """How the head is fitted: its model, the share of pictures held out, and the
    transformer's hyper-parameters (None: :class:`TransformerConfig`'s defaults)."""

    head: HeadModel = "ridge"
    test_size: float = 0.25
    transformer: TransformerConfig | None = None


@dataclass
class FeatureTrainResult:
    report: dict[str, Any]
    path: Path
    activated: bool


def _load_index(
    catalog_dir: Path | None, settings: Settings, notices: list[str]
) -> CatalogueIndex | None:
    """The catalogue the pairs' track ids name; without the default one, a notice (an
    explicitly named catalogue must be there)."""
    try:
        return CatalogueIndex.load(catalog_dir or settings.default_catalog_dir)
    except CatalogError as exc:
        if catalog_dir is not None or exc.code != "catalog_missing":
            raise
        notices.append(
            f"no catalogue ({exc.message}): track ids cannot be resolved and retrieval is not "
            "measured"
        )
        return None


def train_features(sources: PairSources, fit: FeatureFit, run: TrainingRun) -> FeatureTrainResult:
    """Read and embed the pairs, split by picture, fit, report, save, maybe activate.

    ``run.loaded`` reuses an already loaded encoder (the retrain scheduler's); otherwise
    ``run.encoder`` (or the settings) chooses one."""
    if fit.head not in HEAD_MODELS:
        raise InvalidRequest(
            f"--head must be one of {', '.join(HEAD_MODELS)}, got {fit.head!r}.",
            code="unknown_head",
        )
    notices: list[str] = []
    index = _load_index(sources.catalog_dir, run.settings, notices)
    model, encoder_notices = run.load_encoder()
    notices.extend(encoder_notices)
    for notice in notices:
        run.say(f"notice: {notice}")
    run.say(f"reading pairs; embedding with {model.name} ({model.model_id})")
    pairs = build_pairs(
        sources,
        encoder=model,
        catalogue=index.catalogue if index is not None else None,
        run=run,
    )
    data = SplitPairs.split(pairs, fit.test_size, run.seed)
    meta = _meta(fit, model, data)
    run.say(
        f"fitting the {fit.head} head on {len(data.train)} pairs "
        f"({int((~data.held_images).sum())} pictures); holding out {len(data.held)} pairs "
        f"({int(data.held_images.sum())} pictures)"
    )
    context = TrainingContext(model=model, settings=run.settings, index=index)
    parent = task_dir(run.settings.heads_dir, model.model_id, FEATURE_TASK)
    with staging(parent) as staged:
        fitted, meta, onnx_check = _fit(fit, data, meta, staged, run.seed)
        report = judge(data, fitted, meta, context)
        report["notices"] = notices
        if onnx_check is not None:
            report["onnx"] = onnx_check
        comparison = active_comparison(parent, data, model)
        report["comparison"] = comparison
        activated = should_activate(report, comparison)
        report["activated"] = activated
        report["verdict"] = verdict_sentence(report, comparison, activated)
        version = new_version(parent)
        report["version"] = version
        meta["version"] = version
        write_meta(staged, meta, report)
        path = publish(staged, version)
    if activated:
        set_active(parent, version, reason="trained: beat its baselines")
    return FeatureTrainResult(report=report, path=path, activated=activated)


def _meta(fit: FeatureFit, model: Encoder, data: SplitPairs) -> dict[str, Any]:
    """The start of ``head.json``: what the head is, for which encoder, over what."""
    until = data.pairs.data_until
    return {
        "kind": FEATURE_TASK,
        "model": fit.head,
        "encoder": {
            "name": model.name,
            "model_id": model.model_id,
            "dim": model.dim,
            "pretrained": model.is_pretrained,
        },
        "features": list(HEAD_FEATURES),
        "emotions": data.emotions,
        "data_until": until.isoformat() if until else None,
    }


def _fit(
    fit: FeatureFit, data: SplitPairs, meta: dict[str, Any], staged: Path, seed: int
) -> tuple[FeatureHead, dict[str, Any], dict[str, Any] | None]:
    """(the fitted head as it will serve, its meta, the ONNX-vs-PyTorch check or None); the
    head's weights are written into ``staged``."""
    if fit.head == "ridge":
        ridge = fit_ridge(data.fit_data(), meta)
        ridge.save(staged)
        return ridge, ridge.meta, None
    fitted = fit_transformer(data.fit_data(), meta, config=fit.transformer, seed=seed)
    meta = {**fitted.meta, "final_train_loss": fitted.losses[-1] if fitted.losses else None}
    fitted.export(staged / ONNX_FILE)
    head = OnnxHead(staged / ONNX_FILE, meta)
    probe = data.x_all[data.held] if len(data.held) else data.x_all[data.train][:8]
    onnx_f, onnx_e = head.predict(probe)
    torch_f, torch_e = fitted.predict_torch(probe)
    return (
        head,
        meta,
        {
            "max_abs_diff_features": float(np.abs(onnx_f - torch_f).max()),
            "max_abs_diff_emotions": float(np.abs(onnx_e - torch_e).max()),
        },
    )
