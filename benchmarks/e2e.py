"""End-to-end speed of one photo → reading → top-10: the registry's models against a naive
PyTorch ViT-B/32 pipeline, in one run.

Run from the repository root (needs the ``torch`` extra; the first run also pip-installs
open_clip + timm into the work directory, see :mod:`benchmarks.mobileclip`)::

    python -m benchmarks.e2e --quick     # ≈ 3–4 min with a warm work dir; results/quick.json
    python -m benchmarks.e2e --wait      # full run; results/full.json and the docs' tables

Every pipeline runs in the same process, on the same photos and catalogue, with full-size
models of *random* weights (same architecture, parameters and cost as the published ones,
meaningless readings; :mod:`benchmarks.model`, :mod:`benchmarks.mobileclip`):

* **contenders** (:mod:`benchmarks.e2e_lineup`) — ViT-B/32 and MobileCLIP S1/S2/B in the
  registry's transformers.js layout at fp32 and int8, each opened by tunelens's own loader and
  answering from the file's bytes: validation, JPEG draft decode, one fused
  resize/crop/normalise, ONNX Runtime, zero-shot heads from cached text matrices, FAISS +
  re-rank.
* **naive** — what a straightforward PyTorch + transformers script does with ViT-B/32
  (:mod:`benchmarks.e2e_naive`), then the *same* readout (colour statistics, heads, mapping,
  recommender); see :mod:`benchmarks.e2e_pipelines`.

Also measured (:mod:`benchmarks.e2e_measure`): batch throughput (decode + encoder batches of
16), each image graph alone, int8 vs fp32 embedding cosine, and — in fresh subprocesses
(:mod:`benchmarks.e2e_cold`) — cold start (process start → first answer, model load included)
and peak RSS after 20 answers. Results go to ``<results>/<name>.json``; a full run also
rewrites the tables in ``docs/performance.md`` and ``docs/models.md``
(:mod:`benchmarks.e2e_report`). Models, photos and catalogue are cached in the work directory.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from rich import box
from rich.console import Console
from rich.table import Table

from benchmarks.e2e_cold import cold_start
from benchmarks.e2e_lineup import (
    REFERENCE_INT8,
    Contender,
    build_facts,
    encoder_alone,
    lineup,
    vision_graphs,
)
from benchmarks.e2e_measure import (
    concurrent_load,
    faces_cost,
    int8_agreement,
    latency,
    stage_breakdown,
    throughput,
)
from benchmarks.e2e_pipelines import (
    bench_settings,
    fast_recommend,
    load_fast,
    naive_pipeline,
)
from benchmarks.e2e_report import summary_rows, update_docs
from benchmarks.model import ensure_random_vit_b32
from benchmarks.util import load_average, machine_info, wait_for_quiet, write_json
from tunelens.catalogue.build import build_catalog
from tunelens.core.errors import InvalidRequest, TunelensError
from tunelens.core.settings import get_settings
from tunelens.pipeline import Pipeline

SIZES: dict[str, tuple[int, int]] = {"1080p": (1920, 1080), "12mp": (4000, 3000)}
#: the columns of the report's table the console shows (the docs get all of them)
CONSOLE_COLUMNS = (0, 2, 3, 4, 6, 7)
CONSOLE_HEADERS = ("pipeline", "1080p p50 ms", "12 MP p50 ms", "× naive", "img/s", "× int8 img/s")
#: the contender whose readout the naive pipeline shares
VIT_FP32 = "clip-vit-base-patch32 fp32"
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
    #: contender keys to run (the ViT-B/32 fp32 one, whose readout the naive pipeline shares,
    #: and the ViT-B/32 int8 reference always run); None: all. A partial run leaves the docs.
    only: tuple[str, ...] | None = None

    @classmethod
    def default(cls, *, quick: bool, root: Path | None = None) -> BenchConfig:
        root = root or Path.cwd()
        shared = root.parent / "shared" / "data"
        has_repo = (root / "benchmarks").is_dir()
        work = root / "benchmarks" / ".work" if has_repo else get_settings().cache_dir / "bench"
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


# --------------------------------------------------------------------------- inputs


def make_photos(config: BenchConfig, progress: Progress) -> dict[str, list[Path]]:
    """1080p and 12 MP JPEGs resized (and centre-cropped) from the shared photos, cached."""
    sources = sorted(p for p in config.photos_dir.glob("*.jpg"))[: config.photos]
    if not sources:
        raise InvalidRequest(f"no JPEG photos in {config.photos_dir} to benchmark with")
    out: dict[str, list[Path]] = {}
    for label, size in SIZES.items():
        folder = config.work_dir / "photos" / label
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for src in sources:
            target = folder / f"{src.stem}.jpg"
            if not target.is_file():
                _resize_crop(src, target, size)
            paths.append(target)
        out[label] = paths
        progress(f"{len(paths)} {label} photos in {folder}")
    return out


def _resize_crop(src: Path, target: Path, size: tuple[int, int]) -> None:
    width, height = size
    with Image.open(src) as img:
        rgb = img.convert("RGB")
        scale = max(width / rgb.width, height / rgb.height)
        scaled = (round(rgb.width * scale), round(rgb.height * scale))
        resized = rgb.resize(scaled, Image.Resampling.LANCZOS)
        left, top = (scaled[0] - width) // 2, (scaled[1] - height) // 2
        resized.crop((left, top, left + width, top + height)).save(target, "JPEG", quality=90)


def ensure_catalogue(config: BenchConfig, progress: Progress) -> Path:
    out = config.work_dir / "catalog"
    if not (out / "meta.json").is_file():
        progress(f"building the benchmark catalogue from {config.csv}")
        build_catalog(config.csv, out)
    return out


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class Prepared:
    """The run's inputs, built (or found in the work directory's cache) before any timing."""

    checkpoint: Path
    contenders: list[Contender]
    photos: dict[str, list[Path]]
    catalog: Path


def prepare(config: BenchConfig, progress: Progress) -> Prepared:
    config.work_dir.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    checkpoint, export_dir = ensure_random_vit_b32(config.work_dir)
    contenders = lineup(config.work_dir, (checkpoint, export_dir), progress)
    if config.only is not None:
        keep = {*config.only, VIT_FP32, REFERENCE_INT8}
        unknown = keep - {c.key for c in contenders}
        if unknown:
            known = ", ".join(c.key for c in contenders)
            raise InvalidRequest(f"no contender {sorted(unknown)}; known: {known}")
        contenders = [c for c in contenders if c.key in keep]
    progress(f"{len(contenders)} random-weight models ready in {time.perf_counter() - t:.1f}s")
    photos = make_photos(config, progress)
    return Prepared(checkpoint, contenders, photos, ensure_catalogue(config, progress))


def load_pipelines(config: BenchConfig, ready: Prepared, progress: Progress) -> dict[str, Pipeline]:
    """Every contender's pipeline through tunelens's loader, warm, and the naive one sharing
    the ViT-B/32 fp32 pipeline's readout."""
    pipelines: dict[str, Pipeline] = {}
    for contender in ready.contenders:
        t = time.perf_counter()
        settings = bench_settings(config.work_dir, contender.folder, contender.precision)
        pipelines[contender.key] = load_fast(settings, ready.catalog)
        # first call builds (or loads the cached) zero-shot head matrices
        fast_recommend(pipelines[contender.key], ready.photos["1080p"][0])
        progress(f"{contender.key} loaded and warm in {time.perf_counter() - t:.1f}s")
    pipelines["naive"] = naive_pipeline(pipelines[VIT_FP32], ready.checkpoint)
    return pipelines


