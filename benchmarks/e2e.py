"""``tunelens bench``: end-to-end speed of one photo → reading → top-10, against a naive baseline.

Both pipelines run in the same process, on the same photos, the same catalogue and the same
full-size *random* CLIP ViT-B/32 (:mod:`benchmarks.model`; same architecture and cost as
the real model, meaningless readings):

* **tunelens** — :meth:`Engine.recommend` on the file's bytes: validation, JPEG draft decode,
  one fused resize/crop/normalise, ONNX Runtime (fp32 and dynamic int8), zero-shot heads from
  cached text matrices, FAISS + re-rank.
* **naive** — what a straightforward PyTorch + transformers script does: full PIL decode (no
  draft), ``CLIPImageProcessor``'s steps (resize the short side to 224 bicubic, centre crop,
  rescale, normalise) in numpy, ``CLIPModel.get_image_features`` in PyTorch fp32, one image
  per call; then the *same* readout (colour statistics, heads, mapping, recommender).

Also measured: batch throughput (decode + encoder batches of 16), int8 vs fp32 embedding
cosine, and — in fresh subprocesses — cold start (process start → first answer, model load
included) and peak RSS after 20 answers. Results go to ``<results>/<name>.json``; a full run
also rewrites the table in ``docs/performance.md``. Needs the ``torch`` extra (to build and
export the model once, and for the baseline); the model is cached in the work directory.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from benchmarks.util import (
    load_average,
    machine_info,
    peak_rss_mb,
    summarise_ms,
    wait_for_quiet,
    write_json,
)

SIZES: dict[str, tuple[int, int]] = {"1080p": (1920, 1080), "12mp": (4000, 3000)}
DOC_START = "<!-- bench:e2e:start -->"
DOC_END = "<!-- bench:e2e:end -->"
Progress = Callable[[str], None]


@dataclass
class BenchConfig:
    work_dir: Path
    photos_dir: Path
    csv: Path
    results_dir: Path
    docs: Path | None
    name: str
    quick: bool = False
    photos: int = 12
    passes: int = 3
    batch_images: int = 64
    cold_runs: int = 3

    @classmethod
    def default(cls, *, quick: bool, root: Path | None = None) -> BenchConfig:
        root = root or Path.cwd()
        shared = root.parent / "shared" / "data"
        has_repo = (root / "benchmarks").is_dir()
        work = root / "benchmarks" / ".work" if has_repo else _cache_dir() / "bench"
        return cls(
            work_dir=work,
            photos_dir=shared / "photos",
            csv=shared / "spotify_songs" / "spotify_songs.csv",
            results_dir=root / "benchmarks" / "results" if has_repo else work / "results",
            docs=root / "docs" / "performance.md" if (root / "docs").is_dir() else None,
            name="quick" if quick else "full",
            quick=quick,
            photos=4 if quick else 12,
            passes=1 if quick else 3,
            batch_images=16 if quick else 64,
            cold_runs=1 if quick else 3,
        )


def _cache_dir() -> Path:
    from tunelens.core.settings import get_settings

    return get_settings().cache_dir


# --------------------------------------------------------------------------- inputs


def make_photos(config: BenchConfig, progress: Progress) -> dict[str, list[Path]]:
    """1080p and 12 MP JPEGs resized (and centre-cropped) from the shared photos, cached."""
    from PIL import Image

    sources = sorted(p for p in config.photos_dir.glob("*.jpg"))[: config.photos]
    if not sources:
        from tunelens.core.errors import InvalidRequest

        raise InvalidRequest(f"no JPEG photos in {config.photos_dir} to benchmark with")
    out: dict[str, list[Path]] = {}
    for label, (width, height) in SIZES.items():
        folder = config.work_dir / "photos" / label
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for src in sources:
            target = folder / f"{src.stem}.jpg"
            if not target.is_file():
                with Image.open(src) as img:
                    rgb = img.convert("RGB")
                    scale = max(width / rgb.width, height / rgb.height)
                    size = (round(rgb.width * scale), round(rgb.height * scale))
                    resized = rgb.resize(size, Image.Resampling.LANCZOS)
                    left, top = (size[0] - width) // 2, (size[1] - height) // 2
                    resized.crop((left, top, left + width, top + height)).save(
                        target, "JPEG", quality=90
                    )
            paths.append(target)
        out[label] = paths
        progress(f"{len(paths)} {label} photos in {folder}")
    return out


def ensure_catalogue(config: BenchConfig, progress: Progress) -> Path:
    from tunelens.catalogue.build import build_catalog

    out = config.work_dir / "catalog"
    if not (out / "meta.json").is_file():
        progress(f"building the benchmark catalogue from {config.csv}")
        build_catalog(config.csv, out)
    return out


def bench_settings(
    config: BenchConfig, model_dir: Path, variant: str, *, faces: bool = False
) -> Any:
    """Settings for a benchmark engine. Face expressions (an optional extra) are off unless
    asked for: the naive baseline has no face reader, so the comparison leaves them out and
    their cost is measured separately."""
    from tunelens.core.settings import Settings

    extra: dict[str, Any] = {"faces": faces} if "faces" in Settings.model_fields else {}
    return Settings(
        data_dir=config.work_dir / "data",
        cache_dir=config.work_dir / "cache",
        model_dir=model_dir,
        model_variant=variant,
        allow_download=False,
        encoder="clip",
        **extra,
    )


def faces_cost(
    config: BenchConfig, model_dir: Path, catalog: Path, paths: Sequence[Path]
) -> dict[str, Any] | None:
    """p50 of the int8 fast path with face expressions on, when the faces extra works."""
    from tunelens.pipeline import Engine

    engine = Engine.load(
        bench_settings(config, model_dir, "int8", faces=True), encoder="clip", catalog_dir=catalog
    )
    if getattr(engine, "faces", None) is None:
        return None
    blobs = [p.read_bytes() for p in paths]
    call = _fast_call(engine)
    call(blobs[0])
    times, faces = [], []
    for _ in range(max(1, config.passes)):
        for blob in blobs:
            t = time.perf_counter()
            rec = call(blob)
            times.append((time.perf_counter() - t) * 1000)
            faces.append(float(rec.timings_ms.get("faces", 0.0)))
    return {"int8_with_faces": summarise_ms(times), "faces_stage_p50_ms": float(np.median(faces))}


# --------------------------------------------------------------------------- naive baseline


def processor_like(pixels: NDArray[np.uint8], size: int = 224) -> NDArray[np.float32]:
    """``CLIPImageProcessor``'s steps as a plain script writes them: PIL bicubic resize of the
    short side, centre crop, rescale, normalise; ``(1, 3, size, size)`` float32."""
    from PIL import Image

    from tunelens.vision.imaging import CLIP_MEAN, CLIP_STD

    img = Image.fromarray(pixels)
    w, h = img.size
    scale = size / min(w, h)
    img = img.resize(
        (max(size, round(w * scale)), max(size, round(h * scale))), Image.Resampling.BICUBIC
    )
    left, top = (img.width - size) // 2, (img.height - size) // 2
    img = img.crop((left, top, left + size, top + size))
    arr = np.asarray(img, dtype=np.float32) / np.float32(255.0)
    mean = np.asarray(CLIP_MEAN, dtype=np.float32)
    std = np.asarray(CLIP_STD, dtype=np.float32)
    chw: NDArray[np.float32] = ((arr - mean) / std).transpose(2, 0, 1)[None]
    return np.ascontiguousarray(chw, dtype=np.float32)


class NaiveTorchEncoder:
    """CLIPImageProcessor's steps in numpy + transformers CLIPModel fp32, one image per call."""

    supports_text = False
    is_pretrained = False

    def __init__(self, checkpoint: Path, model_id: str) -> None:
        import torch
        from transformers import CLIPModel

        self._torch = torch
        model: Any = CLIPModel.from_pretrained(checkpoint)
        self.model = model.eval()
        self.dim = int(self.model.config.projection_dim)
        self.size = int(self.model.config.vision_config.image_size)
        self.name = "naive-torch"
        self.model_id = model_id

    def preprocess(self, pixels: NDArray[np.uint8]) -> NDArray[np.float32]:
        return processor_like(pixels, self.size)

    def embed_images(self, images: Sequence[Any]) -> NDArray[np.float32]:
        from tunelens.vision.base import l2_normalise
        from tunelens.vision.torch_clip import _projected

        rows = []
        with self._torch.inference_mode():
            for image in images:  # one image per call, as a simple script does
                pixels = self._torch.from_numpy(self.preprocess(image.pixels))
                rows.append(_projected(self.model.get_image_features(pixel_values=pixels)))
        return l2_normalise(np.concatenate([r.float().numpy() for r in rows]))

    def embed_texts(self, texts: Sequence[str]) -> NDArray[np.float32]:
        raise NotImplementedError


