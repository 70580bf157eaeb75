"""Nearest-neighbour search over the catalogue's audio features, saved to and loaded from disk.

Every feature is first put on one scale (:mod:`.scaler`). A query then weighs features
(squared L2 distance becomes Σ wᵢ·Δᵢ²) and finds the nearest tracks with one of three index
kinds: ``flat`` (exact FAISS search, up to 200,000 songs), ``ivf`` (clusters over mapped
vectors, above that: :mod:`.ivf` applies the weights to the probed songs exactly) or ``hnsw``
(only when asked for: one FAISS graph walked with re-weighted vectors, :mod:`.faiss_index`).
For flat and HNSW the last 8 weight vectors' vectors are cached; callers reuse a few presets.
Saving and opening — a versioned directory of mapped files — is :mod:`.store` /
:mod:`.store_read`; removed songs (tombstones) are never returned.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tunelens.catalogue.columnar import ColumnarCatalogue, table_from_tracks
from tunelens.catalogue.derived import Arrays, derived_key, load_derived, save_derived
from tunelens.catalogue.faiss_index import (
    HNSW_EF_SEARCH,
    HnswView,
    new_faiss_index,
    search_nearest,
)
from tunelens.catalogue.index_files import TextEmbeddings
from tunelens.catalogue.ivf import IvfLists, train_centroids
from tunelens.catalogue.models import Catalogue
from tunelens.catalogue.scaler import FloatArray, RobustScaler
from tunelens.catalogue.store import StoreOptions, resolve_store_kind, write_store
from tunelens.catalogue.store_read import open_store
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
        kind: str,
        text: TextEmbeddings | None = None,
        base_index: Any = None,
    ) -> None:
        """Index ``catalogue`` on the scaler's features; ``base_index`` is what was opened:
        the FAISS index (flat/HNSW) or the :class:`IvfLists` (kind ``ivf``)."""
        self.catalogue = catalogue
        self.scaler = scaler
        self.feature_names: tuple[str, ...] = scaler.names
        self.kind = kind
        self.text_embeddings = text.vectors if text is not None else None
        self.text_model_id = text.model_id if text is not None else None
        self.meta: dict[str, Any] = {}
        #: the catalogue directory this index was opened from (None: built in memory)
        self.directory: Path | None = None
        self._columns = [FEATURES.index(name) for name in self.feature_names]
        dead = catalogue.dead if isinstance(catalogue, ColumnarCatalogue) else None
        # None when nothing was removed: searches then skip the per-candidate check, and the
        # count is taken once (a sum over 10M rows at every request costs milliseconds)
        self._dead = dead if dead is not None and dead.any() else None
        self._dead_count = 0 if self._dead is None else int(self._dead.sum())
        self._raw: FloatArray | None = None
        self._scaled: FloatArray | None = None
        self._lock = threading.Lock()
        # HNSW searches swap the graph's storage for weighted vectors: one at a time.
        self._search_lock = threading.Lock()
        self._cache: OrderedDict[bytes, Any] = OrderedDict()
        self._ivf = base_index if isinstance(base_index, IvfLists) else None
        self._base: Any = None
        if kind == "ivf":
            if self._ivf is None:
                scaled = self.scaled_features()
                self._ivf = IvfLists.build(train_centroids(scaled), scaled)
            return
        self._base = (
            base_index
            if base_index is not None
            else new_faiss_index(self.scaled_features(), "hnsw" if kind == "hnsw" else "flat")
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
        kind: str = "auto",
    ) -> CatalogueIndex:
        """Fit the scaler on ``catalogue`` and build the unit-weight index."""
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
        resolved = resolve_store_kind(kind, len(catalogue))
        return cls(catalogue, scaler, kind=resolved, text=text)

    def __len__(self) -> int:
        return len(self.catalogue)

    @property
    def live_count(self) -> int:
        """Songs that can be recommended (rows minus removed ones)."""
        return len(self) - self._dead_count

    @property
    def features(self) -> tuple[str, ...]:
        """The indexed feature names (alias of :attr:`feature_names`)."""
        return self.feature_names

    @property
    def catalogue_hash(self) -> str:
        """The one hash naming this catalogue: ``catalogue_hash`` of ``meta.json`` (and of the
        index header, ``catalog build``/``info``) once saved or opened, else the content hash
        the store would record for these tracks."""
        value = self.meta.get("catalogue_hash")
        return value if isinstance(value, str) else self.catalogue.content_hash()

    @property
    def version(self) -> int | None:
        """The catalogue version this index was opened at (None: built in memory)."""
        value = self.meta.get("version")
        return value if isinstance(value, int) else None

    # ------------------------------------------------------------------ features

    def raw_features(self) -> FloatArray:
        """(N, F) raw features in :attr:`feature_names` order, NaN = unknown (read-only).

        Every row is read: a large catalogue's callers use :meth:`raw_rows` instead."""
        if self._raw is None:
            raw = np.ascontiguousarray(self.catalogue.feature_matrix()[:, self._columns])
            raw.flags.writeable = False
            self._raw = raw
        return self._raw

    def scaled_features(self) -> FloatArray:
        """(N, F) scaled features at unit weight (read-only); see :meth:`scaled_rows`."""
        if self._scaled is None:
            scaled = self.scaler.transform(self.raw_features())
            scaled.flags.writeable = False
            self._scaled = scaled
        return self._scaled

    def raw_rows(self, rows: NDArray[np.int64]) -> FloatArray:
        """Raw features of some rows only (the others' pages are never touched)."""
        if self._raw is not None or not isinstance(self.catalogue, ColumnarCatalogue):
            return np.asarray(self.raw_features()[rows], dtype=np.float32)
        return np.asarray(self.catalogue.feature_rows(rows)[:, self._columns], dtype=np.float32)

    def scaled_rows(self, rows: NDArray[np.int64]) -> FloatArray:
        """Scaled features (unit weight) of some rows only."""
        if self._scaled is not None:
            return np.asarray(self._scaled[rows], dtype=np.float32)
        return self.scaler.transform(self.raw_rows(rows))

    def sample_rows(self, limit: int, seed: int = 0) -> NDArray[np.int64]:
        """Up to ``limit`` live rows, evenly spread, for statistics of a large catalogue."""
        live = np.arange(len(self)) if self._dead is None else np.flatnonzero(~self._dead)
        if len(live) <= limit:
            return live.astype(np.int64)
        rng = np.random.default_rng(seed)
        return np.sort(rng.choice(live, limit, replace=False)).astype(np.int64)

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

    def derived(self, name: str, inputs: bytes, compute: Callable[[], Arrays]) -> Arrays:
        """``compute()`` (named arrays), or what an earlier process stored for this catalogue
        version and the same ``inputs`` (:mod:`.derived`); stored for the next start when
        computed here. ``inputs`` must hold everything besides the catalogue the arrays
        depend on."""
        if self.directory is None or self.version is None:
            return compute()
        key = derived_key(self.catalogue_hash, self.version, inputs)
        found = load_derived(self.directory, name, key)
        if found is not None:
            return found
        value = compute()
        save_derived(self.directory, name, key, value)
        return value

    # ------------------------------------------------------------------ queries

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
        vectors = np.ascontiguousarray(self.scaled_features() * sqrt_w, dtype=np.float32)
        index: Any
        if self.kind == "hnsw":
            index = HnswView(self._base, vectors, self._search_lock)
        else:
            index = new_faiss_index(vectors, "flat")
        with self._lock:
            self._cache[key] = index
            while len(self._cache) > _WEIGHTED_CACHE_SIZE:
                self._cache.popitem(last=False)
        return index

    def _nearest(
        self, query: FloatArray, w: NDArray[np.float64], wanted: int
    ) -> tuple[FloatArray, NDArray[np.int64]]:
        """(distances, rows) of the ``wanted`` nearest live rows to one scaled query."""
        if self._ivf is not None:
            return self._ivf.search(query, w, wanted, self._dead)
        dead = self._dead_count
        sqrt_w = np.sqrt(w).astype(np.float32)
        weighted = (query * sqrt_w).reshape(1, -1).astype(np.float32)
        hnsw_lock = self._search_lock if self.kind == "hnsw" else None
        index = self._weighted_index(sqrt_w)
        distances, labels = search_nearest(
            index, weighted, min(len(self), wanted + dead), hnsw_lock=hnsw_lock
        )
        labels = labels[0].astype(np.int64)
        keep = labels >= 0
        if dead:
            keep &= ~self._dead[np.maximum(labels, 0)]  # type: ignore[index]
        return distances[0][keep][:wanted].astype(np.float32), labels[keep][:wanted]

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
        return (already shown, disliked); removed songs are never returned. Returns (row
        indices, squared weighted distances), nearest first, possibly fewer than ``k`` when
        the catalogue is small.
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
        query = self.scaler.transform(target)
        excluded = {i for i in (exclude or set()) if 0 <= i < len(self)}
        wanted = min(len(self), k + len(excluded))
        distances, labels = self._nearest(query, w, wanted)
        if not excluded:
            return labels[:k].astype(np.int64), distances[:k].astype(np.float32)
        keep = [j for j, label in enumerate(labels) if int(label) not in excluded][:k]
        return labels[keep].astype(np.int64), distances[keep].astype(np.float32)

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
        w = self._weight_vector(weights)
        scaled = self.scaler.transform(queries)
        k = min(k, len(self))
        if self._ivf is not None or self._dead is not None:
            out = np.full((len(scaled), k), -1, dtype=np.int64)
            for i, query in enumerate(scaled):
                rows = self._nearest(query, w, k)[1]
                out[i, : len(rows)] = rows
            return out
        sqrt_w = np.sqrt(w).astype(np.float32)
        query = np.ascontiguousarray(scaled * sqrt_w, dtype=np.float32)
        index = self._weighted_index(sqrt_w)
        hnsw_lock = self._search_lock if self.kind == "hnsw" else None
        _, labels = search_nearest(index, query, k, hnsw_lock=hnsw_lock)
        return np.asarray(labels, dtype=np.int64)

    # ------------------------------------------------------------------ persistence

    def save(self, directory: str | Path, *, build_info: Mapping[str, Any] | None = None) -> Path:
        """Write the index as a new version of the catalogue at ``directory``; returns it.

        A non-empty directory that is not a catalogue is refused, so a mistyped ``-o ~``
        cannot delete anything. ``build_info`` (source, counts, timings) is stored in
        ``meta.json`` under ``"build"`` for ``catalog info``.
        """
        if isinstance(self.catalogue, ColumnarCatalogue):
            table = self.catalogue.table.filter(np.asarray(~self.catalogue.dead))
        else:
            table = table_from_tracks(self.catalogue)
        text = None
        if self.text_embeddings is not None and self.text_model_id is not None:
            text = (self.text_embeddings, self.text_model_id)
        build = build_info if build_info is not None else self.meta.get("build")
        options = StoreOptions(
            features=self.feature_names,
            kind=self.kind,
            scaler=self.scaler,
            text=text,
            build_info=build,
        )
        self.meta = write_store(directory, table, options)
        # self.directory stays as it was: the rows written (live ones only) may be numbered
        # differently from this object's, so nothing derived here may be stored for them
        return Path(directory).expanduser().resolve()

    def _unit_key(self) -> bytes:
        return np.ones(len(self.feature_names), dtype=np.float32).tobytes()

    @classmethod
    def load(
        cls, directory: str | Path, *, expected_text_model_id: str | None = None
    ) -> CatalogueIndex:
        """Open the current version of the catalogue written by :meth:`save` (mapped).

        Raises CatalogError ``catalog_missing`` (no index there), ``catalog_outdated`` (an
        older format: ``tunelens catalog upgrade DIR``), ``index_corrupt`` (unreadable files)
        or ``index_mismatch`` (files disagree with ``meta.json``, or a text model other than
        ``expected_text_model_id``).
        """
        root = Path(directory).expanduser()
        contents = open_store(root, expected_text_model_id=expected_text_model_id)
        text = None if contents.text is None else TextEmbeddings(*contents.text)
        if contents.kind == "hnsw":
            contents.base.hnsw.efSearch = HNSW_EF_SEARCH
        index = cls(
            contents.catalogue,
            contents.scaler,
            kind=contents.kind,
            text=text,
            base_index=contents.ivf if contents.ivf is not None else contents.base,
        )
        index.meta = contents.meta
        index.directory = root
        return index
