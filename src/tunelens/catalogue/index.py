"""Nearest-neighbour search over the catalogue's audio features, saved to and loaded from disk.

Features live in very different units (tempo ~120 BPM, loudness ~−7 dB, valence 0–1), so
every feature is put on one scale first with a :class:`RobustScaler` — median and
inter-quartile range, which outliers such as a 4-second track or a −46 dB ambient piece do
not distort the way mean/std would. A query then weighs features (``sqrt(w)`` per column, so
squared L2 distance becomes Σ wᵢ·Δᵢ²) and FAISS finds the nearest tracks.

Index choice by size (``kind="auto"``): exact ``IndexFlatL2`` up to :data:`FLAT_MAX_TRACKS`
(200,000 tracks: ≈ 1.2 ms per single-threaded query here; exact search grows linearly, ≈ 7 ms
at 1M), HNSW above it (M=32, efConstruction=80, efSearch=max(128, k): ≈ 0.3 ms per query at
1M with recall@10 ≈ 0.99 against exact search; build ≈ 1 minute; see docs/performance.md).
Queries run FAISS single-threaded (see :func:`_single_thread`).

Weighted queries: flat indexes for a new weight vector are just a scaled copy of the
vectors. An HNSW graph takes minutes to build at a million tracks, so it is built once, over
the unit-weight vectors, and a query with other weights walks *the same graph* with a
distance computed on the re-weighted vectors (the graph's storage is swapped for a
re-weighted flat copy for the duration of the search, under a lock). Re-weighting only
stretches the axes (by at most a few times), so the unit-weight graph stays a good navigable
graph for it; recall is measured in ``benchmarks/bench_index.py``. The last 8 weight vectors'
vectors are cached; callers should reuse a few weight presets.

An index directory holds::

    meta.json            format version, catalogue hash, features, scaler, text model, …
    tracks.jsonl         one Track per line (Track.to_dict)
    features.npy         (N, 13) float32 raw features, NaN = unknown
    index.faiss          the FAISS index over the scaled features at unit weights
    text_embeddings.npy  (N, D) float32 track-text embeddings (only with a text encoder)

It is written to a temporary sibling directory and renamed into place, so a crash never
leaves half an index; on load the catalogue hash is recomputed from both ``tracks.jsonl`` and
``features.npy`` and compared with ``meta.json``, so a hand-edited or mixed-up file is refused
instead of silently recommending against the wrong numbers.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from tunelens import __version__
from tunelens.catalogue.models import Catalogue, Track, canonical_feature_matrix, content_hash_of
from tunelens.core.audio import FEATURES, MOOD_FEATURES
from tunelens.core.errors import CatalogError, InvalidRequest

FORMAT_VERSION = 1
#: Above this many tracks ``kind="auto"`` switches from exact search to HNSW.
FLAT_MAX_TRACKS = 200_000
HNSW_M = 32
HNSW_EF_SEARCH = 128
HNSW_EF_CONSTRUCTION = 80
_WEIGHTED_CACHE_SIZE = 8

IndexKind = Literal["auto", "flat", "hnsw"]
FloatArray = NDArray[np.float32]

TRACKS_FILE = "tracks.jsonl"
FEATURES_FILE = "features.npy"
META_FILE = "meta.json"
FAISS_FILE = "index.faiss"
TEXT_FILE = "text_embeddings.npy"

_REBUILD_HINT = "rebuild it with `tunelens catalog build SOURCE -o DIR`"


def _missing_message(directory: Path) -> str:
    return (
        f"no catalogue index at {directory}. Build one with `tunelens catalog build SOURCE -o "
        f"{directory}` (SOURCE: a Spotify-style CSV, JSON Lines or a folder of audio files), "
        "or download the Spotify 30k catalogue with `tunelens catalog fetch spotify-30k`"
    )


@dataclass(frozen=True)
class RobustScaler:
    """Per-feature ``(x − median) / IQR`` over the known values; unknown → the median (0).

    Imputing the median makes an unknown feature neutral: it neither attracts nor repels.
    A feature with no spread (IQR 0, e.g. ``time_signature`` is almost always 4) or no known
    values gets scale 1 so it cannot blow up into huge distances.
    """

    names: tuple[str, ...]
    median: tuple[float, ...]
    scale: tuple[float, ...]

    @classmethod
    def fit(cls, matrix: NDArray[np.floating[Any]], names: Sequence[str]) -> RobustScaler:
        """Fit on ``matrix`` (N, F) whose columns are ``names``; NaN = unknown."""
        if matrix.ndim != 2 or matrix.shape[1] != len(names):
            raise ValueError(f"matrix shape {matrix.shape} does not match {len(names)} names")
        medians: list[float] = []
        scales: list[float] = []
        for j in range(matrix.shape[1]):
            column = matrix[:, j]
            known = column[~np.isnan(column)].astype(np.float64)
            if known.size == 0:
                medians.append(0.0)
                scales.append(1.0)
                continue
            q1, med, q3 = np.percentile(known, [25.0, 50.0, 75.0])
            iqr = float(q3 - q1)
            medians.append(float(med))
            scales.append(iqr if iqr > 1e-12 else 1.0)
        return cls(tuple(names), tuple(medians), tuple(scales))

    def transform(self, matrix: NDArray[np.floating[Any]]) -> FloatArray:
        """Scale (N, F) or (F,) raw values; NaN becomes 0 (the median)."""
        values = np.asarray(matrix, dtype=np.float64)
        if values.shape[-1] != len(self.names):
            raise ValueError(f"expected {len(self.names)} features, got {values.shape[-1]}")
        scaled = (values - np.asarray(self.median)) / np.asarray(self.scale)
        out: FloatArray = np.nan_to_num(scaled, nan=0.0).astype(np.float32)
        return out

    def inverse_transform(self, scaled: NDArray[np.floating[Any]]) -> FloatArray:
        """Back to raw units (for explaining a scaled target)."""
        values = np.asarray(scaled, dtype=np.float64)
        out: FloatArray = (values * np.asarray(self.scale) + np.asarray(self.median)).astype(
            np.float32
        )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form stored in ``meta.json``."""
        return {"names": list(self.names), "median": list(self.median), "scale": list(self.scale)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RobustScaler:
        """Inverse of :meth:`to_dict`; ValueError when the shape is wrong."""
        names = tuple(str(n) for n in data["names"])
        median = tuple(float(m) for m in data["median"])
        scale = tuple(float(s) for s in data["scale"])
        if not len(names) == len(median) == len(scale):
            raise ValueError("scaler names/median/scale lengths differ")
        if not all(math.isfinite(s) and s > 0 for s in scale):
            raise ValueError("scaler scales must be positive")
        return cls(names, median, scale)


def _resolve_kind(kind: IndexKind | str, n: int) -> Literal["flat", "hnsw"]:
    if kind == "auto":
        return "flat" if n <= FLAT_MAX_TRACKS else "hnsw"
    if kind in ("flat", "hnsw"):
        return "flat" if kind == "flat" else "hnsw"
    raise InvalidRequest(f"unknown index kind {kind!r}; use auto, flat or hnsw")


def _faiss_index(vectors: FloatArray, kind: Literal["flat", "hnsw"]) -> Any:
    import faiss

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
def _single_thread() -> Iterator[None]:
    """Run FAISS single-threaded for one query, in this thread only.

    A single query gains nothing from OpenMP, and libgomp's worker threads keep spinning for
    a while after each parallel region, stealing the cores ONNX Runtime needs for the next
    photo (measured: the image encoder went from ≈51 to ≈69 ms per call on two cores).
    ``omp_set_num_threads`` sets the calling thread's value only, so index builds in other
    threads keep all cores.
    """
    import faiss

    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


class _HnswView:
    """The unit-weight HNSW graph searched with re-weighted vectors (see the module doc).

    FAISS reads ``storage`` at search time, so pointing the graph at a re-weighted flat copy
    for one search and restoring it afterwards gives weighted distances over the shared
    graph, at the memory cost of the vectors only (N × F floats, not another graph).
    """

    def __init__(self, base: Any, vectors: FloatArray, lock: threading.Lock) -> None:
        import faiss

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


class CatalogueIndex:
    """A catalogue plus everything needed to search it; build it, save it, load it."""

    def __init__(
        self,
        catalogue: Catalogue,
        scaler: RobustScaler,
        features: Sequence[str],
        *,
        kind: Literal["flat", "hnsw"],
        text_embeddings: FloatArray | None = None,
        text_model_id: str | None = None,
        meta: Mapping[str, Any] | None = None,
        base_index: Any = None,
    ) -> None:
        self.catalogue = catalogue
        self.scaler = scaler
        self.feature_names: tuple[str, ...] = tuple(features)
        self.kind: Literal["flat", "hnsw"] = kind
        self.text_embeddings = text_embeddings
        self.text_model_id = text_model_id
        self.meta: dict[str, Any] = dict(meta or {})
        columns = [FEATURES.index(name) for name in self.feature_names]
        self._raw = np.ascontiguousarray(catalogue.feature_matrix()[:, columns])
        scaled = scaler.transform(self._raw)
        scaled.flags.writeable = False
        self._scaled: FloatArray = scaled
        self._lock = threading.Lock()
        # HNSW searches swap the graph's storage for weighted vectors: one at a time.
        self._search_lock = threading.Lock()
        self._cache: OrderedDict[bytes, Any] = OrderedDict()
        self._base: Any = base_index if base_index is not None else _faiss_index(self._scaled, kind)
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
        if text_embeddings is not None:
            text_embeddings = np.ascontiguousarray(text_embeddings, dtype=np.float32)
            if text_embeddings.ndim != 2 or text_embeddings.shape[0] != len(catalogue):
                raise ValueError(
                    f"text embeddings shape {text_embeddings.shape} does not match "
                    f"{len(catalogue)} tracks"
                )
            if text_model_id is None:
                raise ValueError("text embeddings need the text_model_id that produced them")
        columns = [FEATURES.index(name) for name in features]
        scaler = RobustScaler.fit(catalogue.feature_matrix()[:, columns], features)
        return cls(
            catalogue,
            scaler,
            features,
            kind=_resolve_kind(kind, len(catalogue)),
            text_embeddings=text_embeddings,
            text_model_id=text_model_id if text_embeddings is not None else None,
        )

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
            index = _HnswView(self._base, vectors, self._search_lock)
        else:
            index = _faiss_index(vectors, self.kind)
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
        with _single_thread():
            if self.kind == "hnsw":
                import faiss

                faiss_module: Any = faiss  # the bundled stubs lack SearchParametersHNSW
                params = faiss_module.SearchParametersHNSW()
                params.efSearch = max(HNSW_EF_SEARCH, wanted)
                if isinstance(index, _HnswView):
                    distances, labels = index.search(query, wanted, params)
                else:
                    with self._search_lock:
                        distances, labels = index.search(query, wanted, params=params)
            else:
                distances, labels = index.search(query, wanted)
        keep = [
            j for j, label in enumerate(labels[0]) if label >= 0 and int(label) not in excluded
        ][:k]
        return (
            labels[0][keep].astype(np.int64),
            distances[0][keep].astype(np.float32),
        )

    # ------------------------------------------------------------------ persistence

    def save(self, directory: str | Path, *, build_info: Mapping[str, Any] | None = None) -> Path:
        """Write the index to ``directory`` atomically (temp dir + rename); returns it.

        An existing index there is replaced; a non-empty directory that is not an index is
        refused, so a mistyped ``-o ~`` cannot delete anything. ``build_info`` (source,
        counts, timings) is stored in ``meta.json`` under ``"build"`` for ``catalog info``.
        """
        import faiss

        target = Path(directory).expanduser().resolve()
        if target.exists() and (
            not target.is_dir() or (any(target.iterdir()) and not (target / META_FILE).exists())
        ):
            raise CatalogError(
                f"refusing to write the index to {target}: it exists and is not a tunelens "
                "catalogue index; choose an empty or new directory",
                code="catalog_invalid",
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            tmp.chmod(0o755)  # mkdtemp's 0700 would hide the index from a server's user
            with (tmp / TRACKS_FILE).open("w", encoding="utf-8", newline="\n") as handle:
                for track in self.catalogue:
                    handle.write(
                        json.dumps(track.to_dict(), ensure_ascii=False, separators=(",", ":"))
                        + "\n"
                    )
            np.save(tmp / FEATURES_FILE, canonical_feature_matrix(self.catalogue.feature_matrix()))
            faiss.write_index(self._base, str(tmp / FAISS_FILE))
            if self.text_embeddings is not None:
                np.save(tmp / TEXT_FILE, self.text_embeddings)
            meta = {
                "format_version": FORMAT_VERSION,
                "catalogue_hash": self.catalogue.content_hash(),
                "track_count": len(self.catalogue),
                "catalogue_features": list(FEATURES),
                "feature_names": list(self.feature_names),
                "scaler": self.scaler.to_dict(),
                "index_kind": self.kind,
                "hnsw": {"M": HNSW_M, "ef_search": HNSW_EF_SEARCH} if self.kind == "hnsw" else None,
                "text_model_id": self.text_model_id,
                "text_dim": None
                if self.text_embeddings is None
                else int(self.text_embeddings.shape[1]),
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "tunelens_version": __version__,
                "faiss_version": getattr(faiss, "__version__", "unknown"),
                "build": dict(build_info) if build_info is not None else self.meta.get("build"),
            }
            (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
            for item in tmp.iterdir():
                with item.open("rb") as handle:
                    os.fsync(handle.fileno())
            _swap_into_place(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
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
        meta_path = root / META_FILE
        if not root.is_dir() or not meta_path.is_file():
            raise CatalogError(
                _missing_message(root), code="catalog_missing", details={"dir": str(root)}
            )
        meta = _read_meta(meta_path)
        catalogue = _read_tracks(root / TRACKS_FILE)
        features = _read_array(root / FEATURES_FILE)
        recorded = meta["catalogue_hash"]
        if features.shape != (len(catalogue), len(FEATURES)):
            raise _mismatch(
                root,
                f"{FEATURES_FILE} has shape {features.shape} but {TRACKS_FILE} has "
                f"{len(catalogue)} tracks",
            )
        if content_hash_of(catalogue.ids(), features) != recorded:
            raise _mismatch(root, f"{FEATURES_FILE} does not match the hash in {META_FILE}")
        if catalogue.content_hash() != recorded:
            raise _mismatch(root, f"{TRACKS_FILE} does not match the hash in {META_FILE}")
        if meta.get("track_count") != len(catalogue):
            raise _mismatch(root, f"{META_FILE} records {meta.get('track_count')} tracks")

        try:
            scaler = RobustScaler.from_dict(meta["scaler"])
            names = tuple(str(n) for n in meta["feature_names"])
            kind = _resolve_kind(str(meta["index_kind"]), len(catalogue))
        except (KeyError, TypeError, ValueError, InvalidRequest) as exc:
            raise _corrupt(root, f"{META_FILE} is incomplete: {exc}") from exc
        if scaler.names != names or any(n not in FEATURES for n in names):
            raise _corrupt(root, f"{META_FILE} scaler and feature names disagree")

        stored_model = meta.get("text_model_id")
        if expected_text_model_id is not None and stored_model != expected_text_model_id:
            raise CatalogError(
                f"the catalogue index at {root} holds track-text embeddings from "
                f"{stored_model or 'no text model'}, but the running encoder is "
                f"{expected_text_model_id}; {_REBUILD_HINT} using this encoder",
                code="index_mismatch",
                details={"stored": stored_model, "expected": expected_text_model_id},
            )
        text: FloatArray | None = None
        if stored_model is not None:
            text = _read_array(root / TEXT_FILE)
            if text.ndim != 2 or text.shape[0] != len(catalogue):
                raise _corrupt(root, f"{TEXT_FILE} has shape {text.shape}")
            text.flags.writeable = False

        base = _read_faiss(root / FAISS_FILE)
        if base.ntotal != len(catalogue) or base.d != len(names):
            raise _mismatch(
                root,
                f"{FAISS_FILE} holds {base.ntotal}×{base.d} vectors, expected "
                f"{len(catalogue)}×{len(names)}",
            )
        index = cls(
            catalogue,
            scaler,
            names,
            kind=kind,
            text_embeddings=text,
            text_model_id=stored_model if text is not None else None,
            meta=meta,
            base_index=base,
        )
        if kind == "hnsw":
            base.hnsw.efSearch = HNSW_EF_SEARCH
        try:
            stored_vectors = base.reconstruct_n(0, base.ntotal)
        except RuntimeError as exc:
            raise _corrupt(root, f"{FAISS_FILE} vectors are unreadable: {exc}") from exc
        if not np.allclose(stored_vectors, index.scaled_features(), atol=1e-4, rtol=1e-5):
            raise _mismatch(root, f"{FAISS_FILE} vectors differ from the scaled features")
        return index


def _mismatch(root: Path, what: str) -> CatalogError:
    return CatalogError(
        f"the catalogue index at {root} is inconsistent ({what}); it was modified or mixed "
        f"with another build: {_REBUILD_HINT}",
        code="index_mismatch",
        details={"dir": str(root)},
    )


def _corrupt(root: Path, what: str) -> CatalogError:
    return CatalogError(
        f"the catalogue index at {root} is corrupt ({what}); {_REBUILD_HINT}",
        code="index_corrupt",
        details={"dir": str(root)},
    )


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _corrupt(path.parent, f"{META_FILE} is unreadable: {exc}") from exc
    if not isinstance(meta, dict) or "format_version" not in meta:
        raise _corrupt(path.parent, f"{META_FILE} has no format_version")
    if meta["format_version"] != FORMAT_VERSION:
        raise CatalogError(
            f"the catalogue index at {path.parent} has format version "
            f"{meta['format_version']!r}; this tunelens ({__version__}) reads version "
            f"{FORMAT_VERSION}: {_REBUILD_HINT}",
            code="index_mismatch",
            details={"format_version": meta["format_version"]},
        )
    if not isinstance(meta.get("catalogue_hash"), str):
        raise _corrupt(path.parent, f"{META_FILE} has no catalogue_hash")
    if meta.get("catalogue_features") != list(FEATURES):
        raise _mismatch(path.parent, "it was written with a different feature list")
    return meta


def _read_tracks(path: Path) -> Catalogue:
    tracks: list[Track] = []
    try:
        with path.open("r", encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    tracks.append(Track.from_dict(json.loads(line)))
                except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                    raise _corrupt(path.parent, f"{TRACKS_FILE} line {line_no}: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise _corrupt(path.parent, f"{TRACKS_FILE} is unreadable: {exc}") from exc
    try:
        return Catalogue(tracks)
    except CatalogError as exc:
        raise _corrupt(path.parent, exc.message) from exc


def _read_array(path: Path) -> FloatArray:
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise _corrupt(path.parent, f"{path.name} is unreadable: {exc}") from exc
    if array.dtype != np.float32:
        raise _corrupt(path.parent, f"{path.name} has dtype {array.dtype}, expected float32")
    return np.asarray(array, dtype=np.float32)


def _read_faiss(path: Path) -> Any:
    import faiss

    if not path.is_file():
        raise _corrupt(path.parent, f"{FAISS_FILE} is missing")
    try:
        return faiss.read_index(str(path))
    except RuntimeError as exc:
        raise _corrupt(path.parent, f"{FAISS_FILE} is unreadable: {exc}") from exc


def _swap_into_place(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` to ``target``, moving any previous index aside first.

    Between the two renames ``target`` briefly does not exist (a reader then gets
    ``catalog_missing`` and can retry); it never sees a half-written index.
    """
    if not target.exists():
        tmp.replace(target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    old.rmdir()
    target.replace(old)
    try:
        tmp.replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            old.replace(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
