"""Cold start and memory: fresh processes from ``python`` to the first answer, and peak RSS.

The parent (:func:`cold_start`) spawns ``python -c`` running :func:`cold_start_child` (run
from the repository root, like every benchmark). This module imports almost nothing at the
top on purpose: the child imports only the pipeline it measures, inside the function, so that
import cost is part of its cold start and neither pipeline pays for the other's modules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.util import peak_rss_mb

CHILD_CODE = "from benchmarks.e2e_cold import cold_start_child; cold_start_child()"
#: answers after the first, before peak RSS is read
MORE_ANSWERS = 20


def cold_start_child() -> None:
    """Child process: load, answer once (timestamped), answer 20 more, report peak RSS."""
    args = json.loads(sys.argv[1])
    t0 = time.perf_counter()
    photos = [Path(p) for p in args["photos"]]
    answer = _naive_answer(args) if args["pipeline"] == "naive" else _tunelens_answer(args)
    answer(photos[0])
    first = time.perf_counter() - t0
    print(json.dumps({"event": "first", "in_process_s": round(first, 3)}), flush=True)
    for i in range(MORE_ANSWERS):
        answer(photos[i % len(photos)])
    print(json.dumps({"event": "done", "peak_rss_mb": round(peak_rss_mb(), 1)}), flush=True)


def _naive_answer(args: dict[str, Any]) -> Callable[[Path], Any]:
    """The baseline's cold start covers model load + first embedding only (its readout would
    reuse tunelens's catalogue and heads), so it flatters the baseline."""
    from PIL import Image  # lazy: importing is part of the measured cold start

    from benchmarks.e2e_naive import NaiveTorchEncoder  # lazy: likewise

    encoder = NaiveTorchEncoder(Path(args["checkpoint"]), "naive")

    class _Img:
        def __init__(self, pixels: Any) -> None:
            self.pixels = pixels

    def answer(path: Path) -> Any:
        with Image.open(path) as img:
            pixels = np.asarray(img.convert("RGB"))
        return encoder.embed_images([_Img(pixels)])

    return answer


def _tunelens_answer(args: dict[str, Any]) -> Callable[[Path], Any]:
    """tunelens's pipeline as a server loads it, answering from the photo's path."""
    # lazy: importing the pipeline is part of the measured cold start
    from tunelens.core.settings import Settings
    from tunelens.pipeline import RecommendOptions, build_pipeline

    settings = Settings(**args["settings"])
    pipeline = build_pipeline(settings, encoder="clip", catalog_dir=Path(args["catalog"]))
    options = RecommendOptions(k=10)

    def answer(path: Path) -> Any:
        return pipeline.recommend_file(path, options)

    return answer


def cold_start(args: dict[str, Any], runs: int) -> dict[str, Any]:
    """Wall time from spawning ``python`` to the child's first answer; and its peak RSS."""
    starts, rss = [], []
    env = dict(os.environ, HF_HUB_OFFLINE="1", TUNELENS_ALLOW_DOWNLOAD="0")
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD_CODE, json.dumps(args, default=str)],
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
