"""Machine facts and measurement helpers for the benchmark scripts (shared with the CLI)."""

from __future__ import annotations

from benchmarks.util import (
    load_average,
    machine_info,
    peak_rss_mb,
    rss_mb,
    summarise_ms,
    wait_for_quiet,
    write_json,
)

__all__ = [
    "load_average",
    "machine_info",
    "peak_rss_mb",
    "rss_mb",
    "summarise_ms",
    "wait_for_quiet",
    "write_json",
]
