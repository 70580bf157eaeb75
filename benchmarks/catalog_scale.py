"""Catalogue scale: synthetic catalogues of 26k, 1M and 10M songs in the columnar store.

Run from the repository root::

    python -m benchmarks.catalog_scale                          # 26k, 1M, 10M
    python -m benchmarks.catalog_scale --sizes 26131 1000000    # skip 10M
    python -m benchmarks.catalog_scale --sizes 10000000 --again # a repeat: both runs kept
    python -m benchmarks.catalog_scale --table                  # the docs table from the JSON

Songs resample the shared Spotify CSV (``tunelens.catalogue.synthetic``: real feature
distributions per genre, with jitter). For every size it measures: build time (the store
writer, :func:`tunelens.catalogue.store.write_store`), size on disk, opening the index in a
fresh process (time and RSS, plus the ranker's start: first with nothing derived yet, then in a
second process that reads what the first kept in ``derived/``), top-10 search latency with the
mapping's feature weights and recall@10 against exact search over the same weighted features
(tie-aware: a returned song within the exact 10th distance counts); for 26k and 1M also the
cold start of
``tunelens recommend PHOTO --catalog DIR --encoder colour`` and of ``tunelens serve`` until
``/ready``; and for 1M ``tunelens catalog add`` of 1,000 songs. Results go to
``benchmarks/results/catalog_scale.json``; the table is in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from benchmarks._machine import machine_info, write_json
from tunelens.catalogue.store import StoreOptions, write_store
from tunelens.catalogue.synthetic import load_reference, synthetic_matrix
from tunelens.core.audio import FEATURES, MOOD_FEATURES

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = ROOT.parent / "shared" / "data" / "spotify_songs" / "spotify_songs.csv"
PHOTO = ROOT.parent / "shared" / "data" / "photos" / "beach_dune_grass_sea_01.jpg"
RESULTS = ROOT / "benchmarks" / "results" / "catalog_scale.json"
WORK = ROOT / "benchmarks" / ".work" / "catalog_scale"
TUNELENS = [str(Path(sys.executable).parent / "tunelens")]
CHUNK = 1_000_000


def synthetic_table(reference: Any, n: int, seed: int, prefix: str = "syn") -> pa.Table:
    """``n`` synthetic songs as an Arrow table (vectorised: no Track objects)."""
    parts = []
    for start in range(0, n, CHUNK):
        size = min(CHUNK, n - start)
        features, rows = synthetic_matrix(reference, size, seed=seed + start)
        genres = np.asarray(reference.genres, dtype=object)[rows]
        ids = [f"{prefix}-{i:08d}" for i in range(start, start + size)]
        artists = [f"Synthetic Artist {i // 8:07d}" for i in range(start, start + size)]
        titles = [
            f"Synthetic {g} no. {i}"
            for g, i in zip(genres, range(start, start + size), strict=True)
        ]
        packed = pa.FixedSizeListArray.from_arrays(
            pa.array(np.ascontiguousarray(features).reshape(-1), pa.float32()), len(FEATURES)
        )
        parts.append(
            pa.table(
                {
                    "id": ids,
                    "title": titles,
                    "artist": artists,
                    "genre": [None if g == "unknown" else g for g in genres],
                    "popularity": np.asarray(reference.popularity, dtype=np.float32)[rows],
                    "source": ["jsonl"] * size,
                    "features": packed,
                }
            )
        )
    return pa.concat_tables(parts)


_PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
from tunelens.catalogue.index import CatalogueIndex
from tunelens.recommend.mapping import FEATURE_WEIGHTS
import numpy as np
t1 = time.perf_counter()
index = CatalogueIndex.load(sys.argv[1])
t2 = time.perf_counter()
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 1e6
rss_open = rss()
from tunelens.recommend.ranking import Recommender
t3 = time.perf_counter()
Recommender(index)
t4 = time.perf_counter()
queries = np.load(sys.argv[2])
weights = {n: FEATURE_WEIGHTS.get(n, 1.0) for n in index.feature_names}
found, times = [], []
for q in queries:
    s = time.perf_counter()
    rows, dist = index.search(q, weights, k=10)
    times.append((time.perf_counter() - s) * 1000)
    found.append(np.pad(dist, (0, 10 - len(dist)), constant_values=np.inf))
rss_search = rss()
result = {
    "import_s": round(t1 - t0, 3), "open_s": round(t2 - t1, 3), "rss_open_mb": round(rss_open),
    "ranker_start_s": round(t4 - t3, 3), "rss_after_search_mb": round(rss_search),
    "top10_p50_ms": round(float(np.median(times)), 3),
    "top10_p95_ms": round(float(np.percentile(times, 95)), 3),
    "kind": index.kind, "tracks": index.live_count,
    "nprobe": index.meta["index"].get("nprobe"),
}
if len(sys.argv) > 3:
    print(json.dumps(result))
    raise SystemExit(0)
w = np.array([weights[n] for n in index.feature_names])
qs = index.scaler.transform(queries)
kth = np.full(len(qs), np.inf)
best = np.full((len(qs), 10), np.inf)
step = 500_000
for start in range(0, len(index), step):
    rows = np.arange(start, min(len(index), start + step))
    x = index.scaled_rows(rows).astype(np.float64)
    for i, q in enumerate(qs):
        d = ((x - q) ** 2) @ w
        part = np.partition(np.concatenate([best[i], d]), 9)[:10]
        best[i] = np.sort(part)
kth = best[:, 9]
found = np.array(found)
recall = float(np.mean(((found <= kth[:, None] * (1 + 1e-5) + 1e-6).sum(axis=1)) / 10))
print(json.dumps({**result, "recall_at_10": round(recall, 4)}))
"""


