"""Bounded load test of ``tunelens serve`` on loopback: 20 concurrent clients mixing
recommend, "more like this" and feedback calls, then an overload phase for back-pressure.

Run from the repository root::

    python -m benchmarks.load            # 60 s of load + 10 s of overload (the figures in docs)
    python -m benchmarks.load --quick    # 10 s + 4 s (what the test suite runs)

The script builds a small catalogue (the first ``--rows`` songs of the shared Spotify CSV) in a
temporary directory, starts ``tunelens serve --encoder colour`` on a free loopback port with
rate limits off (all clients share one address; the limit is per client), and runs ``--clients``
httpx async clients until the time is up — it stops by itself and never leaves the machine.
Each client loops: recommend a photo (50 %), "more like this" on a song of its last answer
(30 %), or feedback on one (20 %). Every answer other than a 2xx counts as an error.

Phase two restarts the server with one worker and a queue of two
(``TUNELENS_ENGINE_CONCURRENCY=1``, ``TUNELENS_MAX_QUEUE=2``) and sends only recommend calls
from the same clients: the excess must be refused quickly with 503 ``overloaded`` and
``Retry-After`` instead of piling up. Its latencies are reported per outcome.

Results (throughput, p50/p95/p99 per call kind, errors by status, the machine and its load)
go to ``benchmarks/results/load.json``; the script exits 1 when the load phase saw any error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks._machine import load_average, machine_info, write_json

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
SPOTIFY_CSV = SHARED / "spotify_songs" / "spotify_songs.csv"
PHOTOS = SHARED / "photos"
RESULTS = REPO / "benchmarks" / "results" / "load.json"
MIX = (("recommend", 0.5), ("similar", 0.3), ("feedback", 0.2))


@dataclass
class Sample:
    kind: str
    status: int  # 0: a transport error (no answer)
    ms: float
    code: str | None = None


@dataclass
class Phase:
    name: str
    seconds: float
    samples: list[Sample] = field(default_factory=list)
    wall_s: float = 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_catalog(rows: int, root: Path) -> Path:
    """The first ``rows`` songs of the shared CSV, built into ``root/catalog``."""
    from tunelens.catalogue.build import build_catalog as build

    if not SPOTIFY_CSV.exists():
        sys.exit(f"shared data not found at {SPOTIFY_CSV} (see README: ../shared beside the repo)")
    csv = root / "songs.csv"
    with SPOTIFY_CSV.open(encoding="utf-8") as source, csv.open("w", encoding="utf-8") as out:
        for i, line in enumerate(source):
            if i > rows:
                break
            out.write(line)
    build(csv, root / "catalog")
    return root / "catalog"


def photos(limit: int = 12) -> list[tuple[str, bytes]]:
    found = sorted(PHOTOS.glob("*.jpg"))[:limit]
    if found:
        return [(p.name, p.read_bytes()) for p in found]
    from PIL import Image  # no shared photos: a few synthetic gradients

    out = []
    for i in range(limit):
        import io

        img = Image.linear_gradient("L").convert("RGB").resize((640, 480))
        buffer = io.BytesIO()
        img.rotate(i * 30).save(buffer, "JPEG", quality=85)
        out.append((f"synthetic-{i}.jpg", buffer.getvalue()))
    return out


class Server:
    """``tunelens serve`` with the colour encoder on a free loopback port."""

    def __init__(self, catalog: Path, home: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = home / f"server-{self.port}.log"
        home.mkdir(parents=True, exist_ok=True)
        full_env = {
            **os.environ,
            "PYTHONPATH": str(REPO / "src"),
            "TUNELENS_DATA_DIR": str(home / "data"),
            "TUNELENS_CACHE_DIR": str(home / "cache"),
            "TUNELENS_ALLOW_DOWNLOAD": "0",
            "HF_HUB_OFFLINE": "1",
            "TUNELENS_FACES": "0",
            "TUNELENS_RATE_LIMIT_PER_MINUTE": "0",
            "TUNELENS_LOG_LEVEL": "WARNING",
            **env,
        }
        command = [sys.executable, "-m", "tunelens.cli", "serve", "--port", str(self.port)]
        command += ["--catalog", str(catalog), "--encoder", "colour"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, env=full_env, cwd=home, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"server exited:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.base}/health", timeout=1).json().get("model_loaded"):
                    return
            except (httpx.TransportError, ValueError):
                pass
            time.sleep(0.1)
        self.stop()
        sys.exit(f"server did not start:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def _timed(phase: Phase, kind: str, call: Any, deadline: float) -> httpx.Response | None:
    start = time.perf_counter()
    try:
        response: httpx.Response = await call
    except httpx.HTTPError:
        if time.monotonic() < deadline:
            phase.samples.append(Sample(kind, 0, (time.perf_counter() - start) * 1000))
        return None
    code = None
    if response.status_code >= 400:
        try:
            code = response.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = "unparseable"
    phase.samples.append(
        Sample(kind, response.status_code, (time.perf_counter() - start) * 1000, code)
    )
    return response


async def client_loop(  # noqa: PLR0913 - one load client: its number, connection, pictures, phase, deadline and request mix
    n: int,
    http: httpx.AsyncClient,
    pictures: list[tuple[str, bytes]],
    phase: Phase,
    deadline: float,
    mix: tuple[tuple[str, float], ...],
) -> None:
    rng = random.Random(n)
    last: dict[str, Any] | None = None
    # each client its own signed listener identity (services/identity): one cheap call
    token = (await http.post("/api/v1/clients")).json()["client_token"]
    headers = {"Authorization": f"Bearer {token}"}
    kinds, weights = zip(*mix, strict=True)
    while time.monotonic() < deadline:
        kind = rng.choices(kinds, weights)[0] if last is not None else "recommend"
        if kind == "recommend":
            name, data = rng.choice(pictures)
            response = await _timed(
                phase,
                kind,
                http.post(
                    "/api/v1/recommend",
                    files={"image": (name, data, "image/jpeg")},
                    data={"top_k": "10"},
                    headers=headers,
                ),
                deadline,
            )
            if response is not None and response.status_code == 200:
                last = response.json()
            elif response is not None and response.status_code == 503:
                retry = float(response.headers.get("Retry-After", "1"))
                await asyncio.sleep(min(retry, 1.0) * rng.random())
            continue
        assert last is not None
        item = rng.choice(last["tracks"])["track"]
        if kind == "similar":
            body = {"track_id": item["id"], "reading": last["reading"], "top_k": 10}
            await _timed(
                phase, kind, http.post("/api/v1/similar", json=body, headers=headers), deadline
            )
        else:
            body = {
                "track_id": item["id"],
                "prediction_id": last["prediction_id"],
                "kind": rng.choice(["like", "dislike", "played", "not_interested"]),
            }
            await _timed(
                phase, kind, http.post("/api/v1/feedback", json=body, headers=headers), deadline
            )


async def run_phase(
    base: str,
    pictures: list[tuple[str, bytes]],
    phase: Phase,
    clients: int,
    mix: tuple[tuple[str, float], ...],
) -> None:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        warm = await http.post("/api/v1/recommend", files={"image": pictures[0]})
        warm.raise_for_status()
        start = time.monotonic()
        deadline = start + phase.seconds
        await asyncio.gather(
            *(client_loop(n, http, pictures, phase, deadline, mix) for n in range(clients))
        )
        phase.wall_s = time.monotonic() - start


def percentiles(ms: list[float]) -> dict[str, float]:
    if not ms:
        return {"n": 0}
    arr = np.asarray(ms)
    return {
        "n": len(ms),
        "p50_ms": round(float(np.percentile(arr, 50)), 1),
        "p95_ms": round(float(np.percentile(arr, 95)), 1),
        "p99_ms": round(float(np.percentile(arr, 99)), 1),
        "max_ms": round(float(arr.max()), 1),
    }


def summarise(phase: Phase) -> dict[str, Any]:
    samples = phase.samples
    ok = [s for s in samples if 200 <= s.status < 300]
    by_kind = {
        kind: percentiles([s.ms for s in ok if s.kind == kind])
        for kind in sorted({s.kind for s in samples})
    }
    statuses = Counter(str(s.status) for s in samples)
    codes = Counter(s.code for s in samples if s.code)
    return {
        "seconds": round(phase.wall_s, 2),
        "requests": len(samples),
        "throughput_rps": round(len(samples) / phase.wall_s, 1) if phase.wall_s else 0.0,
        "ok": len(ok),
        "errors": len(samples) - len(ok),
        "server_errors_5xx": sum(1 for s in samples if s.status >= 500),
        "transport_errors": statuses.get("0", 0),
        "statuses": dict(sorted(statuses.items())),
        "error_codes": dict(codes),
        "latency_ok": percentiles([s.ms for s in ok]),
        "latency_by_kind": by_kind,
        "latency_refused": percentiles([s.ms for s in samples if s.code == "overloaded"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 s of load, 4 s of overload")
    parser.add_argument("--seconds", type=float, default=None, help="load phase length")
    parser.add_argument("--overload-seconds", type=float, default=None)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rows", type=int, default=2000, help="songs in the catalogue")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    overload_seconds = args.overload_seconds or (4.0 if args.quick else 10.0)
    load_before = load_average()
    pictures = photos()
    with tempfile.TemporaryDirectory(prefix="tunelens-load-") as tmp:
        root = Path(tmp)
        catalog = build_catalog(args.rows, root)
        load = Phase("load", seconds)
        server = Server(catalog, root / "load", {})
        try:
            asyncio.run(run_phase(server.base, pictures, load, args.clients, MIX))
        finally:
            server.stop()
        overload = Phase("overload", overload_seconds)
        server = Server(
            catalog,
            root / "overload",
            {"TUNELENS_ENGINE_CONCURRENCY": "1", "TUNELENS_MAX_QUEUE": "2"},
        )
        try:
            asyncio.run(
                run_phase(server.base, pictures, overload, args.clients, (("recommend", 1.0),))
            )
        finally:
            server.stop()
    result = {
        "mode": "quick" if args.quick else "full",
        "clients": args.clients,
        "catalogue_songs": args.rows,
        "encoder": "colour",
        "mix": dict(MIX),
        "load": summarise(load),
        "overload": {
            "engine_concurrency": 1,
            "max_queue": 2,
            **summarise(overload),
        },
        "machine": machine_info(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    write_json(args.out, result)
    summary = result["load"]
    print(
        f"load: {summary['requests']} requests in {summary['seconds']} s "
        f"({summary['throughput_rps']} req/s), errors {summary['errors']}, "
        f"p50 {summary['latency_ok'].get('p50_ms')} ms, p95 {summary['latency_ok'].get('p95_ms')} ms, "
        f"p99 {summary['latency_ok'].get('p99_ms')} ms"
    )
    refused = result["overload"]
    print(
        f"overload: {refused['statuses']} — refusals p50 {refused['latency_refused'].get('p50_ms')} ms, "
        f"p99 {refused['latency_refused'].get('p99_ms')} ms; served p99 "
        f"{refused['latency_ok'].get('p99_ms')} ms"
    )
    print(f"written to {args.out}")
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