def run(config: BenchConfig, progress: Progress = print, *, wait: bool = False) -> dict[str, Any]:
    """Run the whole benchmark; returns (and writes) the results dict."""
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
    ready = prepare(config, progress)
    pipelines = load_pipelines(config, ready, progress)
    results: dict[str, Any] = {
        "name": config.name,
        "quick": config.quick,
        "machine": info,
        "weights": "random (speed only; nothing here measures quality)",
        "contenders": {
            c.key: {**c.to_json(), **contender_facts(c.folder)} for c in ready.contenders
        },
        "naive": "transformers CLIPModel fp32 (PyTorch), the ViT-B/32 checkpoint, one image a call",
        "reference_int8": REFERENCE_INT8,
        "catalogue_tracks": len(pipelines[VIT_FP32].index),
        "photos_per_size": config.photos,
        "passes": config.passes,
    }
    results.update(measure_in_process(config, ready, pipelines, progress))
    del pipelines
    results["encoder_alone"] = encoders_alone(ready, progress, quick=config.quick)
    results["process"] = cold_starts(config, ready, progress)
    results["load_average_at_end"] = [round(x, 2) for x in load_average()]
    if results["load_average_at_end"][0] > 1.0:
        progress(
            f"warning: 1-min load {results['load_average_at_end'][0]} at the end: another "
            "process competed for the CPUs; treat absolute numbers with care"
        )
    results["seconds"] = round(time.perf_counter() - started, 1)
    write_json(config.results_dir / f"{config.name}.json", results)
    if config.docs is not None and not config.quick and config.only is None:
        update_docs(config.docs, results)
    return results