def naive_recommend(engine: Any, data: bytes) -> Any:
    """Full decode (no draft, no size cap), then the engine's readout with the torch model."""
    from PIL import Image

    from tunelens.vision.imaging import LoadedImage

    with Image.open(io.BytesIO(data)) as img:
        pixels = np.asarray(img.convert("RGB"))
    return engine.recommend_images([LoadedImage.from_array(pixels)], k=10)[0]


def naive_engine(fast: Any, checkpoint: Path) -> Any:
    from tunelens.pipeline import Engine
    from tunelens.reading.reader import Reader

    encoder = NaiveTorchEncoder(checkpoint, fast.encoder.model_id)
    # Same zero-shot heads (text matrices of the same weights) and the same recommender.
    reader = Reader(fast.encoder, fast.reader.heads, fast.info)
    engine = Engine(
        settings=fast.settings,
        encoder=fast.encoder,
        reader=reader,
        index=fast.index,
        recommender=fast.recommender,
        info=fast.info,
    )
    engine.encoder = encoder
    return engine


# --------------------------------------------------------------------------- measurements


def _naive_call(engine: Any) -> Callable[[bytes], Any]:
    return lambda blob: naive_recommend(engine, blob)


def _fast_call(engine: Any) -> Callable[[bytes], Any]:
    return lambda blob: engine.recommend(blob, k=10)


