"""What the end-to-end benchmark measures in this process: latency per pipeline and size, the
fast path's stages, batch throughput, server-like concurrent load, int8 vs fp32 agreement and
the cost of face expressions. (Cold start and memory need fresh processes:
:mod:`benchmarks.e2e_cold`.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.e2e_pipelines import fast_recommend, naive_recommend, recommend_decoded
from benchmarks.util import summarise_ms
from tunelens.batch.sources import LocalFolder
from tunelens.batch.worker import chunks, process_batch, process_batches
from tunelens.pipeline import Pipeline
from tunelens.vision.imaging import load_image
from tunelens.vision.microbatch import MicroBatchingEncoder

Progress = Callable[[str], None]
#: seconds between pipelines' blocks, so the previous one's idle threads go to sleep
SETTLE_S = 0.3


def _call(name: str, pipeline: Pipeline) -> Callable[[bytes], Any]:
    if name == "naive":
        return lambda blob: naive_recommend(pipeline, blob)
    return lambda blob: fast_recommend(pipeline, blob)


def latency(
    pipelines: dict[str, Pipeline], photos: dict[str, list[Path]], passes: int, progress: Progress
) -> dict[str, Any]:
    """p50/p95 per pipeline and size.

    Pipelines take turns pass by pass, so a burst of load from another process on this small
    machine hits every pipeline alike instead of skewing the ratio. Not photo by photo: after
    a PyTorch call its OpenMP threads keep spinning for a while and would slow the next ONNX
    Runtime call (measured: ≈ 2×), so each block starts with an untimed call after a pause.
    """
    calls = {name: _call(name, pipeline) for name, pipeline in pipelines.items()}
    out: dict[str, Any] = {}
    for label, paths in photos.items():
        blobs = [p.read_bytes() for p in paths]
        times: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(passes):
            for name, call in calls.items():
                time.sleep(SETTLE_S)
                call(blobs[0])  # untimed: warm-up, first-call allocations, lazy imports
                for blob in blobs:
                    t = time.perf_counter()
                    call(blob)
                    times[name].append((time.perf_counter() - t) * 1000)
        per: dict[str, Any] = {name: summarise_ms(values) for name, values in times.items()}
        for name in calls:
            progress(f"{label} {name}: p50 {per[name]['p50']} ms")
            if name != "naive" and "naive" in per:
                per[f"ratio_naive_over_{name}"] = round(per["naive"]["p50"] / per[name]["p50"], 2)
        out[label] = per
    return out


def stage_breakdown(pipeline: Pipeline, paths: Sequence[Path]) -> dict[str, float]:
    """Median ms per stage of the fast path as the pipeline reports it (decode / read / rank)."""
    stages: dict[str, list[float]] = {}
    for path in paths:
        rec = fast_recommend(pipeline, path.read_bytes())
        for key, value in rec.timings_ms.items():
            stages.setdefault(key, []).append(float(value))
    return {key: round(float(np.median(v)), 2) for key, v in stages.items()}


def faces_cost(pipeline: Pipeline, paths: Sequence[Path], passes: int) -> dict[str, Any] | None:
    """p50 of the int8 fast path with face expressions on, when the faces extra works."""
    if pipeline.faces is None:
        return None
    blobs = [p.read_bytes() for p in paths]
    fast_recommend(pipeline, blobs[0])
    times, faces = [], []
    for _ in range(max(1, passes)):
        for blob in blobs:
            t = time.perf_counter()
            rec = fast_recommend(pipeline, blob)
            times.append((time.perf_counter() - t) * 1000)
            faces.append(float(rec.timings_ms.get("faces", 0.0)))
    return {"int8_with_faces": summarise_ms(times), "faces_stage_p50_ms": float(np.median(faces))}


def throughput(
    pipeline: Pipeline, paths: Sequence[Path], n: int, batch: int = 16
) -> dict[str, Any]:
    """Images/s of the batch pipeline (what ``tunelens batch`` runs in one process): decode
    each file (the next batch in a thread while this one is answered), readings + top-10 with
    encoder batches of ``batch``."""
    root = LocalFolder(paths[0].parent)
    names = [paths[i % len(paths)].name for i in range(n)]
    process_batch(pipeline, root, names[:1], 10)
    t = time.perf_counter()
    for _ in process_batches(pipeline, root, chunks(names, batch), 10):
        pass
    seconds = time.perf_counter() - t
    return {
        "images": n,
        "batch": batch,
        "seconds": round(seconds, 2),
        "per_s": round(n / seconds, 1),
    }


def concurrent_load(
    pipeline: Pipeline, paths: Sequence[Path], *, clients: int, requests: int
) -> dict[str, Any]:
    """Server-like load: ``clients`` threads send photos back to back through the pipeline
    (what the API's worker threads run), once with every thread calling the encoder itself and
    once through the server's micro-batching encoder; the two modes take turns in two rounds
    each so outside load hits both alike."""
    blobs = [p.read_bytes() for p in paths]
    plain = pipeline.encoder
    batching = MicroBatchingEncoder(plain, max_batch=8)
    out: dict[str, Any] = {"clients": clients, "requests_per_round": requests, "rounds": 2}
    gathered: dict[str, tuple[float, list[float]]] = {"plain": (0.0, []), "micro_batch": (0.0, [])}
    try:
        fast_recommend(pipeline, blobs[0])
        for _ in range(2):
            for mode, encoder in (("plain", plain), ("micro_batch", batching)):
                pipeline.encoder = encoder
                seconds, times = _one_round(pipeline, blobs, clients, requests)
                total, all_times = gathered[mode]
                gathered[mode] = (total + seconds, all_times + times)
    finally:
        pipeline.encoder = plain
    for mode, (seconds, times) in gathered.items():
        out[mode] = {"per_s": round(len(times) / seconds, 2), **summarise_ms(times)}
    out["micro_batch"]["mean_batch"] = round(batching.counters.mean_batch, 2)
    out["ratio_throughput"] = round(out["micro_batch"]["per_s"] / out["plain"]["per_s"], 2)
    return out


def _one_round(
    pipeline: Pipeline, blobs: Sequence[bytes], clients: int, requests: int
) -> tuple[float, list[float]]:
    """``requests`` answers shared by ``clients`` threads: wall seconds and each answer's ms."""
    times: list[float] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def client() -> None:
        for i in counter:
            t = time.perf_counter()
            fast_recommend(pipeline, blobs[i % len(blobs)])
            with lock:
                times.append((time.perf_counter() - t) * 1000)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - t0, times


def int8_agreement(fp32: Pipeline, int8: Pipeline, paths: Sequence[Path]) -> dict[str, float]:
    """Cosine between fp32 and int8 image embeddings, and top-10 overlap of the answers."""
    images = [load_image(p, settings=fp32.settings) for p in paths]
    a = fp32.encoder.embed_images(images)
    b = int8.encoder.embed_images(images)
    cosine = (a * b).sum(axis=1)
    overlaps = []
    for image in images:
        ids_a = {t.track.id for t in recommend_decoded(fp32, image).tracks}
        ids_b = {t.track.id for t in recommend_decoded(int8, image).tracks}
        overlaps.append(len(ids_a & ids_b) / max(1, len(ids_a)))
    return {
        "cosine_mean": round(float(cosine.mean()), 4),
        "cosine_min": round(float(cosine.min()), 4),
        "top10_overlap_mean": round(float(np.mean(overlaps)), 3),
    }
