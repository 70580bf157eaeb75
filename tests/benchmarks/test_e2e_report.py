"""The benchmark's tables are computed from the results (ratios, targets, published accuracy)
and regenerated in place, between their markers, in both docs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.e2e_report import (
    DOC_END,
    DOC_START,
    MODELS_END,
    MODELS_START,
    choice_rows,
    encoder_rows,
    markdown,
    models_markdown,
    summary_rows,
    update_docs,
    vs_int8_batch,
    vs_naive,
)


def _contender(model: str, precision: str, vision_file: str, **facts: Any) -> dict[str, Any]:
    return {"model": model, "precision": precision, "vision_file": vision_file, **facts}


def fake_results() -> dict[str, Any]:
    """A run of three contenders: the ViT-B/32 pair and one MobileCLIP."""
    latency = {
        "naive": {"p50": 200.0, "p95": 220.0},
        "clip-vit-base-patch32 fp32": {"p50": 80.0, "p95": 85.0},
        "clip-vit-base-patch32 int8": {"p50": 50.0, "p95": 55.0},
        "mobileclip-s1 fp32": {"p50": 40.0, "p95": 45.0},
    }
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
        "reference_int8": "clip-vit-base-patch32 int8",
        "contenders": {
            "clip-vit-base-patch32 fp32": _contender(
                "clip-vit-base-patch32",
                "fp32",
                "onnx/vision_model.onnx",
                image_params_m=87.8,
                image_gmacs=4.36,
                image_size=224,
            ),
            "clip-vit-base-patch32 int8": _contender(
                "clip-vit-base-patch32", "int8", "onnx/vision_model_quantized.onnx"
            ),
            "mobileclip-s1 fp32": _contender(
                "mobileclip-s1",
                "fp32",
                "onnx/vision_model.onnx",
                image_params_m=21.5,
                image_gmacs=4.64,
                image_size=256,
            ),
        },
        "latency_ms": {"1080p": latency, "12mp": latency},
        "throughput_1080p": {
            "clip-vit-base-patch32 fp32": {"per_s": 10.0},
            "clip-vit-base-patch32 int8": {"per_s": 20.0},
            "mobileclip-s1 fp32": {"per_s": 45.0},
        },
        "process": {"naive": process, "clip-vit-base-patch32 fp32": process},
        "encoder_alone": {
            "mobileclip-s1 vision_model_int8.onnx": {
                "mb": 22.2,
                "batch1_ms": 900.0,
                "batch16_ms_per_image": 850.0,
            }
        },
        "int8_vs_fp32": {
            "clip-vit-base-patch32 int8": {
                "cosine_mean": 0.999,
                "cosine_min": 0.998,
                "top10_overlap_mean": 0.9,
            }
        },
        "stages_ms": {"mobileclip-s1 fp32": {"1080p": {"decode": 5.0, "read": 30.0}}},
    }


def test_ratios_are_against_the_naive_pipeline_and_the_int8_reference() -> None:
    results = fake_results()
    assert vs_naive(results, "1080p", "mobileclip-s1 fp32") == 5.0
    assert vs_naive(results, "1080p", "clip-vit-base-patch32 int8") == 4.0
    assert vs_int8_batch(results, "mobileclip-s1 fp32") == 2.25
    assert vs_int8_batch(results, "clip-vit-base-patch32 int8") == 1.0
    assert vs_naive(results, "1080p", "missing") is None


def test_summary_rows_start_with_the_naive_pipeline() -> None:
    rows = summary_rows(fake_results())
    assert [r[0] for r in rows] == [
        "naive PyTorch ViT-B/32 fp32",
        "clip-vit-base-patch32 fp32 (`vision_model.onnx`)",
        "clip-vit-base-patch32 int8 (`vision_model_quantized.onnx`)",
        "mobileclip-s1 fp32 (`vision_model.onnx`)",
    ]
    naive, vit, _int8, s1 = rows
    # the naive pipeline runs the ViT-B/32 checkpoint, so it shows that tower
    assert naive[1] == vit[1] == "87.8M, 4.36 GMACs, 224²"
    assert naive[4] == "1.00×" and naive[6] == "–" and naive[8] == "1.5"
    assert s1[1:8] == ("21.5M, 4.64 GMACs, 256²", "40.0", "40.0", "5.00×", "5.00×", "45.0", "2.25×")
    assert s1[8:] == ("–", "–")  # no cold start measured for it


def test_choice_rows_carry_published_accuracy_and_the_targets() -> None:
    rows = {r[0]: r for r in choice_rows(fake_results())}
    assert rows["mobileclip-s1 fp32"] == (
        "mobileclip-s1 fp32",
        "72.6",
        "40.0",
        "5.00×",
        "45.0",
        "2.25×",
        "yes / yes",
    )
    assert rows["clip-vit-base-patch32 int8"][1] == "63.2"
    assert rows["clip-vit-base-patch32 int8"][-1] == "no / no"


def test_no_verdict_against_a_naive_pipeline_slowed_by_load() -> None:
    """A naive p50 far above its own fastest call means other processes slowed it, so the
    "× naive" target is neither met nor missed on that run."""
    results = fake_results()
    results["latency_ms"]["1080p"]["naive"].update(p50=1060.0, min=140.0)
    verdict = {r[0]: r for r in choice_rows(results)}["mobileclip-s1 fp32"][-1]
    assert verdict == "naive slowed / yes"
    assert "p50 was 7.6× its own fastest call" in models_markdown(results)
    results["latency_ms"]["1080p"]["naive"].update(p50=200.0, min=180.0)
    assert {r[0]: r for r in choice_rows(results)}["mobileclip-s1 fp32"][-1] == "yes / yes"
    assert "naive slowed" not in models_markdown(results)


def test_encoder_rows_show_each_graph() -> None:
    assert encoder_rows(fake_results()) == [
        ("`mobileclip-s1 vision_model_int8.onnx`", "22.2", "900.0", "850.0")
    ]


def test_both_docs_tables_are_replaced_between_markers(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Performance\n\nintro\n\n{DOC_START}\nstale table\n{DOC_END}\n\nafter\n")
    models = tmp_path / "models.md"
    models.write_text(f"# Models\n\n{MODELS_START}\nold\n{MODELS_END}\n\nreasons\n")
    results = fake_results()
    update_docs(doc, results)
    update_docs(doc, results)
    text = doc.read_text()
    assert text.startswith("# Performance\n\nintro\n") and text.endswith("\nafter\n")
    assert text.count(DOC_START) == 1 and "stale table" not in text
    assert "Test CPU" in text and "1-min load average 0.5" in text and "Random weights" in text
    assert markdown(results) in text
    models_text = models.read_text()
    assert models_text.count(MODELS_START) == 1 and "\nold\n" not in models_text
    assert models_markdown(results) in models_text and models_text.endswith("\nreasons\n")


def test_models_doc_without_markers_is_left_alone(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    models = tmp_path / "models.md"
    models.write_text("# Models\n\nwritten by hand\n")
    update_docs(doc, fake_results())
    assert models.read_text() == "# Models\n\nwritten by hand\n"
    assert DOC_START in doc.read_text()
