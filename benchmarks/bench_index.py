"""Catalogue index at scale: synthetic 100k and 1M catalogues, build time, memory, latency, recall.

Run from the repository root::

    python -m benchmarks.bench_index                 # 100k and 1M (≈ 5 minutes on 2 cores)
    python -m benchmarks.bench_index --sizes 100000  # just 100k

Synthetic tracks resample the shared Spotify CSV (``tunelens.catalogue.synthetic``). Queries
are 200 further synthetic tracks (another seed) searched with the mapping's feature weights,
exactly as the recommender searches; "exact" is ``IndexFlatL2`` over the same weighted
vectors. recall@k counts returned tracks whose distance is within the exact k-th distance
(ties count: many real tracks share feature values). Results go to
``benchmarks/results/index.json`` and the table in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._machine import machine_info, peak_rss_mb, rss_mb, summarise_ms, write_json
from tunelens.catalogue import faiss_index
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.synthetic import generate_catalogue, load_reference, synthetic_matrix
from tunelens.core.audio import FEATURES
from tunelens.recommend.mapping import FEATURE_WEIGHTS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = ROOT.parent / "shared" / "data" / "spotify_songs" / "spotify_songs.csv"
RESULTS = ROOT / "benchmarks" / "results" / "index.json"
WORK = ROOT / "benchmarks" / ".work"


def recall_at(found: np.ndarray, exact_kth: np.ndarray, k: int) -> float:
    """Share of the first k returned distances within the exact k-th distance (tie-aware)."""
    hits = (found[:, :k] <= exact_kth[:, None] * (1 + 1e-5) + 1e-6).sum(axis=1)
    return float(np.mean(hits / k))


def measure(  # noqa: PLR0915 - one measurement written top to bottom: build, time, check recall, report
    n: int,
    reference: Any,
    n_queries: int = 200,
    save_dir: Path | None = None,
    kind: str = "auto",
) -> dict[str, Any]:
    import faiss

    gc.collect()
    out: dict[str, Any] = {"tracks": n}
    t = time.perf_counter()
    catalogue = generate_catalogue(reference, n, seed=0)
    catalogue.feature_matrix()
    out["generate_s"] = round(time.perf_counter() - t, 2)

    rss0 = rss_mb()
    t = time.perf_counter()
    index = CatalogueIndex.build(catalogue, kind=kind)  # type: ignore[arg-type]
    out["build_s"] = round(time.perf_counter() - t, 2)
    out["kind"] = index.kind
    out["index_rss_mb"] = round(rss_mb() - rss0, 1)
    base = index._base  # the unit-weight FAISS index, as saved to index.faiss
    out["index_file_mb"] = round(len(faiss.serialize_index(base)) / 1e6, 1)
    if index.kind == "hnsw":
        out["hnsw"] = {
            "M": faiss_index.HNSW_M,
            "ef_construction": faiss_index.HNSW_EF_CONSTRUCTION,
            "ef_search_min": faiss_index.HNSW_EF_SEARCH,
        }

    names = index.feature_names
    weights = {f: FEATURE_WEIGHTS.get(f, 1.0) for f in names}
    columns = [FEATURES.index(f) for f in names]
    queries_raw, _ = synthetic_matrix(reference, n_queries, seed=12345)
    queries = queries_raw[:, columns]
    queries = np.where(np.isnan(queries), np.nanmedian(queries, axis=0), queries)

    # First weighted query: builds (and caches) the weighted view.
    t = time.perf_counter()
    index.search(queries[0], weights, k=10)
    out["first_weighted_query_ms"] = round((time.perf_counter() - t) * 1000, 1)

    sqrt_w = np.sqrt(np.array([weights[f] for f in names], dtype=np.float32))
    vectors = np.ascontiguousarray(index.scaled_features() * sqrt_w)
    qv = np.ascontiguousarray(index.scaler.transform(queries) * sqrt_w, dtype=np.float32)
    exact = faiss.IndexFlatL2(vectors.shape[1])
    exact.add(vectors)
    exact_d, _ = exact.search(qv, 300)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)  # as CatalogueIndex.search runs queries
    exact.search(qv[:1], 10)
    t = time.perf_counter()
    for q in qv[:50]:
        exact.search(q.reshape(1, -1), 10)
    out["exact_top10_ms"] = round((time.perf_counter() - t) / 50 * 1000, 2)
    faiss.omp_set_num_threads(threads)

    for k in (10, 300):
        times, dists = [], []
        for q in queries:
            t0 = time.perf_counter()
            _, d = index.search(q, weights, k=k)
            times.append((time.perf_counter() - t0) * 1000)
            dists.append(np.pad(d, (0, k - len(d)), constant_values=np.inf))
        found = np.stack(dists)
        out[f"top{k}_ms"] = summarise_ms(times)
        out[f"recall@{k}"] = round(recall_at(found, exact_d[:, k - 1], k), 4)
    del exact, vectors
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    if save_dir is not None:
        import shutil

        target = save_dir / f"synthetic-{n}"
        t = time.perf_counter()
        index.save(target)
        out["save_s"] = round(time.perf_counter() - t, 2)
        out["dir_mb"] = round(sum(f.stat().st_size for f in target.iterdir()) / 1e6, 1)
        del index, catalogue
        gc.collect()
        t = time.perf_counter()
        loaded = CatalogueIndex.load(target)
        out["load_s"] = round(time.perf_counter() - t, 2)
        del loaded
        shutil.rmtree(target)
    return out


DOC_START = "<!-- bench:index:start -->"
DOC_END = "<!-- bench:index:end -->"
DOCS = ROOT / "docs" / "performance.md"


def markdown(data: dict[str, Any]) -> str:
    m = data["machine"]
    lines = [
        f"Measured {m['date']} on {m['cpu_model']}, {m['cpus']} CPUs; 1-min load average "
        f"{m['load_average_at_start'][0]} at start. FAISS {m['faiss']}. Queries: 200 synthetic "
        "tracks (another seed) with the mapping's feature weights; recall against exact "
        "search over the same weighted vectors.",
        "",
        "| tracks | index | build (s) | index RSS (MB) | index file (MB) | top-10 p50 / p95 (ms) "
        "| recall@10 | top-300 p50 (ms) | recall@300 | exact top-10 (ms) | first weighted query (ms) "
        "| save / load (s) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in data["results"]:
        kind = r["kind"]
        if kind == "hnsw":
            kind += f" M={r['hnsw']['M']}, efC={r['hnsw']['ef_construction']}"
        save = f"{r['save_s']} / {r['load_s']}" if "load_s" in r else "–"
        lines.append(
            f"| {r['tracks']:,} | {kind} | {r['build_s']} | {r['index_rss_mb']} | "
            f"{r['index_file_mb']} | {r['top10_ms']['p50']} / {r['top10_ms']['p95']} | "
            f"{r['recall@10']} | {r['top300_ms']['p50']} | {r['recall@300']} | "
            f"{r['exact_top10_ms']} | {r['first_weighted_query_ms']} | {save} |"
        )
    return "\n".join(lines)


def update_docs(path: Path, data: dict[str, Any]) -> None:
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    block = f"{DOC_START}\n{markdown(data)}\n{DOC_END}"
    if DOC_START in text and DOC_END in text:
        head, rest = text.split(DOC_START, 1)
        text = head + block + rest.split(DOC_END, 1)[1]
    else:
        text = text + ("\n" if text else "") + block + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--no-save", action="store_true", help="skip timing save/load of the index directory"
    )
    parser.add_argument(
        "--docs-only", action="store_true", help="only re-render the docs table from --out"
    )
    args = parser.parse_args(argv)
    if args.docs_only:
        update_docs(DOCS, json.loads(args.out.read_text(encoding="utf-8")))
        return 0
    info = machine_info()
    print(
        f"machine: {info['cpu_model']}, {info['cpus']} cpus, load {info['load_average_at_start']}"
    )
    reference = load_reference(args.csv)
    rows = []
    for n in args.sizes:
        # what kind="auto" picks, and HNSW as well where auto is exact search
        kinds = ["auto"] if n > faiss_index.FLAT_MAX_TRACKS else ["auto", "hnsw"]
        for kind in kinds:
            row = measure(n, reference, save_dir=None if args.no_save else WORK, kind=kind)
            print(row, flush=True)
            rows.append(row)
    # keep earlier results for sizes not measured in this run
    if args.out.is_file():
        old = json.loads(args.out.read_text(encoding="utf-8")).get("results", [])
        rows = [r for r in old if r["tracks"] not in args.sizes] + rows
        rows.sort(key=lambda r: (r["tracks"], r["kind"] != "flat"))
    data = {"machine": info, "reference": str(args.csv), "results": rows}
    write_json(args.out, data)
    update_docs(DOCS, data)
    print(f"wrote {args.out} and the table in {DOCS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