def contender_facts(folder: Path) -> dict[str, Any]:
    facts = build_facts(folder)
    keep = ("repo", "image_size", "image_params_m", "text_params_m", "image_gmacs", "caveat")
    return {k: facts[k] for k in keep if k in facts}


def measure_in_process(
    config: BenchConfig, ready: Prepared, pipelines: dict[str, Pipeline], progress: Progress
) -> dict[str, Any]:
    """Latency, stages, faces, throughput, concurrent load and int8 agreement, in this order."""
    photos = ready.photos
    onnx = [c.key for c in ready.contenders]
    results: dict[str, Any] = {}
    results["latency_ms"] = latency(pipelines, photos, config.passes, progress)
    results["stages_ms"] = {
        key: {label: stage_breakdown(pipelines[key], paths) for label, paths in photos.items()}
        for key in onnx
    }
    reference = next(c for c in ready.contenders if c.key == REFERENCE_INT8)
    with_faces = bench_settings(config.work_dir, reference.folder, "int8", faces=True)
    results["faces_1080p"] = faces_cost(
        load_fast(with_faces, ready.catalog), photos["1080p"], config.passes
    )
    progress(f"with face expressions: {results['faces_1080p']}")
    results["throughput_1080p"] = {}
    for key in onnx:
        results["throughput_1080p"][key] = throughput(
            pipelines[key], photos["1080p"], config.batch_images
        )
        progress(f"throughput {key}: {results['throughput_1080p'][key]}")
    results["concurrent_1080p"] = concurrent_load(
        pipelines[REFERENCE_INT8], photos["1080p"], clients=4, requests=16 if config.quick else 48
    )
    progress(f"4 concurrent clients ({REFERENCE_INT8}): {results['concurrent_1080p']}")
    results["int8_vs_fp32"] = {}
    for c in ready.contenders:
        fp32 = f"{c.model} fp32"
        if c.precision.startswith("int8") and fp32 in pipelines:
            agree = int8_agreement(pipelines[fp32], pipelines[c.key], photos["1080p"])
            results["int8_vs_fp32"][c.key] = agree
            progress(f"{c.key} vs fp32: {agree}")
    return results


def encoders_alone(ready: Prepared, progress: Progress, *, quick: bool) -> dict[str, Any]:
    """Every image graph on its own (the MobileCLIP ``_int8`` files included)."""
    out: dict[str, Any] = {}
    batch, budget = (8, 3.0) if quick else (16, 8.0)
    for name, (path, side) in vision_graphs(ready.contenders).items():
        out[name] = encoder_alone(path, side, batch=batch, budget_s=budget)
        progress(f"encoder alone, {name}: {out[name]}")
    return out