def probe(directory: Path, queries: Path, *, recall: bool = True) -> dict[str, Any]:
    """One fresh process: open, start the ranker, 200 top-10 searches (and recall@10)."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _PROBE,
            str(directory),
            str(queries),
            *([] if recall else ["--no-recall"]),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def cold_recommend(directory: Path, repeats: int = 3) -> float:
    """Median wall seconds of a whole ``tunelens recommend`` process."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(
            [
                *TUNELENS,
                "recommend",
                str(PHOTO),
                "--catalog",
                str(directory),
                "--encoder",
                "colour",
                "--json",
            ],
            capture_output=True,
            check=True,
            cwd=ROOT,
        )
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 2)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_until_ready(directory: Path) -> dict[str, float]:
    """Seconds from ``tunelens serve`` to a 200 from ``/ready``, and the server's RSS then."""
    port = _free_port()
    env = {**os.environ, "TUNELENS_DATABASE_URL": f"sqlite:///{WORK}/serve-{port}.db"}
    start = time.perf_counter()
    server = subprocess.Popen(
        [
            *TUNELENS,
            "serve",
            "--catalog",
            str(directory),
            "--encoder",
            "colour",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env=env,
    )
    try:
        while time.perf_counter() - start < 300:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        ready = time.perf_counter() - start
        pages = int(Path(f"/proc/{server.pid}/statm").read_text().split()[1])
        return {"serve_ready_s": round(ready, 2), "serve_rss_mb": round(pages * 4096 / 1e6)}
    finally:
        server.terminate()
        server.wait(timeout=30)


def catalog_add(reference: Any, directory: Path, n: int = 1000) -> dict[str, Any]:
    """``tunelens catalog add`` of ``n`` new songs (a CSV-free JSONL file), in seconds."""
    table = synthetic_table(reference, n, seed=777, prefix="added")
    source = WORK / "added.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for row, values in zip(
            table.to_pylist(), table.column("features").to_pylist(), strict=True
        ):
            feats = {
                k: v
                for k, v in zip(FEATURES, values, strict=True)
                if v is not None and not np.isnan(v)
            }
            line = {
                "id": row["id"],
                "title": row["title"],
                "artist": row["artist"],
                "genre": row["genre"],
                "features": feats,
            }
            handle.write(json.dumps(line) + "\n")
    start = time.perf_counter()
    done = subprocess.run(
        [*TUNELENS, "catalog", "add", str(directory), str(source), "--json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return {
        "catalog_add_1000_s": round(time.perf_counter() - start, 2),
        "catalog_add": json.loads(done.stdout.strip().splitlines()[-1]),
    }


def dir_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.iterdir() if p.is_file())


