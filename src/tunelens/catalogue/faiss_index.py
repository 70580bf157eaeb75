"""The FAISS side of the catalogue index: which index kind, how it is built and searched.

Index choice by size (``kind="auto"``): exact ``IndexFlatL2`` up to :data:`FLAT_MAX_TRACKS`
(200,000 tracks: ≈ 1.2 ms per single-threaded query here; exact search grows linearly, ≈ 7 ms
at 1M), HNSW above it (M=32, efConstruction=80, efSearch=max(128, k): ≈ 0.3 ms per query at
1M with recall@10 ≈ 0.99 against exact search; build ≈ 1 minute; see docs/performance.md).
Queries run FAISS single-threaded (see :func:`single_thread`).

Weighted queries: flat indexes for a new weight vector are just a scaled copy of the
vectors. An HNSW graph takes minutes to build at a million tracks, so it is built once, over
the unit-weight vectors, and a query with other weights walks *the same graph* with a
distance computed on the re-weighted vectors (:class:`HnswView`: the graph's storage is
swapped for a re-weighted flat copy for the duration of the search, under a lock).
Re-weighting only stretches the axes (by at most a few times), so the unit-weight graph stays
a good navigable graph for it; recall is measured in ``benchmarks/bench_index.py``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any, Literal

import faiss
import numpy as np

from tunelens.catalogue.scaler import FloatArray
from tunelens.core.errors import InvalidRequest

__all__ = [
    "FLAT_MAX_TRACKS",
    "HNSW_EF_CONSTRUCTION",
    "HNSW_EF_SEARCH",
    "HNSW_M",
    "HnswView",
    "IndexKind",
    "ResolvedKind",
    "new_faiss_index",
    "resolve_kind",
    "search_nearest",
    "single_thread",
]

#: Above this many tracks ``kind="auto"`` switches from exact search to HNSW.
FLAT_MAX_TRACKS = 200_000
HNSW_M = 32
HNSW_EF_SEARCH = 128
HNSW_EF_CONSTRUCTION = 80

IndexKind = Literal["auto", "flat", "hnsw"]
ResolvedKind = Literal["flat", "hnsw"]


def resolve_kind(kind: IndexKind | str, n: int) -> ResolvedKind:
    """The concrete kind for ``n`` tracks; InvalidRequest for a kind that does not exist."""
    if kind == "auto":
        return "flat" if n <= FLAT_MAX_TRACKS else "hnsw"
    if kind in ("flat", "hnsw"):
        return "flat" if kind == "flat" else "hnsw"
    raise InvalidRequest(f"unknown index kind {kind!r}; use auto, flat or hnsw")


def new_faiss_index(vectors: FloatArray, kind: ResolvedKind) -> Any:
    """A FAISS index of ``kind`` holding ``vectors`` (N, F)."""
    dim = vectors.shape[1]
    index: Any
    if kind == "flat":
        index = faiss.IndexFlatL2(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_M)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    if vectors.shape[0]:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run FAISS single-threaded for one query, in this thread only.

    A single query gains nothing from OpenMP, and libgomp's worker threads keep spinning for
    a while after each parallel region, stealing the cores ONNX Runtime needs for the next
    photo (measured: the image encoder went from ≈51 to ≈69 ms per call on two cores).
    ``omp_set_num_threads`` sets the calling thread's value only, so index builds in other
    threads keep all cores.
    """
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


class HnswView:
    """The unit-weight HNSW graph searched with re-weighted vectors (see the module doc).

    FAISS reads ``storage`` at search time, so pointing the graph at a re-weighted flat copy
    for one search and restoring it afterwards gives weighted distances over the shared
    graph, at the memory cost of the vectors only (N × F floats, not another graph).
    """

    def __init__(self, base: Any, vectors: FloatArray, lock: threading.Lock) -> None:
        self._base = base
        self._lock = lock
        self._storage = faiss.IndexFlatL2(vectors.shape[1])
        self._storage.add(vectors)
        self.ntotal = int(base.ntotal)

    def search(self, query: FloatArray, k: int, params: Any) -> tuple[Any, Any]:
        with self._lock:
            original = self._base.storage
            self._base.storage = self._storage
            try:
                return self._base.search(query, k, params=params)  # type: ignore[no-any-return]
            finally:
                self._base.storage = original


def search_nearest(
    index: Any, query: FloatArray, wanted: int, *, hnsw_lock: threading.Lock | None
) -> tuple[Any, Any]:
    """(distances, labels) of the ``wanted`` nearest rows, single-threaded.

    ``hnsw_lock`` is given for HNSW indexes (searches on the shared graph take it); efSearch
    grows with ``wanted`` so a long exclusion list cannot starve the result.
    """
    with single_thread():
        if hnsw_lock is None:
            return index.search(query, wanted)  # type: ignore[no-any-return]
        faiss_module: Any = faiss  # the bundled stubs lack SearchParametersHNSW
        params = faiss_module.SearchParametersHNSW()
        params.efSearch = max(HNSW_EF_SEARCH, wanted)
        if isinstance(index, HnswView):
            return index.search(query, wanted, params)
        with hnsw_lock:
            return index.search(query, wanted, params=params)  # type: ignore[no-any-return]
