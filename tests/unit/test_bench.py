"""Benchmark plumbing that needs no model: the baseline's preprocessing is a fair one, and the
docs table is regenerated in place. (No timings are asserted anywhere in the suite.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from benchmarks.e2e import DOC_END, DOC_START, markdown, processor_like, update_docs

from tests.conftest import PHOTOS_DIR, require_shared
from tunelens.vision.imaging import LoadedImage, to_model_input


def test_naive_preprocessing_matches_the_fused_path() -> None:
    """Both pipelines feed the model (nearly) the same pixels, so the comparison is fair."""
    from PIL import Image

    with Image.open(require_shared(PHOTOS_DIR / "forest_path_01.jpg")) as img:
        pixels = np.asarray(img.convert("RGB"))
    naive = processor_like(pixels)
    fused = to_model_input([LoadedImage.from_array(pixels)])
    assert naive.shape == fused.shape == (1, 3, 224, 224)
    assert float(np.abs(naive - fused).mean()) < 0.05


def fake_results() -> dict[str, Any]:
    per = {"p50": 100.0, "p95": 120.0}
    fast = {"p50": 40.0, "p95": 45.0}
    process = {"cold_start_s": 1.5, "peak_rss_mb": 400.0}
    return {
        "machine": {
            "date": "2026-01-01T00:00:00+00:00",
            "cpu_model": "Test CPU",
            "cpus": 2,
            "memory_gb": 24.0,
            "load_average_at_start": [0.5, 0.4, 0.3],
            "python": "3.11",
            "onnxruntime": "1",
            "faiss": "1",
        },
        "load_average_at_end": [0.6, 0.5, 0.4],
        "photos_per_size": 4,
        "passes": 1,
        "catalogue_tracks": 1000,
        "latency_ms": {"1080p": {"naive": per, "fp32": fast, "int8": fast}},
        "throughput_1080p": {"fp32": {"per_s": 20.0}, "int8": {"per_s": 22.0}},
        "process": {"naive": process, "fp32": process, "int8": process},
        "int8_vs_fp32": {"cosine_mean": 0.999, "cosine_min": 0.998, "top10_overlap_mean": 0.9},
        "fast_path_stages_ms": {"1080p": {"decode": 5.0, "read": 30.0, "rank": 2.0}},
    }


def test_docs_table_is_replaced_between_markers(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Performance\n\nintro\n\n{DOC_START}\nstale table\n{DOC_END}\n\nafter\n")
    results = fake_results()
    update_docs(doc, results)
    update_docs(doc, results)
    text = doc.read_text()
    assert text.startswith("# Performance\n\nintro\n") and text.endswith("\nafter\n")
    assert text.count(DOC_START) == 1 and "stale table" not in text
    assert "Test CPU" in text and "1-min load average 0.5" in text and "2.50×" in text
    assert markdown(results) in text
