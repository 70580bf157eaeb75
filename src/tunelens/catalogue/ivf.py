"""An inverted-file index over memory-mapped vectors, searched with per-request weights.

Above :data:`~tunelens.catalogue.faiss_index.FLAT_MAX_TRACKS` songs exact search is too slow
and an HNSW graph too big to keep one per machine (10M songs × M=32 links ≈ 2.6 GB on top of
the vectors, and a graph build of about an hour). Here the scaled vectors are clustered once
(FAISS k-means on a sample) and stored *sorted by cluster*, so each cluster's songs are one
contiguous slice of a mapped ``.npy`` file. A query:

1. ranks the centroids by the query's *weighted* distance Σ wᵢ (qᵢ − cᵢ)² and keeps the
   ``nprobe`` nearest (a re-weighted query may land in other clusters than an unweighted one);
2. reads those slices (only their pages are touched) and computes the exact weighted distance
   to every song in them — the per-request weights are applied here, so no re-weighted copy of
   the catalogue is ever made;
3. adds the *delta*: songs appended by ``catalog add`` since the clustering, scanned
   exhaustively until a compaction sorts them into their clusters (centroids are kept, so the
   clusters stay stable as the catalogue grows); removed songs (tombstones) are skipped.

Recall against exact search is measured in ``benchmarks/catalog_scale.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import faiss
import numpy as np
from numpy.typing import NDArray

from tunelens.catalogue.scaler import FloatArray

__all__ = ["DEFAULT_NPROBE", "IvfLists", "list_count", "train_centroids"]

#: clusters read per query: recall@10 against exact search 0.981 at 1M songs and 0.992 at
#: 10M with 12 (24 reads twice the songs for 0.995 / 0.998; 8 gives 0.972 / 0.975), measured
#: by benchmarks/catalog_scale.py; see docs/performance.md
DEFAULT_NPROBE = 12
MAX_LISTS = 4096
_TRAIN_PER_LIST = 64


def list_count(n: int) -> int:
    """Clusters for ``n`` songs: ≈ 4·√n (a few hundred to a few thousand songs each), ≤ 4096."""
    return int(min(MAX_LISTS, max(1, int(4 * math.sqrt(max(n, 1))))))


def train_centroids(scaled: FloatArray, *, seed: int = 0) -> FloatArray:
    """k-means centroids of (a sample of) the unit-weight scaled vectors."""
    n, dim = scaled.shape
    lists = max(1, min(list_count(n), n // 40))  # k-means wants ≥ 39 points per cluster
    rng = np.random.default_rng(seed)
    sample_size = min(n, lists * _TRAIN_PER_LIST)
    sample = scaled if sample_size == n else scaled[np.sort(rng.choice(n, sample_size, False))]
    kmeans = faiss.Kmeans(dim, lists, niter=12, seed=seed, verbose=False)
    kmeans.train(np.ascontiguousarray(sample, dtype=np.float32))
    return np.ascontiguousarray(kmeans.centroids, dtype=np.float32)


def assign(centroids: FloatArray, scaled: FloatArray, batch: int = 262_144) -> NDArray[np.int64]:
    """The nearest centroid of every vector (unit weights), in batches to bound memory."""
    quantizer = faiss.IndexFlatL2(centroids.shape[1])
    quantizer.add(centroids)
    out = np.empty(scaled.shape[0], dtype=np.int64)
    for start in range(0, scaled.shape[0], batch):
        part = np.ascontiguousarray(scaled[start : start + batch], dtype=np.float32)
        _, labels = quantizer.search(part, 1)
        out[start : start + len(part)] = labels[:, 0]
    return out


@dataclass(frozen=True)
class IvfLists:
    """Clusters of the first ``len(rows)`` catalogue rows (see the module doc).

    ``vectors[offsets[c]:offsets[c+1]]`` are cluster ``c``'s scaled vectors and ``rows`` the
    catalogue row of each; ``delta_rows``/``delta_vectors`` are the rows added since.
    """

    centroids: FloatArray
    offsets: NDArray[np.int64]
    rows: NDArray[np.int64]
    vectors: FloatArray
    delta_rows: NDArray[np.int64]
    delta_vectors: FloatArray
    nprobe: int = DEFAULT_NPROBE

    @classmethod
    def build(cls, centroids: FloatArray, scaled: FloatArray, first_row: int = 0) -> IvfLists:
        """Sort ``scaled`` (rows ``first_row…``) into the clusters of ``centroids``."""
        labels = assign(centroids, scaled)
        order = np.argsort(labels, kind="stable")
        counts = np.bincount(labels, minlength=len(centroids))
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(
            centroids=centroids,
            offsets=offsets,
            rows=(order + first_row).astype(np.int64),
            vectors=np.ascontiguousarray(scaled[order], dtype=np.float32),
            delta_rows=np.empty(0, dtype=np.int64),
            delta_vectors=np.empty((0, scaled.shape[1]), dtype=np.float32),
        )

    @property
    def covered(self) -> int:
        return len(self.rows)

    def with_delta(self, rows: NDArray[np.int64], vectors: FloatArray) -> IvfLists:
        return IvfLists(
            self.centroids, self.offsets, self.rows, self.vectors, rows, vectors, self.nprobe
        )

    def _probed(self, query: NDArray[np.float64], w: NDArray[np.float64]) -> NDArray[np.int64]:
        """The ``nprobe`` clusters nearest to ``query`` by weighted distance, ascending."""
        centre = ((self.centroids - query) ** 2) @ w
        probe = min(self.nprobe, len(centre))
        if probe >= len(centre):
            return np.arange(len(centre), dtype=np.int64)
        return np.sort(np.argpartition(centre, probe - 1)[:probe]).astype(np.int64)

    def _distances(
        self, query: NDArray[np.float64], w: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], FloatArray]:
        """Rows and weighted squared distances of the probed clusters' songs plus the delta.

        Each cluster's slice is read in place (no copy of the probed vectors is made)."""
        lists = self._probed(query, w)
        spans = [
            (int(s), int(e))
            for s, e in zip(self.offsets[lists], self.offsets[lists + 1], strict=True)
            if e > s
        ]
        q32, w32 = query.astype(np.float32), w.astype(np.float32)
        sizes = [e - s for s, e in spans] + [len(self.delta_rows)]
        dist = np.empty(sum(sizes), dtype=np.float32)
        pos = 0
        for block in [self.vectors[s:e] for s, e in spans] + [self.delta_vectors]:
            if len(block):
                diff = block - q32
                np.multiply(diff, diff, out=diff)
                dist[pos : pos + len(block)] = diff @ w32
                pos += len(block)
        rows = [self.rows[s:e] for s, e in spans]
        if len(self.delta_rows):
            rows.append(self.delta_rows)
        return (np.concatenate(rows) if rows else np.empty(0, dtype=np.int64)), dist

    def search(
        self,
        query: FloatArray,
        weights: NDArray[np.float64],
        k: int,
        skip: NDArray[np.bool_] | None,
    ) -> tuple[FloatArray, NDArray[np.int64]]:
        """(weighted squared distances, rows) of the ``k`` nearest, nearest first.

        ``query`` is scaled at unit weight; ``skip`` marks rows never to return (removed,
        excluded). Fewer than ``k`` come back when the probed clusters hold fewer songs.
        """
        q = np.asarray(query, dtype=np.float64).reshape(-1)
        rows, dist = self._distances(q, weights)
        if skip is not None and len(rows):
            dist[skip[rows]] = np.inf
        keep = min(k, len(rows))
        if keep <= 0:
            return np.empty(0, dtype=np.float32), np.empty(0, dtype=np.int64)
        top = np.argpartition(dist, keep - 1)[:keep] if keep < len(rows) else np.arange(len(rows))
        top = top[np.lexsort((rows[top], dist[top]))]
        top = top[np.isfinite(dist[top])]
        return dist[top].astype(np.float32), rows[top]