def latency(
    engines: dict[str, Any], photos: dict[str, list[Path]], passes: int, progress: Progress
) -> dict[str, Any]:
    """p50/p95 per pipeline and size.

    Pipelines take turns pass by pass, so a burst of load from another process on this small
    machine hits every pipeline alike instead of skewing the ratio. Not photo by photo: after
    a PyTorch call its OpenMP threads keep spinning for a while and would slow the next ONNX
    Runtime call (measured: ≈ 2×), so each block starts with an untimed call after a pause.
    """
    calls = {
        name: _naive_call(engine) if name == "naive" else _fast_call(engine)
        for name, engine in engines.items()
    }
    out: dict[str, Any] = {}
    for label, paths in photos.items():
        blobs = [p.read_bytes() for p in paths]
        times: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(passes):
            for name, call in calls.items():
                time.sleep(0.3)  # let the previous pipeline's idle threads go to sleep
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


def stage_breakdown(engine: Any, paths: Sequence[Path]) -> dict[str, float]:
    """Median ms per stage of the fast path as the engine reports it (decode / read / rank)."""
    stages: dict[str, list[float]] = {}
    for path in paths:
        rec = engine.recommend(path.read_bytes(), k=10)
        for key, value in rec.timings_ms.items():
            stages.setdefault(key, []).append(float(value))
    return {key: round(float(np.median(v)), 2) for key, v in stages.items()}


def throughput(engine: Any, paths: Sequence[Path], n: int, batch: int = 16) -> dict[str, Any]:
    """Images/s of the batch pipeline (``tunelens batch``'s per-batch function, one process):
    decode each file, readings + top-10 with encoder batches of ``batch``."""
    from tunelens.batch.job import process_batch
    from tunelens.batch.sources import LocalFolder

    root = LocalFolder(paths[0].parent)
    names = [paths[i % len(paths)].name for i in range(n)]
    process_batch(engine, root, names[:1], 10)
    t = time.perf_counter()
    for start in range(0, n, batch):
        process_batch(engine, root, names[start : start + batch], 10)
    seconds = time.perf_counter() - t
    return {
        "images": n,
        "batch": batch,
        "seconds": round(seconds, 2),
        "per_s": round(n / seconds, 1),
    }


def concurrent_load(
    engine: Any, paths: Sequence[Path], *, clients: int, requests: int
) -> dict[str, Any]:
    """Server-like load: ``clients`` threads send photos back to back through
    ``Engine.recommend`` (what the API's worker threads run), once with every thread calling
    the encoder itself and once through the server's micro-batching encoder; the two modes
    take turns in two rounds each so outside load hits both alike."""
    import threading

    from tunelens.vision.microbatch import MicroBatchingEncoder

    blobs = [p.read_bytes() for p in paths]
    plain = engine.encoder
    batching = MicroBatchingEncoder(plain, max_batch=8)

    def one_round(encoder: Any) -> tuple[float, list[float]]:
        engine.encoder = encoder
        times: list[float] = []
        lock = threading.Lock()
        counter = iter(range(requests))

        def client() -> None:
            for i in counter:
                t = time.perf_counter()
                engine.recommend(blobs[i % len(blobs)], k=10)
                with lock:
                    times.append((time.perf_counter() - t) * 1000)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        t0 = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - t0, times

    out: dict[str, Any] = {"clients": clients, "requests_per_round": requests, "rounds": 2}
    gathered: dict[str, tuple[float, list[float]]] = {"plain": (0.0, []), "micro_batch": (0.0, [])}
    try:
        engine.recommend(blobs[0], k=10)
        for _ in range(2):
            for mode, encoder in (("plain", plain), ("micro_batch", batching)):
                seconds, times = one_round(encoder)
                total, all_times = gathered[mode]
                gathered[mode] = (total + seconds, all_times + times)
    finally:
        engine.encoder = plain
    for mode, (seconds, times) in gathered.items():
        out[mode] = {"per_s": round(len(times) / seconds, 2), **summarise_ms(times)}
    out["micro_batch"]["mean_batch"] = round(batching.counters.mean_batch, 2)
    out["ratio_throughput"] = round(out["micro_batch"]["per_s"] / out["plain"]["per_s"], 2)
    return out


