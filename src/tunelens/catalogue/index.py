"""Nearest-neighbour search over the catalogue's audio features, saved to and loaded from disk.

Every feature is first put on one scale (:mod:`.scaler`). A query then weighs features
(``sqrt(w)`` per column, so squared L2 distance becomes Σ wᵢ·Δᵢ²) and FAISS finds the nearest
tracks (:mod:`.faiss_index`: which index kind, and how weighted queries reuse one HNSW graph).
The last 8 weight vectors' vectors are cached; callers should reuse a few weight presets.
Saving and loading — atomically, with every file checked against the others — is
:mod:`.index_files`.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tunelens.catalogue.faiss_index import (
    HNSW_EF_SEARCH,
    HnswView,
    IndexKind,
    ResolvedKind,
    new_faiss_index,
    resolve_kind,
    search_nearest,
)
from tunelens.catalogue.index_files import (
    IndexContents,
    TextEmbeddings,
    check_stored_vectors,
    index_meta,
    read_index_dir,
    write_index_dir,
)
from tunelens.catalogue.models import Catalogue
from tunelens.catalogue.scaler import FloatArray, RobustScaler
from tunelens.core.audio import FEATURES, MOOD_FEATURES
from tunelens.core.errors import CatalogError, InvalidRequest

__all__ = ["CatalogueIndex"]

_WEIGHTED_CACHE_SIZE = 8


class CatalogueIndex:
    """A catalogue plus everything needed to search it; build it, save it, load it."""

    def __init__(
        self,
        catalogue: Catalogue,
        scaler: RobustScaler,
        *,
        kind: ResolvedKind,
        text: TextEmbeddings | None = None,
        base_index: Any = None,
    ) -> None:
        """Index ``catalogue`` on the scaler's features; ``base_index`` is a loaded FAISS index."""
        self.catalogue = catalogue
        self.scaler = scaler
        self.feature_names: tuple[str, ...] = scaler.names
        self.kind: ResolvedKind = kind
        self.text_embeddings = text.vectors if text is not None else None
        self.text_model_id = text.model_id if text is not None else None
        self.meta: dict[str, Any] = {}
        columns = [FEATURES.index(name) for name in self.feature_names]
        self._raw = np.ascontiguousarray(catalogue.feature_matrix()[:, columns])
        scaled = scaler.transform(self._raw)
        scaled.flags.writeable = False
        self._scaled: FloatArray = scaled
        self._lock = threading.Lock()
        # HNSW searches swap the graph's storage for weighted vectors: one at a time.
        self._search_lock = threading.Lock()
        self._cache: OrderedDict[bytes, Any] = OrderedDict()
        self._base: Any = (
            base_index if base_index is not None else new_faiss_index(self._scaled, kind)
        )
        self._cache[self._unit_key()] = self._base

    # ------------------------------------------------------------------ construction

    @classmethod
    def build(
        cls,
        catalogue: Catalogue,
        *,
        features: Sequence[str] = MOOD_FEATURES,
        text_embeddings: FloatArray | None = None,
        text_model_id: str | None = None,
        kind: IndexKind = "auto",
    ) -> CatalogueIndex:
        """Fit the scaler on ``catalogue`` and build the unit-weight FAISS index."""
        unknown = [f for f in features if f not in FEATURES]
        if unknown or not features:
            raise InvalidRequest(
                f"unknown feature name(s) {unknown}; choose from {', '.join(FEATURES)}"
            )
        if len(catalogue) == 0:
            raise CatalogError("cannot index an empty catalogue", code="catalog_empty")
        text: TextEmbeddings | None = None
        if text_embeddings is not None:
            vectors = np.ascontiguousarray(text_embeddings, dtype=np.float32)
            if vectors.ndim != 2 or vectors.shape[0] != len(catalogue):
                raise ValueError(
                    f"text embeddings shape {vectors.shape} does not match {len(catalogue)} tracks"
                )
            if text_model_id is None:
                raise ValueError("text embeddings need the text_model_id that produced them")
            text = TextEmbeddings(vectors, text_model_id)
        columns = [FEATURES.index(name) for name in features]
        scaler = RobustScaler.fit(catalogue.feature_matrix()[:, columns], features)
        return cls(catalogue, scaler, kind=resolve_kind(kind, len(catalogue)), text=text)

    def __len__(self) -> int:
        return len(self.catalogue)

    @property
    def features(self) -> tuple[str, ...]:
        """The indexed feature names (alias of :attr:`feature_names`)."""
        return self.feature_names

    # ------------------------------------------------------------------ queries

    def scaled_features(self) -> FloatArray:
        """(N, F) scaled features at unit weight (read-only), for re-ranking."""
        return self._scaled

    def raw_features(self) -> FloatArray:
        """(N, F) raw features in :attr:`feature_names` order, NaN = unknown (read-only)."""
        return self._raw

    def vector(self, values: Mapping[str, float | None]) -> FloatArray:
        """A raw (F,) target from a name → value mapping; absent names become NaN."""
        return np.array(
            [
                math.nan if (v := values.get(name)) is None else float(v)
                for name in self.feature_names
            ],
            dtype=np.float32,
        )

    def text_embeddings_for(self, model_id: str) -> FloatArray | None:
        """The stored track-text embeddings if they came from ``model_id``; else None."""
        if self.text_embeddings is not None and self.text_model_id == model_id:
            return self.text_embeddings
        return None

    def _weight_vector(self, weights: Mapping[str, float] | None) -> NDArray[np.float64]:
        w = np.ones(len(self.feature_names), dtype=np.float64)
        if not weights:
            return w
        # A Spotify feature this index was built without is ignored (the mapping may weigh
        # more features than an operator chose to index); a name that is no feature at all
        # is a typo and is refused rather than silently weighing nothing.
        unknown = [name for name in weights if name not in FEATURES]
        if unknown:
            raise InvalidRequest(
                f"weights name unknown feature(s) {unknown}; the index has "
                f"{', '.join(self.feature_names)}"
            )
        for name, value in weights.items():
            if not math.isfinite(value) or value < 0:
                raise InvalidRequest(f"weight for {name} must be a finite number ≥ 0")
            if name in self.feature_names:
                w[self.feature_names.index(name)] = value
        return w

    def _weighted_index(self, sqrt_w: FloatArray) -> Any:
        key = sqrt_w.tobytes()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        # Built outside the lock: a duplicate build under contention is cheaper than
        # serialising every search behind one build.
        vectors = np.ascontiguousarray(self._scaled * sqrt_w, dtype=np.float32)
        index: Any
        if self.kind == "hnsw":
            index = HnswView(self._base, vectors, self._search_lock)
        else:
            index = new_faiss_index(vectors, self.kind)
        with self._lock:
            self._cache[key] = index
            while len(self._cache) > _WEIGHTED_CACHE_SIZE:
                self._cache.popitem(last=False)
        return index

    def search(
        self,
        target: NDArray[np.floating[Any]],
        weights: Mapping[str, float] | None = None,
        k: int = 10,
        exclude: set[int] | None = None,
    ) -> tuple[NDArray[np.int64], FloatArray]:
        """The ``k`` nearest tracks to ``target`` (raw units, :attr:`feature_names` order).

        Features absent from ``weights`` weigh 1 (weights for Spotify features the index
        lacks are ignored); a NaN in ``target`` means "no preference" and drops that feature
        from this query. ``exclude`` holds row indices never to
        return (already shown, disliked). Returns (row indices, squared weighted distances),
        nearest first, possibly fewer than ``k`` when the catalogue is small.
        """
        if k <= 0:
            raise InvalidRequest(f"k must be positive, got {k}")
        target = np.asarray(target, dtype=np.float64).reshape(-1)
        if target.shape[0] != len(self.feature_names):
            raise InvalidRequest(
                f"target has {target.shape[0]} values; the index expects "
                f"{len(self.feature_names)} ({', '.join(self.feature_names)})"
            )
        if np.isinf(target).any():
            raise InvalidRequest("target features must be finite (NaN = no preference)")
        w = self._weight_vector(weights)
        w[np.isnan(target)] = 0.0
        sqrt_w = np.sqrt(w).astype(np.float32)
        query = (self.scaler.transform(target) * sqrt_w).reshape(1, -1)
        excluded = {i for i in (exclude or set()) if 0 <= i < len(self)}
        wanted = min(len(self), k + len(excluded))
        index = self._weighted_index(sqrt_w)
        hnsw_lock = self._search_lock if self.kind == "hnsw" else None
        distances, labels = search_nearest(index, query, wanted, hnsw_lock=hnsw_lock)
        keep = [
            j for j, label in enumerate(labels[0]) if label >= 0 and int(label) not in excluded
        ][:k]
        return (
            labels[0][keep].astype(np.int64),
            distances[0][keep].astype(np.float32),
        )

    def search_many(
        self, targets: NDArray[np.floating[Any]], weights: Mapping[str, float] | None, k: int
    ) -> NDArray[np.int64]:
        """Rows of the ``k`` nearest tracks to each of many targets at once, (T, k), nearest
        first (-1 where the catalogue is smaller than ``k``). Targets are raw, without NaN
        (one query for many targets, e.g. to measure which songs are near many moods)."""
        if k <= 0:
            raise InvalidRequest(f"k must be positive, got {k}")
        queries = np.asarray(targets, dtype=np.float64)
        if queries.ndim != 2 or queries.shape[1] != len(self.feature_names):
            raise InvalidRequest(
                f"targets have shape {queries.shape}; the index expects (T, "
                f"{len(self.feature_names)})"
            )
        if not np.isfinite(queries).all():
            raise InvalidRequest("targets must be finite")
        sqrt_w = np.sqrt(self._weight_vector(weights)).astype(np.float32)
        query = np.ascontiguousarray(self.scaler.transform(queries) * sqrt_w, dtype=np.float32)
        index = self._weighted_index(sqrt_w)
        hnsw_lock = self._search_lock if self.kind == "hnsw" else None
        _, labels = search_nearest(index, query, min(k, len(self)), hnsw_lock=hnsw_lock)
        return np.asarray(labels, dtype=np.int64)

    # ------------------------------------------------------------------ persistence

    def _contents(self) -> IndexContents:
        text = None
        if self.text_embeddings is not None and self.text_model_id is not None:
            text = TextEmbeddings(self.text_embeddings, self.text_model_id)
        return IndexContents(self.catalogue, self.scaler, self.kind, self._base, text=text)

    def save(self, directory: str | Path, *, build_info: Mapping[str, Any] | None = None) -> Path:
        """Write the index to ``directory`` atomically (temp dir + rename); returns it.

        An existing index there is replaced; a non-empty directory that is not an index is
        refused, so a mistyped ``-o ~`` cannot delete anything. ``build_info`` (source,
        counts, timings) is stored in ``meta.json`` under ``"build"`` for ``catalog info``.
        """
        contents = self._contents()
        build = build_info if build_info is not None else self.meta.get("build")
        meta = index_meta(contents, build)
        target = write_index_dir(directory, dataclasses.replace(contents, meta=meta))
        self.meta = meta
        return target

    def _unit_key(self) -> bytes:
        return np.ones(len(self.feature_names), dtype=np.float32).tobytes()

    @classmethod
    def load(
        cls, directory: str | Path, *, expected_text_model_id: str | None = None
    ) -> CatalogueIndex:
        """Load and verify an index written by :meth:`save`.

        Raises CatalogError ``catalog_missing`` (no index there), ``index_corrupt``
        (unreadable files) or ``index_mismatch`` (files disagree with ``meta.json``, another
        format version, or a text model other than ``expected_text_model_id``).
        """
        root = Path(directory).expanduser()
        contents = read_index_dir(root, expected_text_model_id=expected_text_model_id)
        index = cls(
            contents.catalogue,
            contents.scaler,
            kind=contents.kind,
            text=contents.text,
            base_index=contents.base,
        )
        index.meta = contents.meta
        if contents.kind == "hnsw":
            contents.base.hnsw.efSearch = HNSW_EF_SEARCH
        check_stored_vectors(root, contents.base, index.scaled_features())
        return index
