"""Opening a catalogue directory (format 3, :mod:`.store`): map, check, never parse.

Opening reads ``meta.json`` first and then only the files it names, so a version written
meanwhile cannot mix in. What is checked costs no reading of the data: every file exists with
the size the manifest records, the index header names the manifest's version and hash, row
counts agree. The sha256 of every file is in the manifest for ``catalog verify`` and for
copies (a cache of an ``s3://`` catalogue); reading whole files at every start would undo
the point of mapping them.

A format-2 directory (``tracks.jsonl``) is refused with code ``catalog_outdated`` and the
command that converts it; any other inconsistency is ``index_mismatch`` or ``index_corrupt``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from tunelens.catalogue.columnar import ColumnarCatalogue
from tunelens.catalogue.index_errors import (
    REBUILD_HINT,
    catalogue_missing,
    index_corrupt,
    index_mismatch,
    text_model_mismatch,
)
from tunelens.catalogue.ivf import DEFAULT_NPROBE, IvfLists
from tunelens.catalogue.scaler import FloatArray, RobustScaler
from tunelens.catalogue.store import FORMAT_VERSION, META_FILE
from tunelens.core.audio import FEATURES
from tunelens.core.errors import CatalogError

__all__ = ["StoreContents", "catalogue_version", "open_store", "read_manifest"]


@dataclass(frozen=True)
class StoreContents:
    """One opened version: mapped tracks, scaler, and the index parts of its kind."""

    catalogue: ColumnarCatalogue
    scaler: RobustScaler
    kind: str
    meta: dict[str, Any]
    base: Any = None
    ivf: IvfLists | None = None
    text: tuple[FloatArray, str] | None = None


def outdated(root: Path, found: object) -> CatalogError:
    """The one-line refusal of a catalogue written in an older format."""
    return CatalogError(
        f"the catalogue at {root} is in the old format {found} (tracks.jsonl); convert it "
        f"with `tunelens catalog upgrade {root}` or {REBUILD_HINT}",
        code="catalog_outdated",
        details={"dir": str(root), "format_version": found},
    )


def read_manifest(root: Path) -> dict[str, Any]:
    """``meta.json`` of the catalogue at ``root``, checked to be format 3."""
    path = root / META_FILE
    if not root.is_dir() or not path.is_file():
        raise catalogue_missing(root)
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise index_corrupt(root, f"{META_FILE} is unreadable: {exc}") from exc
    if not isinstance(meta, dict) or "format_version" not in meta:
        raise index_corrupt(root, f"{META_FILE} has no format_version")
    found = meta["format_version"]
    if found in (1, 2):
        raise outdated(root, found)
    if found != FORMAT_VERSION:
        raise CatalogError(
            f"the catalogue index at {root} has format version {found!r}; this tunelens "
            f"reads version {FORMAT_VERSION}: {REBUILD_HINT}",
            code="index_mismatch",
            details={"format_version": found},
        )
    if meta.get("catalogue_features") != list(FEATURES):
        raise index_mismatch(root, "it was written with a different feature list")
    if not isinstance(meta.get("catalogue_hash"), str) or not isinstance(meta.get("version"), int):
        raise index_corrupt(root, f"{META_FILE} has no catalogue_hash or version")
    return meta


def catalogue_version(root: Path) -> tuple[int, str] | None:
    """(version, hash) of the catalogue at ``root`` from ``meta.json`` alone, or None.

    Cheap enough to call every few seconds: a server compares it with what it serves.
    """
    try:
        meta = json.loads((root / META_FILE).read_text(encoding="utf-8"))
        return int(meta["version"]), str(meta["catalogue_hash"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _check_files(root: Path, meta: dict[str, Any]) -> None:
    for entry in meta.get("files") or []:
        path = root / str(entry["name"])
        if not path.is_file():
            raise FileNotFoundError(path)
        if path.stat().st_size != int(entry["size"]):
            raise index_mismatch(root, f"{path.name} has another size than {META_FILE} records")
    header_name = meta["index"].get("header")
    try:
        header = json.loads((root / str(header_name)).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise index_corrupt(root, f"index header {header_name} is unreadable: {exc}") from exc
    if (
        header.get("version") != meta["version"]
        or header.get("catalogue_hash") != meta["catalogue_hash"]
    ):
        raise CatalogError(
            f"the index at {root} belongs to catalogue version {header.get('version')} "
            f"({str(header.get('catalogue_hash'))[:12]}), but the track store is version "
            f"{meta['version']} ({meta['catalogue_hash'][:12]}): {REBUILD_HINT}",
            code="index_mismatch",
            details={"dir": str(root), "index": header.get("version"), "store": meta["version"]},
        )


def _open_segment(root: Path, name: str, rows: int) -> pa.Table:
    try:
        source = pa.memory_map(str(root / name), "r")
        table = pa.ipc.open_file(source).read_all()
    except pa.ArrowException as exc:
        raise index_corrupt(root, f"{name} is unreadable: {exc}") from exc
    if table.num_rows != rows or "id_order" not in table.column_names:
        raise index_mismatch(root, f"{name} holds {table.num_rows} rows, {META_FILE} says {rows}")
    return table


def _array(root: Path, name: str) -> NDArray[Any]:
    try:
        return np.load(root / name, mmap_mode="r", allow_pickle=False)  # type: ignore[no-any-return]
    except (OSError, ValueError) as exc:
        raise index_corrupt(root, f"{name} is unreadable: {exc}") from exc


def _dead_rows(root: Path, meta: dict[str, Any], rows: int) -> NDArray[np.bool_]:
    dead = np.zeros(rows, dtype=bool)
    name = meta.get("tombstones")
    if name:
        removed = np.asarray(_array(root, str(name)), dtype=np.int64)
        if removed.size and (removed.min() < 0 or removed.max() >= rows):
            raise index_mismatch(root, f"{name} names rows beyond the catalogue")
        dead[removed] = True
    return dead


def _ivf(
    root: Path, meta: dict[str, Any], contents: ColumnarCatalogue, scaler: RobustScaler
) -> IvfLists:
    section = meta["index"]
    files = section["ivf"]
    parts = {
        key: _array(root, str(files[key])) for key in ("centroids", "offsets", "rows", "vectors")
    }
    covered = int(section["rows"])
    if parts["rows"].shape != (covered,) or parts["vectors"].shape != (covered, len(scaler.names)):
        raise index_mismatch(root, "the clustered index does not match its row count")
    columns = [FEATURES.index(n) for n in scaler.names]
    delta = np.arange(covered, len(contents), dtype=np.int64)
    delta_vectors = (
        scaler.transform(contents.feature_rows(delta)[:, columns])
        if len(delta)
        else np.empty((0, len(columns)), dtype=np.float32)
    )
    return IvfLists(
        centroids=np.asarray(parts["centroids"], dtype=np.float32),
        offsets=np.asarray(parts["offsets"], dtype=np.int64),
        rows=parts["rows"],
        vectors=parts["vectors"],
        delta_rows=delta,
        delta_vectors=delta_vectors,
        nprobe=int(section.get("nprobe") or DEFAULT_NPROBE),
    )


def _text(
    root: Path, meta: dict[str, Any], rows: int, expected: str | None
) -> tuple[FloatArray, str] | None:
    stored = meta["text"].get("model_id")
    if expected is not None and stored != expected:
        raise text_model_mismatch(root, stored, expected)
    if stored is None:
        return None
    vectors = _array(root, str(meta["text"]["files"][0]))
    if vectors.shape[0] != rows:
        raise index_corrupt(root, f"text embeddings have shape {vectors.shape}")
    return np.asarray(vectors, dtype=np.float32), str(stored)


def _open_once(root: Path, expected_text_model_id: str | None) -> StoreContents:
    meta = read_manifest(root)
    _check_files(root, meta)
    try:
        scaler = RobustScaler.from_dict(meta["scaler"])
    except (KeyError, TypeError, ValueError) as exc:
        raise index_corrupt(root, f"{META_FILE} scaler is incomplete: {exc}") from exc
    segments = [_open_segment(root, s["file"], int(s["rows"])) for s in meta["segments"]]
    rows = sum(s.num_rows for s in segments)
    if rows != meta["rows"]:
        raise index_mismatch(root, f"segments hold {rows} rows, {META_FILE} says {meta['rows']}")
    catalogue = ColumnarCatalogue(segments, _dead_rows(root, meta, rows), meta["catalogue_hash"])
    kind = str(meta["index"]["kind"])
    text = _text(root, meta, rows, expected_text_model_id)
    if kind == "ivf":
        return StoreContents(
            catalogue, scaler, kind, meta, ivf=_ivf(root, meta, catalogue, scaler), text=text
        )
    base = None
    if kind == "hnsw":
        try:
            base = faiss.read_index(str(root / meta["index"]["faiss"]))
        except RuntimeError as exc:
            raise index_corrupt(root, f"the HNSW index is unreadable: {exc}") from exc
        if base.ntotal != rows:
            raise index_mismatch(
                root, f"the HNSW index holds {base.ntotal} vectors for {rows} rows"
            )
    return StoreContents(catalogue, scaler, kind, meta, base=base, text=text)


def open_store(root: Path, *, expected_text_model_id: str | None = None) -> StoreContents:
    """Open the current version at ``root``; one retry when a newer version replaced the
    files between reading ``meta.json`` and opening them."""
    try:
        return _open_once(root, expected_text_model_id)
    except FileNotFoundError:
        try:
            return _open_once(root, expected_text_model_id)
        except FileNotFoundError as exc:
            raise index_corrupt(root, f"{Path(str(exc.filename)).name} is missing") from exc