def cold_starts(config: BenchConfig, ready: Prepared, progress: Progress) -> dict[str, Any]:
    """Cold start and peak RSS of the marked contenders and the naive pipeline, in fresh
    processes."""
    photos = [str(p) for p in ready.photos["1080p"]]
    cold: dict[str, Any] = {}
    for contender in ready.contenders:
        if not contender.cold:
            continue
        settings = bench_settings(config.work_dir, contender.folder, contender.precision)
        child = {
            "pipeline": "tunelens",
            "settings": settings.model_dump(mode="json"),
            "catalog": str(ready.catalog),
            "photos": photos,
        }
        cold[contender.key] = cold_start(child, config.cold_runs)
        progress(f"cold start {contender.key}: {cold[contender.key]}")
    naive = {"pipeline": "naive", "checkpoint": str(ready.checkpoint), "photos": photos}
    cold["naive"] = cold_start(naive, config.cold_runs)
    progress(f"cold start naive: {cold['naive']}")
    return cold


# --------------------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.e2e",
        description="Benchmark photo → reading → top-10 against a naive PyTorch pipeline "
        "(needs the torch extra).",
    )
    parser.add_argument("--quick", action="store_true", help="Fewer photos and passes (< 3 min).")
    parser.add_argument(
        "--work-dir",
        type=Path,
        metavar="DIR",
        help="Model, photos and catalogue cache (default benchmarks/.work).",
    )
    parser.add_argument(
        "--photos", type=Path, metavar="DIR", help="Folder of JPEGs to resize from."
    )
    parser.add_argument(
        "--csv", type=Path, metavar="FILE", help="Spotify-style CSV for the catalogue."
    )
    parser.add_argument("--name", metavar="NAME", help="Results name (results/<name>.json).")
    parser.add_argument(
        "--only",
        metavar="KEYS",
        help="Comma-separated contenders to run, e.g. 'clip-vit-base-patch32 int8-local' "
        "(ViT-B/32 fp32 and int8 and the naive pipeline always run; the docs are left alone).",
    )
    parser.add_argument(
        "--wait",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="Wait (≤ 10 min) for 1-min load ≤ 1.0 first.",
    )
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> BenchConfig:
    config = BenchConfig.default(quick=args.quick)
    if args.work_dir is not None:
        config.work_dir = args.work_dir
    if args.photos is not None:
        config.photos_dir = args.photos
    if args.csv is not None:
        config.csv = args.csv
    if args.name is not None:
        config.name = args.name
    if args.only:
        config.only = tuple(k.strip() for k in args.only.split(",") if k.strip())
    return config


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table; progress and errors go to stderr."""
    args = parse_args(argv)
    config = config_from(args)
    out = Console(soft_wrap=True)
    out.width = max(out.width, 100)  # the table's rows are one line each
    err = Console(stderr=True, soft_wrap=True)
    try:
        results = run(config, progress=lambda m: err.print(m, highlight=False), wait=args.wait)
    except TunelensError as error:
        err.print(f"[bold red]error:[/] {error.message}", highlight=False)
        return 1
    table = Table(box=box.SIMPLE_HEAD, title=f"tunelens bench ({config.name})")
    for i, header in enumerate(CONSOLE_HEADERS):
        table.add_column(header, justify="right" if i else "left", no_wrap=True)
    keys = ["naive", *results["contenders"]]
    for key, row in zip(keys, summary_rows(results), strict=True):
        table.add_row(key, *(row[i] for i in CONSOLE_COLUMNS[1:]))
    out.print(table)
    out.print(
        "random weights: speed only; results in " + str(config.results_dir / f"{config.name}.json"),
        highlight=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