def int8_agreement(fp32: Any, int8: Any, paths: Sequence[Path]) -> dict[str, float]:
    """Cosine between fp32 and int8 image embeddings, and top-10 overlap of the answers."""
    from tunelens.vision.imaging import load_image

    images = [load_image(p, settings=fp32.settings) for p in paths]
    a = fp32.encoder.embed_images(images)
    b = int8.encoder.embed_images(images)
    cosine = (a * b).sum(axis=1)
    overlaps = []
    for image in images:
        ra = fp32.recommend_images([image], k=10)[0]
        rb = int8.recommend_images([image], k=10)[0]
        ids_a = {t.track.id for t in ra.tracks}
        ids_b = {t.track.id for t in rb.tracks}
        overlaps.append(len(ids_a & ids_b) / max(1, len(ids_a)))
    return {
        "cosine_mean": round(float(cosine.mean()), 4),
        "cosine_min": round(float(cosine.min()), 4),
        "top10_overlap_mean": round(float(np.mean(overlaps)), 3),
    }


# --------------------------------------------------------------------------- cold start


def cold_start_child() -> None:
    """Child process: load, answer once (timestamped), answer 20 more, report peak RSS."""
    args = json.loads(sys.argv[1])
    t0 = time.perf_counter()
    photos = [Path(p) for p in args["photos"]]
    if args["pipeline"] == "naive":
        from PIL import Image

        from benchmarks.e2e import NaiveTorchEncoder

        encoder = NaiveTorchEncoder(Path(args["checkpoint"]), "naive")

        class _Img:
            def __init__(self, pixels: NDArray[np.uint8]) -> None:
                self.pixels = pixels

        def answer(path: Path) -> Any:
            with Image.open(path) as img:
                pixels = np.asarray(img.convert("RGB"))
            return encoder.embed_images([_Img(pixels)])

        # The naive baseline's cold start covers model load + first embedding only (its
        # readout would reuse tunelens's catalogue and heads), so it flatters the baseline.
    else:
        from tunelens.core.settings import Settings
        from tunelens.pipeline import Engine

        settings = Settings(**args["settings"])
        engine = Engine.load(settings, encoder="clip", catalog_dir=Path(args["catalog"]))

        def answer(path: Path) -> Any:
            return engine.recommend(path, k=10)

    answer(photos[0])
    first = time.perf_counter() - t0
    print(json.dumps({"event": "first", "in_process_s": round(first, 3)}), flush=True)
    for i in range(20):
        answer(photos[i % len(photos)])
    print(json.dumps({"event": "done", "peak_rss_mb": round(peak_rss_mb(), 1)}), flush=True)


def cold_start(args: dict[str, Any], runs: int) -> dict[str, Any]:
    """Wall time from spawning ``python`` to the child's first answer; and its peak RSS."""
    starts, rss = [], []
    env = dict(os.environ, HF_HUB_OFFLINE="1", TUNELENS_ALLOW_DOWNLOAD="0")
    code = "from benchmarks.e2e import cold_start_child; cold_start_child()"
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", code, json.dumps(args, default=str)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert proc.stdout is not None
        first_line = proc.stdout.readline()
        elapsed = time.perf_counter() - t
        rest = proc.stdout.read()
        proc.wait(timeout=600)
        if proc.returncode != 0 or not first_line:
            raise RuntimeError(f"cold-start child failed with status {proc.returncode}")
        starts.append(elapsed)
        done = json.loads(rest.strip().splitlines()[-1])
        rss.append(float(done["peak_rss_mb"]))
    return {
        "cold_start_s": round(float(np.median(starts)), 2),
        "cold_start_runs_s": [round(s, 2) for s in starts],
        "peak_rss_mb": round(max(rss), 1),
    }


# --------------------------------------------------------------------------- the run