def measure(reference: Any, n: int, queries: Path) -> dict[str, Any]:
    directory = WORK / f"cat-{n}"
    shutil.rmtree(directory, ignore_errors=True)
    out: dict[str, Any] = {"tracks": n}
    start = time.perf_counter()
    table = synthetic_table(reference, n, seed=0)
    out["generate_s"] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    meta = write_store(directory, table, StoreOptions())
    out["build_s"] = round(time.perf_counter() - start, 1)
    del table
    out["kind"] = meta["index"]["kind"]
    out["disk_mb"] = round(dir_bytes(directory) / 1e6, 1)
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    # the first start derives the ranker's catalogue facts and keeps them beside the
    # catalogue (tunelens.catalogue.derived); a second process reads them
    shutil.rmtree(directory / "derived", ignore_errors=True)
    out.update(probe(directory, queries))
    kept = probe(directory, queries, recall=False)
    out["ranker_start_kept_s"] = kept["ranker_start_s"]
    out["rss_after_search_kept_mb"] = kept["rss_after_search_mb"]
    out["top10_p50_kept_ms"] = kept["top10_p50_ms"]
    out["top10_p95_kept_ms"] = kept["top10_p95_ms"]
    if n <= 1_000_000:
        out["cold_recommend_s"] = cold_recommend(directory)
        out.update(serve_until_ready(directory))
    if n == 1_000_000:
        out.update(catalog_add(reference, directory))
    print(json.dumps(out), flush=True)
    return out


_HEAD = (
    "| songs | run | index | build (s) | on disk (MB) | open (s) | RSS open (MB) | ranker start:"
    " first / kept (s) | RSS after search: first / kept (MB) | top-10 p50 / p95 (ms) |"
    " recall@10 | `recommend` cold (s) | `serve` → `/ready` (s) | serve RSS (MB) | load avg |"
)


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int | float) else str(value)


def _row(r: dict[str, Any]) -> str:
    """One line of the docs table from one result."""
    index = str(r["kind"])
    if index == "ivf":
        index += f" (nprobe {r.get('nprobe')})"
    cells = [
        f"{int(r['tracks']):,}",
        str(r.get("run", 1)),
        index,
        f"{r['build_s']}",
        _n(r["disk_mb"]),
        f"{r['open_s']}",
        _n(r["rss_open_mb"]),
        f"{r['ranker_start_s']} / {r.get('ranker_start_kept_s', '—')}",
        f"{_n(r['rss_after_search_mb'])} / {_n(r.get('rss_after_search_kept_mb', '—'))}",
        f"{r['top10_p50_ms']} / {r['top10_p95_ms']}",
        f"{r['recall_at_10']}",
        f"{r.get('cold_recommend_s', '—')}",
        f"{r.get('serve_ready_s', '—')}",
        f"{r.get('serve_rss_mb', '—')}",
        f"{r.get('load_average', ['—'])[0]}",
    ]
    return "| " + " | ".join(cells) + " |"


def table(results: dict[str, Any]) -> str:
    """The table of ``docs/performance.md`` from a results file."""
    lines = [_HEAD, "|" + "---:|" * 2 + "---|" + "---:|" * 12]
    lines += [_row(r) for r in results["sizes"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[26_131, 1_000_000, 10_000_000])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--again",
        action="store_true",
        help="keep the earlier results of the sizes measured now (a repeat run: both kept)",
    )
    parser.add_argument("--table", action="store_true", help="print the docs table and stop")
    args = parser.parse_args()
    if args.table:
        print(table(json.loads(RESULTS.read_text())))
        return
    WORK.mkdir(parents=True, exist_ok=True)
    reference = load_reference(args.csv)
    matrix, _ = synthetic_matrix(reference, args.queries, seed=99)
    queries = matrix[:, [FEATURES.index(n) for n in MOOD_FEATURES]].astype(np.float64)
    queries = np.where(np.isnan(queries), np.nanmedian(queries, axis=0), queries)
    queries_path = WORK / "queries.npy"
    np.save(queries_path, queries)
    measured = [measure(reference, n, queries_path) for n in args.sizes]
    # sizes not measured in this run keep their earlier results (e.g. a 10M-only rerun)
    earlier = json.loads(RESULTS.read_text()).get("sizes", []) if RESULTS.exists() else []
    kept = [r for r in earlier if args.again or r["tracks"] not in args.sizes]
    for result in measured:
        result["run"] = 1 + sum(1 for r in kept if r["tracks"] == result["tracks"])
    results = {
        "machine": machine_info(),
        "sizes": sorted([*kept, *measured], key=lambda r: (int(r["tracks"]), int(r.get("run", 1)))),
    }
    write_json(RESULTS, results)


if __name__ == "__main__":
    main()
