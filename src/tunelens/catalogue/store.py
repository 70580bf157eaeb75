"""The catalogue directory (format 3): versioned, columnar, written so readers never see half.

A catalogue directory holds::

    meta.json                  the manifest: format_version 3, ``version`` (1, 2, 3, … one per
                               change), ``catalogue_hash``, ``files`` (name, size, sha256 of
                               every file of this version), segments, tombstones, index, scaler
    segment-<uid>.arrow        tracks + features + id order (Arrow IPC, uncompressed: mapped)
    index-v<version>.json      the index header: the version and hash it belongs to
    ivf-<uid>-*.npy            clustered vectors (index kind ``ivf``, large catalogues)
    hnsw-<uid>.faiss           an HNSW graph (index kind ``hnsw``, only when asked for)
    text-<uid>.npy             track-text embeddings (only with a text encoder)
    tombstones-v<version>.npy  rows removed since the last compaction
    changes.jsonl              one line per build, add, remove, compaction (not versioned)
    derived/                   facts derived from a version, kept for the next start
                               (:mod:`.derived`; not versioned, never in the manifest)

**Writing** (:func:`write_store`, :func:`commit`) puts every new file under a new name, fsyncs
it, and replaces ``meta.json`` last (write + rename), so a reader that reads ``meta.json`` first
always sees one whole version, and a server notices a new version by reading one small file.
Files of the version before are kept (a reader may be opening them), older ones deleted.

**The writer API** for other builders (e.g. a Ray Data build): make an Arrow table with the
columns of :data:`~tunelens.catalogue.columnar.TRACK_SCHEMA` (``id``, ``title``, ``artist``
required; ``features`` as a fixed-size list of 13 float32, or 13 float columns named as
:data:`~tunelens.core.audio.FEATURES`; any other column optional), unique ids, then call
``write_store(directory, table, StoreOptions(...))``. Reading is :mod:`.store_read`.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tunelens import __version__
from tunelens.catalogue.columnar import (
    TRACK_SCHEMA,
    content_hash_of_table,
    feature_block,
    with_id_order,
)
from tunelens.catalogue.faiss_index import FLAT_MAX_TRACKS, HNSW_EF_SEARCH, HNSW_M, new_faiss_index
from tunelens.catalogue.index_errors import check_write_target
from tunelens.catalogue.ivf import IvfLists, train_centroids
from tunelens.catalogue.scaler import FloatArray, RobustScaler
from tunelens.core.atomic import fsync_dir, write_atomic
from tunelens.core.audio import FEATURES, MOOD_FEATURES
from tunelens.core.digest import sha256_file
from tunelens.core.errors import CatalogError, InvalidRequest

__all__ = [
    "FORMAT_VERSION",
    "LEGACY_FILES",
    "META_FILE",
    "StoreKind",
    "StoreOptions",
    "Written",
    "commit",
    "log_change",
    "normalise_table",
    "resolve_store_kind",
    "save_array",
    "write_hnsw",
    "write_segment",
    "write_store",
]

#: 3: Arrow segments, versions, manifest of files (2 was tracks.jsonl + features.npy)
FORMAT_VERSION = 3
META_FILE = "meta.json"
CHANGES_FILE = "changes.jsonl"
#: the files of a format-2 catalogue, removed when one is rebuilt or upgraded in place
LEGACY_FILES = ("tracks.jsonl", "features.npy", "index.faiss", "text_embeddings.npy")
_OURS = ("segment-", "index-v", "ivf-", "hnsw-", "text-", "tombstones-")

StoreKind = str  # "flat" | "hnsw" | "ivf"


def resolve_store_kind(kind: str, n: int) -> StoreKind:
    """``auto`` → exact search up to FLAT_MAX_TRACKS songs, the clustered index above."""
    if kind == "auto":
        return "flat" if n <= FLAT_MAX_TRACKS else "ivf"
    if kind in ("flat", "hnsw", "ivf"):
        return kind
    raise InvalidRequest(f"unknown index kind {kind!r}; use auto, flat, hnsw or ivf")


@dataclass(frozen=True)
class StoreOptions:
    """How :func:`write_store` indexes a table."""

    features: Sequence[str] = MOOD_FEATURES
    kind: str = "auto"
    #: a scaler to keep (adds, compactions); None fits one on the table
    scaler: RobustScaler | None = None
    #: (N, D) float32 track-text embeddings and the model that made them
    text: tuple[FloatArray, str] | None = None
    build_info: Mapping[str, Any] | None = None
    #: the clusters to keep (a compaction of an ``ivf`` catalogue: clusters stay stable)
    centroids: FloatArray | None = None
    #: what changes.jsonl records for this write
    action: str = "build"


@dataclass
class Written:
    """One version being written: files so far and the manifest fields they need."""

    root: Path
    version: int
    uid: str
    files: list[str] = field(default_factory=list)

    def path(self, name: str) -> Path:
        self.files.append(name)
        return self.root / name

    def keep(self, names: Sequence[str]) -> None:
        """Files of the previous version that are part of this one too (segments, clusters)."""
        self.files.extend(names)


def normalise_table(table: pa.Table) -> pa.Table:
    """``table`` in :data:`TRACK_SCHEMA`: missing optional columns null, features packed."""
    names = set(table.column_names)
    for required in ("id", "title", "artist"):
        if required not in names:
            raise CatalogError(
                f"the track table has no {required!r} column", code="catalog_invalid"
            )
    if "features" not in names:
        columns = []
        for name in FEATURES:
            if name in names:
                columns.append(np.asarray(table.column(name).to_numpy(zero_copy_only=False), "f4"))
            else:
                columns.append(np.full(table.num_rows, np.nan, dtype=np.float32))
        flat = np.ascontiguousarray(np.stack(columns, axis=1), dtype=np.float32).reshape(-1)
        packed = pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), len(FEATURES))
        table = table.append_column("features", packed)
    arrays = []
    for field_ in TRACK_SCHEMA:
        if field_.name in table.column_names:
            arrays.append(table.column(field_.name).cast(field_.type))
        else:
            arrays.append(pa.nulls(table.num_rows, field_.type))
    out = pa.Table.from_arrays(arrays, schema=TRACK_SCHEMA)
    if pc.count_distinct(out.column("id")).as_py() != out.num_rows:
        raise CatalogError(
            "the track table has duplicate ids; merge duplicates before writing a catalogue",
            code="catalog_invalid",
        )
    return out


def write_segment(written: Written, table: pa.Table) -> str:
    """One segment file (tracks + id order), fsynced; returns its name."""
    name = f"segment-{written.uid}.arrow"
    path = written.path(name)
    with (
        pa.OSFile(str(path), "wb") as sink,
        pa.ipc.new_file(
            sink, TRACK_SCHEMA.append(pa.field("id_order", pa.int64(), nullable=False))
        ) as writer,
    ):
        # one record batch: a mapped column is then one zero-copy array, never concatenated
        writer.write_table(
            with_id_order(table.combine_chunks()), max_chunksize=table.num_rows or None
        )
    _fsync(path)
    return name


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def save_array(written: Written, name: str, array: np.ndarray[Any, Any]) -> str:
    path = written.path(name)
    np.save(path, np.ascontiguousarray(array))
    _fsync(path)
    return name


def write_ivf(written: Written, ivf: IvfLists) -> dict[str, str]:
    """The four arrays of a clustered index, each its own mapped ``.npy``."""
    base = f"ivf-{written.uid}"
    return {
        "centroids": save_array(written, f"{base}-centroids.npy", ivf.centroids),
        "offsets": save_array(written, f"{base}-offsets.npy", ivf.offsets),
        "rows": save_array(written, f"{base}-rows.npy", ivf.rows),
        "vectors": save_array(written, f"{base}-vectors.npy", ivf.vectors),
    }


def write_hnsw(written: Written, index: Any) -> str:
    name = f"hnsw-{written.uid}.faiss"
    faiss.write_index(index, str(written.path(name)))
    _fsync(written.root / name)
    return name


def read_meta_if_any(root: Path) -> dict[str, Any] | None:
    """The current manifest of a format-3 directory, or None (absent, other format)."""
    try:
        meta = json.loads((root / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("format_version") == FORMAT_VERSION else None


def begin(root: Path) -> Written:
    """Start the next version of the catalogue at ``root`` (created when missing)."""
    check_write_target(root, META_FILE)
    root.mkdir(parents=True, exist_ok=True)
    previous = read_meta_if_any(root)
    version = int(previous["version"]) + 1 if previous else 1
    return Written(root, version, f"v{version:06d}-{secrets.token_hex(4)}")


def commit(written: Written, meta: dict[str, Any]) -> dict[str, Any]:
    """Write the index header and then ``meta.json`` (the switch), and drop stale files.

    ``meta`` must carry ``catalogue_hash``; ``version``, ``files`` and bookkeeping are added.
    """
    root = written.root
    previous = read_meta_if_any(root)
    header = {"version": written.version, "catalogue_hash": meta["catalogue_hash"]}
    header["index_kind"] = meta["index"]["kind"]
    header_path = written.path(f"index-v{written.version:06d}.json")
    write_atomic(header_path, (json.dumps(header, indent=2) + "\n").encode())
    meta = {**meta, "format_version": FORMAT_VERSION, "version": written.version}
    meta["index"] = {**meta["index"], "header": header_path.name}
    # files carried over from the previous version keep their recorded sha256: an add to a
    # million-song catalogue hashes its new segment, not the whole catalogue again
    known = {f["name"]: f for f in (previous or {}).get("files", [])}
    meta["files"] = [
        known[n]
        if n in known and known[n]["size"] == (root / n).stat().st_size
        else {"name": n, "size": (root / n).stat().st_size, "sha256": sha256_file(root / n)}
        for n in sorted(set(written.files))
    ]
    meta["previous_files"] = [f["name"] for f in previous["files"]] if previous else []
    meta["written_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    meta["tunelens_version"] = __version__
    fsync_dir(root)
    write_atomic(root / META_FILE, (json.dumps(meta, indent=2) + "\n").encode())
    _drop_stale(root, {f["name"] for f in meta["files"]} | set(meta["previous_files"]))
    return meta


def _drop_stale(root: Path, keep: set[str]) -> None:
    for item in root.iterdir():
        name = item.name
        stale = name in LEGACY_FILES or (name.startswith(_OURS) and name not in keep)
        if stale and item.is_file():
            item.unlink(missing_ok=True)


def log_change(root: Path, entry: Mapping[str, Any]) -> None:
    """Append one line to ``changes.jsonl``: what changed, when, into which version."""
    line = {"at": datetime.now(UTC).isoformat(timespec="seconds"), **entry}
    with (root / CHANGES_FILE).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, ensure_ascii=False) + "\n")


def _index_section(
    written: Written, kind: StoreKind, scaled: FloatArray, centroids: FloatArray | None
) -> dict[str, Any]:
    """Build and write the index of ``kind`` over ``scaled``; its manifest section."""
    section: dict[str, Any] = {"kind": kind, "rows": int(scaled.shape[0])}
    if kind == "ivf":
        if centroids is None:
            centroids = train_centroids(scaled)
        ivf = IvfLists.build(centroids, scaled)
        section.update(ivf=write_ivf(written, ivf), nprobe=ivf.nprobe, lists=len(centroids))
    elif kind == "hnsw":
        section.update(
            faiss=write_hnsw(written, new_faiss_index(scaled, "hnsw")),
            hnsw={"M": HNSW_M, "ef_search": HNSW_EF_SEARCH},
        )
    return section


def write_store(
    directory: str | Path, tracks: pa.Table | Sequence[pa.Table], options: StoreOptions
) -> dict[str, Any]:
    """Write ``tracks`` as a new version of the catalogue at ``directory``; its manifest.

    ``tracks`` is one Arrow table or several (e.g. one per worker: concatenated without a
    copy) with unique ids. The scaler is fitted on the table unless ``options.scaler`` is
    given; ``kind`` ``auto`` is exact search up to 200,000 songs, clusters above.
    """
    table = normalise_table(
        tracks if isinstance(tracks, pa.Table) else pa.concat_tables(list(tracks))
    )
    if table.num_rows == 0:
        raise CatalogError("cannot index an empty catalogue", code="catalog_empty")
    unknown = [f for f in options.features if f not in FEATURES]
    if unknown or not options.features:
        raise InvalidRequest(
            f"unknown feature name(s) {unknown}; choose from {', '.join(FEATURES)}"
        )
    columns = [FEATURES.index(f) for f in options.features]
    raw = feature_block(table)[:, columns]
    scaler = options.scaler or RobustScaler.fit(raw, options.features)
    kind = resolve_store_kind(options.kind, table.num_rows)
    root = Path(directory).expanduser().resolve()
    written = begin(root)
    segment = write_segment(written, table)
    text_meta: dict[str, Any] = {"model_id": None, "dim": None, "files": []}
    if options.text is not None:
        vectors, model_id = options.text
        if vectors.shape[0] != table.num_rows:
            raise ValueError(f"text embeddings {vectors.shape} for {table.num_rows} tracks")
        name = save_array(written, f"text-{written.uid}.npy", vectors.astype(np.float32))
        text_meta = {"model_id": model_id, "dim": int(vectors.shape[1]), "files": [name]}
    meta: dict[str, Any] = {
        "catalogue_hash": content_hash_of_table(table),
        "hash_chain": [],
        "track_count": table.num_rows,
        "rows": table.num_rows,
        "catalogue_features": list(FEATURES),
        "feature_names": list(scaler.names),
        "scaler": scaler.to_dict(),
        "segments": [{"file": segment, "rows": table.num_rows}],
        "tombstones": None,
        "index": _index_section(written, kind, scaler.transform(raw), options.centroids),
        "text": text_meta,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "faiss_version": getattr(faiss, "__version__", "unknown"),
        "build": dict(options.build_info) if options.build_info is not None else None,
    }
    meta = commit(written, meta)
    log_change(
        root, {"version": meta["version"], "action": options.action, "tracks": table.num_rows}
    )
    return meta
