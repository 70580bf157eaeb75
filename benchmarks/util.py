"""Small measurement helpers shared by the benchmarks in ``benchmarks/``.

Only the standard library and numpy: machine facts (CPU model, cores, load average), memory
(current and peak RSS from ``/proc``), percentiles, and writing results as JSON.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


#: instruction-set extensions that decide which ONNX Runtime kernels run (int8 above all)
_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8")


def cpu_flags() -> list[str]:
    """The speed-relevant CPU flags: without VNNI, int8 matrix products gain little over fp32;
    with it, they gain severalfold, so runs on different hosts are only comparable with these."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                present = set(line.split(":", 1)[1].split())
                return [flag for flag in _FLAGS if flag in present]
    except OSError:
        pass
    return []


def load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on; recorded with every result."""
    import faiss
    import onnxruntime

    from tunelens import __version__

    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    mem_gb = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpu_model": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cpus": cpus,
        "memory_gb": mem_gb,
        "load_average_at_start": [round(x, 2) for x in load_average()],
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "tunelens": __version__,
        "onnxruntime": onnxruntime.__version__,
        "faiss": getattr(faiss, "__version__", "unknown"),
        "numpy": np.__version__,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def rss_mb() -> float:
    """Current resident set size of this process, MB."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError):
        return float("nan")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB.

    ``VmHWM`` from ``/proc/self/status`` first: ``ru_maxrss`` survives ``exec`` on Linux, so
    a child started from a big parent would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    except (OSError, ValueError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def summarise_ms(samples: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean/min of millisecond samples, rounded for reports."""
    arr = np.asarray(samples, dtype=np.float64)
    if arr.size == 0:
        return {"n": 0}
    return {
        "n": int(arr.size),
        "p50": round(float(np.percentile(arr, 50)), 2),
        "p95": round(float(np.percentile(arr, 95)), 2),
        "mean": round(float(arr.mean()), 2),
        "min": round(float(arr.min()), 2),
    }


def wait_for_quiet(max_load: float = 1.0, max_wait_s: float = 600.0, step_s: float = 20.0) -> float:
    """Sleep (up to ``max_wait_s``) until the 1-minute load is at most ``max_load``.

    Returns the load when measurement starts; other processes on a 2-core machine skew
    latency numbers, so the load is recorded with the results either way.
    """
    deadline = time.monotonic() + max_wait_s
    while load_average()[0] > max_load and time.monotonic() < deadline:
        time.sleep(step_s)
    return load_average()[0]


def write_json(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path
