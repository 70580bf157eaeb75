"""The benchmark's docs table is regenerated in place, between its markers, from the results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.e2e_report import DOC_END, DOC_START, markdown, summary_rows, update_docs


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


def test_summary_rows_put_the_ratio_on_the_p50_row_only() -> None:
    rows = summary_rows(fake_results())
    assert rows[0] == ("1080p per photo p50 (ms)", "100.0", "40.0", "40.0", "2.50×")
    assert rows[1][0] == "1080p per photo p95 (ms)" and rows[1][4] == ""
    assert [r[0] for r in rows[2:]] == [
        "1080p batch throughput (img/s)",
        "cold start: process → first answer (s)",
        "peak RSS after 21 answers (MB)",
    ]