def run(config: BenchConfig, progress: Progress = print, *, wait: bool = False) -> dict[str, Any]:
    """Run the whole benchmark; returns (and writes) the results dict."""
    from benchmarks.model import ensure_random_vit_b32
    from tunelens.pipeline import Engine

    started = time.perf_counter()
    load_before_wait = load_average()[0]
    if wait:
        progress(f"1-min load {load_before_wait:.2f}: waiting (≤ 10 min) for it to drop ≤ 1.0")
        wait_for_quiet()
    info = machine_info()
    info["load_average_before_wait"] = round(load_before_wait, 2)
    progress(
        f"machine: {info['cpu_model']}, {info['cpus']} CPUs, load {info['load_average_at_start']}"
    )
    config.work_dir.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    checkpoint, model_dir = ensure_random_vit_b32(config.work_dir)
    model_s = time.perf_counter() - t
    progress(f"random ViT-B/32 ready in {model_s:.1f}s ({model_dir})")
    photos = make_photos(config, progress)
    catalog = ensure_catalogue(config, progress)

    engines: dict[str, Any] = {}
    for variant in ("fp32", "int8"):
        t = time.perf_counter()
        engines[variant] = Engine.load(
            bench_settings(config, model_dir, variant), encoder="clip", catalog_dir=catalog
        )
        # first call builds (or loads the cached) zero-shot head matrices
        engines[variant].recommend(photos["1080p"][0], k=10)
        progress(f"engine {variant} loaded and warm in {time.perf_counter() - t:.1f}s")
    engines["naive"] = naive_engine(engines["fp32"], checkpoint)

    results: dict[str, Any] = {
        "name": config.name,
        "quick": config.quick,
        "machine": info,
        "model": {
            "architecture": "CLIP ViT-B/32 (CLIPConfig() defaults), random weights, seed 0",
            "onnx_dir": str(model_dir),
            "opset": 17,
        },
        "catalogue_tracks": len(engines["fp32"].index),
        "photos_per_size": config.photos,
        "passes": config.passes,
    }
    results["latency_ms"] = latency(engines, photos, config.passes, progress)
    results["fast_path_stages_ms"] = {
        label: stage_breakdown(engines["int8"], paths) for label, paths in photos.items()
    }
    results["faces_1080p"] = faces_cost(config, model_dir, catalog, photos["1080p"])
    progress(f"with face expressions: {results['faces_1080p']}")
    results["throughput_1080p"] = {
        v: throughput(engines[v], photos["1080p"], config.batch_images) for v in ("fp32", "int8")
    }
    progress(f"throughput: {results['throughput_1080p']}")
    results["concurrent_1080p"] = concurrent_load(
        engines["int8"], photos["1080p"], clients=4, requests=16 if config.quick else 48
    )
    progress(f"4 concurrent clients (int8): {results['concurrent_1080p']}")
    results["int8_vs_fp32"] = int8_agreement(engines["fp32"], engines["int8"], photos["1080p"])
    progress(f"int8 vs fp32: {results['int8_vs_fp32']}")
    del engines

    cold: dict[str, Any] = {}
    for variant in ("fp32", "int8"):
        settings = bench_settings(config, model_dir, variant)
        cold[variant] = cold_start(
            {
                "pipeline": "tunelens",
                "settings": settings.model_dump(mode="json"),
                "catalog": str(catalog),
                "photos": [str(p) for p in photos["1080p"]],
            },
            config.cold_runs,
        )
        progress(f"cold start {variant}: {cold[variant]}")
    cold["naive"] = cold_start(
        {
            "pipeline": "naive",
            "checkpoint": str(checkpoint),
            "photos": [str(p) for p in photos["1080p"]],
        },
        config.cold_runs,
    )
    progress(f"cold start naive: {cold['naive']}")
    results["process"] = cold
    results["load_average_at_end"] = [round(x, 2) for x in load_average()]
    if results["load_average_at_end"][0] > 1.0:
        progress(
            f"warning: 1-min load {results['load_average_at_end'][0]} at the end: another "
            "process competed for the CPUs; treat absolute numbers with care"
        )
    results["seconds"] = round(time.perf_counter() - started, 1)

    write_json(config.results_dir / f"{config.name}.json", results)
    if config.docs is not None and not config.quick:
        update_docs(config.docs, results)
    return results


# --------------------------------------------------------------------------- reporting


def summary_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(metric, naive, tunelens fp32, tunelens int8, ratio) rows for tables."""
    rows: list[tuple[str, str, str, str, str]] = []
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
    return "\n".join(lines)


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
