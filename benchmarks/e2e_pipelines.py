"""The two pipelines the end-to-end benchmark compares, and the one way each is called.

* **tunelens** — :func:`build_pipeline` on settings that point at one benchmark model folder
  and precision (what ``TUNELENS_MODEL_DIR`` and ``TUNELENS_MODEL_PRECISION`` do), answering
  from the file's bytes (:func:`fast_recommend`).
* **naive** — the same readout (zero-shot heads from the same text matrices, the same
  recommender) behind the PyTorch baseline encoder, after a full PIL decode with no draft and
  no size cap (:func:`naive_recommend`).

Every call into :mod:`tunelens.pipeline` the benchmark makes is here.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from benchmarks.e2e_naive import NaiveTorchEncoder
from tunelens.core.settings import Settings
from tunelens.core.types import Recommendation
from tunelens.pipeline import Pipeline, RecommendOptions, build_pipeline
from tunelens.reading.reader import Reader
from tunelens.vision.imaging import LoadedImage

TOP_10 = RecommendOptions(k=10)


def bench_settings(
    work_dir: Path, model_dir: Path, precision: str, *, faces: bool = False
) -> Settings:
    """Settings for a benchmark pipeline. Face expressions (an optional extra) are off unless
    asked for: the naive baseline has no face reader, so the comparison leaves them out and
    their cost is measured separately."""
    extra: dict[str, Any] = {"faces": faces} if "faces" in Settings.model_fields else {}
    return Settings(
        data_dir=work_dir / "data",
        cache_dir=work_dir / "cache",
        model_dir=model_dir,
        model_precision=precision,
        allow_download=False,
        encoder="clip",
        **extra,
    )


def load_fast(settings: Settings, catalog: Path) -> Pipeline:
    """tunelens's pipeline for these settings over the benchmark catalogue."""
    return build_pipeline(settings, encoder="clip", catalog_dir=catalog)


def naive_pipeline(fast: Pipeline, checkpoint: Path) -> Pipeline:
    """``fast``'s readout (same zero-shot heads, same recommender) behind the PyTorch encoder."""
    reader = Reader(fast.encoder, fast.reader.heads, fast.info)
    naive = Pipeline(
        settings=fast.settings,
        encoder=fast.encoder,
        reader=reader,
        index=fast.index,
        recommender=fast.recommender,
        info=fast.info,
    )
    naive.encoder = NaiveTorchEncoder(checkpoint, fast.encoder.model_id)
    return naive


def fast_recommend(pipeline: Pipeline, data: bytes | Path) -> Recommendation:
    """Top-10 for one photo the way a server answers it: validation, draft decode, the rest."""
    return pipeline.recommend_file(data, TOP_10)


def naive_recommend(pipeline: Pipeline, data: bytes) -> Recommendation:
    """Full decode (no draft, no size cap), then the pipeline's readout with the torch model."""
    with Image.open(io.BytesIO(data)) as img:
        pixels = np.asarray(img.convert("RGB"))
    return pipeline.recommend([LoadedImage.from_array(pixels)], TOP_10)[0]


def recommend_decoded(pipeline: Pipeline, image: LoadedImage) -> Recommendation:
    """Top-10 for an already decoded picture (to compare encoders on identical pixels)."""
    return pipeline.recommend([image], TOP_10)[0]
