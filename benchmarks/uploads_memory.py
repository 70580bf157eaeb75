"""Memory of consented uploads: 8 at once of one small-on-disk, huge-in-memory PNG.

A 6300×6300 PNG of one colour is ~116 KB on disk (deflate squeezes the flat rows ~1000:1) but
119 MB as RGB pixels once decoded. Every consented upload is decoded twice on purpose — once
to read it (the engine), once to keep it without its metadata (``storage.strip``) — so the
server's memory depends on how many of those decodes run at once and how many full-size
copies each makes. The issue that asked for this measured 8 concurrent uploads at ~4 GB RSS
when the keep step ran in anyio's 40-thread pool and copied the full picture four times.

Run from the repository root::

    python -m benchmarks.uploads_memory             # 8 concurrent uploads, the issue's case
    python -m benchmarks.uploads_memory --uploads 16

The script builds a small catalogue (the first 2000 songs of the shared Spotify CSV) in a
temporary folder, starts ``tunelens serve --encoder colour`` on a free loopback port, measures
the server's resident memory (``/proc/<pid>/status``) before, during (sampled every 10 ms) and
after the uploads, and prints it. It exits 1 when the peak reaches ``--limit-mb`` (1000) or an
upload was not kept. It sends traffic only to 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image

from benchmarks.load import Server, build_catalog

SIDE = 6300


def big_flat_png(side: int = SIDE) -> bytes:
    """A ``side``² RGB PNG that is tiny on disk: one colour plus a band, maximum compression."""
    img = Image.new("RGB", (side, side), (200, 120, 40))
    img.paste((30, 60, 160), (0, side // 2, side, side // 2 + side // 10))
    buffer = io.BytesIO()
    img.save(buffer, "PNG", compress_level=9)
    return buffer.getvalue()


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak since start) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Sampler:
    """Samples a process's RSS every ``interval_s`` in a thread; keeps the maximum."""

    def __init__(self, pid: int, interval_s: float = 0.01) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(self.interval_s)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def upload(base: str, data: bytes, token: str) -> tuple[int, str]:
    """One consented upload; its status and what happened to the picture."""
    response = httpx.post(
        f"{base}/api/v1/recommend",
        files={"image": ("big.png", data, "image/png")},
        data={"consent": "true", "top_k": "3"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=300,
    )
    if response.status_code != 200:
        return response.status_code, response.text[:200]
    kept = response.json().get("upload") or {}
    return 200, str(kept.get("status"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--uploads", type=int, default=8, help="concurrent consented uploads")
    parser.add_argument("--limit-mb", type=float, default=1000.0, help="peak RSS that fails")
    args = parser.parse_args(argv)

    data = big_flat_png()
    print(
        f"picture: {SIDE}×{SIDE} PNG, {len(data) / 1024:.0f} KB on disk, "
        f"{SIDE * SIDE * 3 / 1e6:.0f} MB as RGB pixels"
    )
    with tempfile.TemporaryDirectory(prefix="tunelens-upmem-") as tmp:
        root = Path(tmp)
        catalog = build_catalog(2000, root)
        server = Server(catalog, root / "home", {"TUNELENS_OUTBOX_FLUSH_INTERVAL_S": "0"})
        try:
            pid = server.process.pid
            token = httpx.post(f"{server.base}/api/v1/clients", timeout=10).json()["client_token"]
            upload(server.base, data, token)  # warm-up: first-call allocations are not per-request
            before = rss_mb(pid)
            start = time.perf_counter()
            with Sampler(pid) as sampler, ThreadPoolExecutor(args.uploads) as pool:
                results = list(
                    pool.map(lambda _: upload(server.base, data, token), range(args.uploads))
                )
            wall = time.perf_counter() - start
            after = rss_mb(pid)
            hwm = rss_mb(pid, "VmHWM")
        finally:
            server.stop()
    statuses = [status for status, _ in results]
    kept = sum(1 for status, what in results if status == 200 and what in {"stored", "pending"})
    print(f"uploads: {args.uploads} concurrent, consent=true, {wall:.1f} s in all")
    print(f"answers: {statuses}; pictures kept: {kept}/{args.uploads}")
    for status, what in results:
        if status != 200:
            print(f"  refused: {status} {what}")
    print(
        f"server RSS: before {before:.0f} MB, peak during {sampler.peak:.0f} MB "
        f"(+{sampler.peak - before:.0f} MB), after {after:.0f} MB, high-water mark {hwm:.0f} MB"
    )
    ok = sampler.peak < args.limit_mb and kept == args.uploads
    print(
        f"{'PASS' if ok else 'FAIL'}: peak {sampler.peak:.0f} MB "
        f"{'<' if sampler.peak < args.limit_mb else '>='} {args.limit_mb:.0f} MB"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
