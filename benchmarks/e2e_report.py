"""The end-to-end benchmark's results as table rows and as the Markdown block it keeps up to
date in ``docs/performance.md`` (between :data:`DOC_START` and :data:`DOC_END`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DOC_START = "<!-- bench:e2e:start -->"
DOC_END = "<!-- bench:e2e:end -->"
COLUMNS = ("metric", "naive (PyTorch fp32)", "tunelens fp32", "tunelens int8", "ratio")

Row = tuple[str, str, str, str, str]


def summary_rows(results: dict[str, Any]) -> list[Row]:
    """(metric, naive, tunelens fp32, tunelens int8, ratio) rows for tables."""
    rows: list[Row] = []
    for label, per in results["latency_ms"].items():
        for stat in ("p50", "p95"):
            rows.append(
                (
                    f"{label} per photo {stat} (ms)",
                    f"{per['naive'][stat]:.1f}",
                    f"{per['fp32'][stat]:.1f}",
                    f"{per['int8'][stat]:.1f}",
                    f"{per['naive'][stat] / per['int8'][stat]:.2f}×" if stat == "p50" else "",
                )
            )
    tp = results["throughput_1080p"]
    rows.append(
        (
            "1080p batch throughput (img/s)",
            "–",
            f"{tp['fp32']['per_s']}",
            f"{tp['int8']['per_s']}",
            "",
        )
    )
    proc = results["process"]
    rows.append(
        (
            "cold start: process → first answer (s)",
            f"{proc['naive']['cold_start_s']}",
            f"{proc['fp32']['cold_start_s']}",
            f"{proc['int8']['cold_start_s']}",
            "",
        )
    )
    rows.append(
        (
            "peak RSS after 21 answers (MB)",
            f"{proc['naive']['peak_rss_mb']:.0f}",
            f"{proc['fp32']['peak_rss_mb']:.0f}",
            f"{proc['int8']['peak_rss_mb']:.0f}",
            "",
        )
    )
    return rows


def markdown(results: dict[str, Any]) -> str:
    """The machine, the table, and a few sentences on agreement, stages, load and faces."""
    m = results["machine"]
    agree = results["int8_vs_fp32"]
    lines = [
        f"Measured {m['date']} on {m['cpu_model']}, {m['cpus']} CPUs, {m['memory_gb']} GB; "
        f"1-min load average {m['load_average_at_start'][0]} at start "
        f"({m.get('load_average_before_wait', '?')} before waiting for quiet), "
        f"{results['load_average_at_end'][0]} at end. Python {m['python']}, "
        f"ONNX Runtime {m['onnxruntime']}, FAISS {m['faiss']}. "
        f"{results['photos_per_size']} photos per size × {results['passes']} passes; catalogue "
        f"{results['catalogue_tracks']:,} tracks; random-weight ViT-B/32 (speed only).",
        "",
        "| metric | naive (PyTorch fp32) | tunelens fp32 | tunelens int8 | naive ÷ int8 |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in summary_rows(results):
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        f"int8 vs fp32 image embeddings: cosine mean {agree['cosine_mean']}, min "
        f"{agree['cosine_min']}; top-10 overlap {agree['top10_overlap_mean']:.0%}.",
        "Fast-path stages (int8, median ms): "
        + "; ".join(
            f"{label}: " + ", ".join(f"{k} {v}" for k, v in stages.items())
            for label, stages in results["fast_path_stages_ms"].items()
        )
        + ".",
    ]
    lines += _optional_sentences(results)
    return "\n".join(lines)


def _optional_sentences(results: dict[str, Any]) -> list[str]:
    """Server-like load and face expressions, when the run measured them."""
    lines = []
    load = results.get("concurrent_1080p")
    if load:
        lines.append(
            f"Server-like load ({load['clients']} client threads, int8, 1080p): "
            f"{load['plain']['per_s']} photos/s, p50 {load['plain']['p50']} ms without "
            f"micro-batching; {load['micro_batch']['per_s']} photos/s, p50 "
            f"{load['micro_batch']['p50']} ms with it (mean batch "
            f"{load['micro_batch']['mean_batch']}; {load['ratio_throughput']}× throughput)."
        )
    faces = results.get("faces_1080p")
    if faces:
        lines.append(
            f"With face expressions on (the optional `faces` extra, not part of the comparison): "
            f"1080p int8 p50 {faces['int8_with_faces']['p50']} ms, of which the face stage "
            f"{faces['faces_stage_p50_ms']:.1f} ms."
        )
    return lines


def update_docs(path: Path, results: dict[str, Any]) -> None:
    """Replace the generated block between the markers in ``docs/performance.md``."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    block = f"{DOC_START}\n{markdown(results)}\n{DOC_END}"
    if DOC_START in text and DOC_END in text:
        head, rest = text.split(DOC_START, 1)
        tail = rest.split(DOC_END, 1)[1]
        text = head + block + tail
    else:
        text = text + ("\n" if text else "") + block + "\n"
    path.write_text(text, encoding="utf-8")
