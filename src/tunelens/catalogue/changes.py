"""Growing and shrinking a catalogue without rebuilding it: add, remove, compact.

``catalog add DIR SOURCE`` writes the new songs as one more segment and makes them searchable
at once: an exact (``flat``) index is built from the features when opened, an ``hnsw`` graph
takes the new vectors as incremental adds, and an ``ivf`` catalogue scans the songs added
since its clustering exhaustively (:mod:`.ivf`). A song whose id is already there replaces the
old one. ``catalog remove DIR ID…`` marks rows dead (tombstones): they are never returned,
and row numbers — the index labels — stay put. The scaler is never refitted, so distances
mean the same before and after a change.

A *compaction* rewrites the live rows as one segment (the scaler, and an ``ivf`` catalogue's
clusters, kept) once removed rows exceed :data:`COMPACT_DEAD_SHARE` of the catalogue, added
rows outside the clusters exceed :data:`COMPACT_DELTA_SHARE`, or there are more than
:data:`COMPACT_SEGMENTS` segments; ``catalog compact`` runs one by hand.

Every change is one new version (:func:`~tunelens.catalogue.store.commit`: new files first,
``meta.json`` last) under an inter-process lock, recorded in ``changes.jsonl``.
``catalogue_hash`` after a change is sha256(previous hash, what changed): a version's
identity at O(change) cost; a compaction resets it to the content hash of the live rows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tunelens.catalogue.columnar import content_hash_of_table, feature_block, table_from_tracks
from tunelens.catalogue.models import Catalogue
from tunelens.catalogue.store import (
    StoreOptions,
    begin,
    commit,
    log_change,
    normalise_table,
    save_array,
    write_hnsw,
    write_segment,
    write_store,
)
from tunelens.catalogue.store_read import StoreContents, open_store
from tunelens.core.atomic import folder_lock
from tunelens.core.audio import FEATURES
from tunelens.core.errors import CatalogError, NotFound

__all__ = [
    "COMPACT_DEAD_SHARE",
    "COMPACT_DELTA_SHARE",
    "COMPACT_SEGMENTS",
    "ChangeResult",
    "add_tracks",
    "compact",
    "remove_tracks",
]

COMPACT_DEAD_SHARE = 0.10
COMPACT_DELTA_SHARE = 0.10
COMPACT_SEGMENTS = 16
_LOCK = ".write.lock"


@dataclass
class ChangeResult:
    """What a change did, for the CLI line, the admin API and tests."""

    version: int
    added: int = 0
    replaced: int = 0
    removed: int = 0
    unknown: list[str] = field(default_factory=list)
    compacted: bool = False
    tracks: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "added": self.added,
            "replaced": self.replaced,
            "removed": self.removed,
            "unknown": self.unknown,
            "compacted": self.compacted,
            "tracks": self.tracks,
        }


def _chained(previous: str, what: bytes) -> str:
    return hashlib.sha256(previous.encode() + b"\n" + what).hexdigest()


def _refuse_text(contents: StoreContents, root: Path) -> None:
    if contents.meta["text"].get("model_id"):
        raise CatalogError(
            f"the catalogue at {root} holds song-text embeddings from "
            f"{contents.meta['text']['model_id']}; songs added without them would never match "
            "a picture's words: rebuild it with `tunelens catalog build SOURCE --encoder …`",
            code="catalog_invalid",
        )


def _next_version(
    root: Path, contents: StoreContents, new_table: pa.Table | None, dead: np.ndarray[Any, Any]
) -> dict[str, Any]:
    """Write the version after ``contents``: its segments plus ``new_table``, ``dead`` rows."""
    meta = contents.meta
    written = begin(root)
    segments = list(meta["segments"])
    written.keep([s["file"] for s in segments])
    index = {k: v for k, v in meta["index"].items() if k != "header"}
    rows = int(meta["rows"])
    what = b""
    if new_table is not None and new_table.num_rows:
        segments.append({"file": write_segment(written, new_table), "rows": new_table.num_rows})
        what += b"add " + content_hash_of_table(new_table).encode()
        rows += new_table.num_rows
    if index["kind"] == "ivf":
        written.keep(list(index["ivf"].values()))
    elif index["kind"] == "hnsw":
        base = contents.base
        if new_table is not None and new_table.num_rows:
            columns = [FEATURES.index(n) for n in contents.scaler.names]
            added = feature_block(new_table)[:, columns]
            base.add(contents.scaler.transform(added))
            index["faiss"] = write_hnsw(written, base)
        else:
            written.keep([index["faiss"]])
    else:
        index["rows"] = rows
    removed = np.flatnonzero(dead)
    what += b" dead " + hashlib.sha256(removed.astype("<i8").tobytes()).hexdigest().encode()
    tombstones = None
    if removed.size:
        tombstones = save_array(written, f"tombstones-v{written.version:06d}.npy", removed)
    live = rows - int(removed.size)
    text = meta["text"]
    return commit(
        written,
        {
            **{k: v for k, v in meta.items() if k not in ("files", "previous_files")},
            "catalogue_hash": _chained(meta["catalogue_hash"], what),
            "track_count": live,
            "rows": rows,
            "segments": segments,
            "tombstones": tombstones,
            "index": index,
            "text": text,
        },
    )


def _needs_compaction(meta: dict[str, Any], dead: int) -> bool:
    rows = int(meta["rows"])
    index = meta["index"]
    delta = rows - int(index["rows"]) if index["kind"] == "ivf" else 0
    return (
        dead > COMPACT_DEAD_SHARE * rows
        or delta > COMPACT_DELTA_SHARE * max(1, int(index["rows"]))
        or len(meta["segments"]) > COMPACT_SEGMENTS
    )


def _compact_locked(root: Path, contents: StoreContents) -> dict[str, Any]:
    catalogue = contents.catalogue
    table = catalogue.table.filter(pa.array(~np.asarray(catalogue.dead)))
    text = None
    if contents.text is not None:
        vectors, model_id = contents.text
        text = (np.asarray(vectors)[~np.asarray(catalogue.dead)], model_id)
    centroids = contents.ivf.centroids if contents.ivf is not None else None
    options = StoreOptions(
        features=contents.scaler.names,
        kind=contents.kind,
        scaler=contents.scaler,
        text=text,
        build_info=contents.meta.get("build"),
        centroids=centroids,
        action="compact",
    )
    return write_store(root, table, options)


def compact(directory: str | Path) -> ChangeResult:
    """Rewrite the live rows of the catalogue at ``directory`` as one segment."""
    root = Path(directory).expanduser().resolve()
    with folder_lock(root, _LOCK):
        contents = open_store(root)
        meta = _compact_locked(root, contents)
    return ChangeResult(version=meta["version"], compacted=True, tracks=meta["track_count"])


def _finish(root: Path, meta: dict[str, Any], result: ChangeResult, entry: dict[str, Any]) -> None:
    log_change(root, {"version": meta["version"], **entry})
    result.version = meta["version"]
    result.tracks = meta["track_count"]
    dead = int(meta["rows"]) - int(meta["track_count"])
    if _needs_compaction(meta, dead):
        compacted = _compact_locked(root, open_store(root))
        result.version = compacted["version"]
        result.compacted = True


def add_tracks(directory: str | Path, catalogue: Catalogue) -> ChangeResult:
    """Add (or replace, by id) ``catalogue``'s songs in the catalogue at ``directory``."""
    root = Path(directory).expanduser().resolve()
    if len(catalogue) == 0:
        raise CatalogError("no songs to add", code="catalog_empty")
    table = normalise_table(table_from_tracks(catalogue))
    with folder_lock(root, _LOCK):
        contents = open_store(root)
        _refuse_text(contents, root)
        dead = np.array(contents.catalogue.dead, dtype=bool)
        replaced = [r for r in map(contents.catalogue.row_of, catalogue.ids()) if r is not None]
        dead[replaced] = True
        dead = np.concatenate([dead, np.zeros(table.num_rows, dtype=bool)])
        meta = _next_version(root, contents, table, dead)
        result = ChangeResult(version=meta["version"], added=table.num_rows, replaced=len(replaced))
        entry = {"action": "add", "tracks": table.num_rows, "replaced": len(replaced)}
        _finish(root, meta, result, {**entry, "ids": catalogue.ids()[:100]})
    return result


def remove_tracks(directory: str | Path, ids: list[str]) -> ChangeResult:
    """Mark the songs with these ids removed; NotFound when none of them is in the catalogue."""
    root = Path(directory).expanduser().resolve()
    with folder_lock(root, _LOCK):
        contents = open_store(root)
        rows = {i: contents.catalogue.row_of(i) for i in dict.fromkeys(ids)}
        found = [r for r in rows.values() if r is not None]
        unknown = [i for i, r in rows.items() if r is None]
        if not found:
            raise NotFound(
                f"none of these ids is in the catalogue: {', '.join(unknown[:10])}",
                details={"unknown": unknown[:100]},
            )
        dead = np.array(contents.catalogue.dead, dtype=bool)
        dead[found] = True
        meta = _next_version(root, contents, None, dead)
        result = ChangeResult(version=meta["version"], removed=len(found), unknown=unknown)
        removed_ids = [i for i, r in rows.items() if r is not None]
        _finish(
            root, meta, result, {"action": "remove", "tracks": len(found), "ids": removed_ids[:100]}
        )
    return result
