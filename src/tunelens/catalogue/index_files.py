"""The catalogue index on disk: written atomically, read back only when every file agrees.

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
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from tunelens import __version__
from tunelens.catalogue.faiss_index import HNSW_EF_SEARCH, HNSW_M, ResolvedKind, resolve_kind
from tunelens.catalogue.index_errors import (
    REBUILD_HINT,
    catalogue_missing,
    check_write_target,
    index_corrupt,
    index_mismatch,
    text_model_mismatch,
)
from tunelens.catalogue.models import Catalogue, Track, canonical_feature_matrix, content_hash_of
from tunelens.catalogue.scaler import FloatArray, RobustScaler
from tunelens.core.audio import FEATURES
from tunelens.core.errors import CatalogError, InvalidRequest

__all__ = [
    "FAISS_FILE",
    "FEATURES_FILE",
    "FORMAT_VERSION",
    "META_FILE",
    "TEXT_FILE",
    "TRACKS_FILE",
    "IndexContents",
    "TextEmbeddings",
    "check_stored_vectors",
    "index_meta",
    "read_index_dir",
    "write_index_dir",
]

#: 2: features scaled by max(IQR, central-80 % spread, floor) instead of the IQR alone
FORMAT_VERSION = 2
TRACKS_FILE = "tracks.jsonl"
FEATURES_FILE = "features.npy"
META_FILE = "meta.json"
FAISS_FILE = "index.faiss"
TEXT_FILE = "text_embeddings.npy"


@dataclass(frozen=True)
class TextEmbeddings:
    """Track-text embeddings and the id of the text model that produced them."""

    vectors: FloatArray
    model_id: str


@dataclass(frozen=True)
class IndexContents:
    """What an index directory holds, in memory: the part a save writes and a load returns."""

    catalogue: Catalogue
    scaler: RobustScaler
    kind: ResolvedKind
    #: the FAISS index over the scaled features at unit weights
    base: Any
    text: TextEmbeddings | None = None
    meta: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- writing


def index_meta(contents: IndexContents, build: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``meta.json`` of ``contents``; ``build`` (source, counts, timings) is kept as is."""
    text = contents.text
    return {
        "format_version": FORMAT_VERSION,
        "catalogue_hash": content_hash_of(
            contents.catalogue.ids(), contents.catalogue.feature_matrix()
        ),
        "track_count": len(contents.catalogue),
        "catalogue_features": list(FEATURES),
        "feature_names": list(contents.scaler.names),
        "scaler": contents.scaler.to_dict(),
        "index_kind": contents.kind,
        "hnsw": {"M": HNSW_M, "ef_search": HNSW_EF_SEARCH} if contents.kind == "hnsw" else None,
        "text_model_id": text.model_id if text is not None else None,
        "text_dim": None if text is None else int(text.vectors.shape[1]),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tunelens_version": __version__,
        "faiss_version": getattr(faiss, "__version__", "unknown"),
        "build": dict(build) if build is not None else None,
    }


def _write_files(tmp: Path, contents: IndexContents) -> None:
    with (tmp / TRACKS_FILE).open("w", encoding="utf-8", newline="\n") as handle:
        for track in contents.catalogue:
            handle.write(
                json.dumps(track.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"
            )
    np.save(tmp / FEATURES_FILE, canonical_feature_matrix(contents.catalogue.feature_matrix()))
    faiss.write_index(contents.base, str(tmp / FAISS_FILE))
    if contents.text is not None:
        np.save(tmp / TEXT_FILE, contents.text.vectors)
    (tmp / META_FILE).write_text(json.dumps(contents.meta, indent=2) + "\n", encoding="utf-8")
    for item in tmp.iterdir():
        with item.open("rb") as handle:
            os.fsync(handle.fileno())


def write_index_dir(directory: str | Path, contents: IndexContents) -> Path:
    """Write ``contents`` to ``directory`` atomically (temp dir + rename); returns it.

    An existing index there is replaced; a non-empty directory that is not an index is
    refused, so a mistyped ``-o ~`` cannot delete anything.
    """
    target = Path(directory).expanduser().resolve()
    check_write_target(target, META_FILE)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp's 0700 would hide the index from a server's user
        _write_files(tmp, contents)
        _swap_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


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


# --------------------------------------------------------------------------- reading


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise index_corrupt(path.parent, f"{META_FILE} is unreadable: {exc}") from exc
    if not isinstance(meta, dict) or "format_version" not in meta:
        raise index_corrupt(path.parent, f"{META_FILE} has no format_version")
    if meta["format_version"] != FORMAT_VERSION:
        raise CatalogError(
            f"the catalogue index at {path.parent} has format version "
            f"{meta['format_version']!r}; this tunelens ({__version__}) reads version "
            f"{FORMAT_VERSION}: {REBUILD_HINT}",
            code="index_mismatch",
            details={"format_version": meta["format_version"]},
        )
    if not isinstance(meta.get("catalogue_hash"), str):
        raise index_corrupt(path.parent, f"{META_FILE} has no catalogue_hash")
    if meta.get("catalogue_features") != list(FEATURES):
        raise index_mismatch(path.parent, "it was written with a different feature list")
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
                    raise index_corrupt(
                        path.parent, f"{TRACKS_FILE} line {line_no}: {exc}"
                    ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise index_corrupt(path.parent, f"{TRACKS_FILE} is unreadable: {exc}") from exc
    try:
        return Catalogue(tracks)
    except CatalogError as exc:
        raise index_corrupt(path.parent, exc.message) from exc


def _read_array(path: Path) -> FloatArray:
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise index_corrupt(path.parent, f"{path.name} is unreadable: {exc}") from exc
    if array.dtype != np.float32:
        raise index_corrupt(path.parent, f"{path.name} has dtype {array.dtype}, expected float32")
    return np.asarray(array, dtype=np.float32)


def _read_faiss(path: Path) -> Any:
    if not path.is_file():
        raise index_corrupt(path.parent, f"{FAISS_FILE} is missing")
    try:
        return faiss.read_index(str(path))
    except RuntimeError as exc:
        raise index_corrupt(path.parent, f"{FAISS_FILE} is unreadable: {exc}") from exc


def _read_catalogue(root: Path, meta: Mapping[str, Any]) -> Catalogue:
    """tracks.jsonl, cross-checked with features.npy and the hash recorded in meta.json."""
    catalogue = _read_tracks(root / TRACKS_FILE)
    features = _read_array(root / FEATURES_FILE)
    recorded = meta["catalogue_hash"]
    if features.shape != (len(catalogue), len(FEATURES)):
        raise index_mismatch(
            root,
            f"{FEATURES_FILE} has shape {features.shape} but {TRACKS_FILE} has "
            f"{len(catalogue)} tracks",
        )
    if content_hash_of(catalogue.ids(), features) != recorded:
        raise index_mismatch(root, f"{FEATURES_FILE} does not match the hash in {META_FILE}")
    if content_hash_of(catalogue.ids(), catalogue.feature_matrix()) != recorded:
        raise index_mismatch(root, f"{TRACKS_FILE} does not match the hash in {META_FILE}")
    if meta.get("track_count") != len(catalogue):
        raise index_mismatch(root, f"{META_FILE} records {meta.get('track_count')} tracks")
    return catalogue


def _read_scaler(
    root: Path, meta: Mapping[str, Any], tracks: int
) -> tuple[RobustScaler, ResolvedKind]:
    try:
        scaler = RobustScaler.from_dict(meta["scaler"])
        names = tuple(str(n) for n in meta["feature_names"])
        kind = resolve_kind(str(meta["index_kind"]), tracks)
    except (KeyError, TypeError, ValueError, InvalidRequest) as exc:
        raise index_corrupt(root, f"{META_FILE} is incomplete: {exc}") from exc
    if scaler.names != names or any(n not in FEATURES for n in names):
        raise index_corrupt(root, f"{META_FILE} scaler and feature names disagree")
    return scaler, kind


def _read_text(
    root: Path, meta: Mapping[str, Any], tracks: int, expected_model_id: str | None
) -> TextEmbeddings | None:
    stored_model = meta.get("text_model_id")
    if expected_model_id is not None and stored_model != expected_model_id:
        raise text_model_mismatch(root, stored_model, expected_model_id)
    if stored_model is None:
        return None
    vectors = _read_array(root / TEXT_FILE)
    if vectors.ndim != 2 or vectors.shape[0] != tracks:
        raise index_corrupt(root, f"{TEXT_FILE} has shape {vectors.shape}")
    vectors.flags.writeable = False
    return TextEmbeddings(vectors, stored_model)


def read_index_dir(root: Path, *, expected_text_model_id: str | None = None) -> IndexContents:
    """Read and cross-check every file of the index at ``root`` (see :func:`check_stored_vectors`).

    Raises CatalogError ``catalog_missing`` (no index there), ``index_corrupt`` (unreadable
    files) or ``index_mismatch`` (files disagree with ``meta.json``, another format version,
    or a text model other than ``expected_text_model_id``).
    """
    meta_path = root / META_FILE
    if not root.is_dir() or not meta_path.is_file():
        raise catalogue_missing(root)
    meta = _read_meta(meta_path)
    catalogue = _read_catalogue(root, meta)
    scaler, kind = _read_scaler(root, meta, len(catalogue))
    text = _read_text(root, meta, len(catalogue), expected_text_model_id)
    base = _read_faiss(root / FAISS_FILE)
    if base.ntotal != len(catalogue) or base.d != len(scaler.names):
        raise index_mismatch(
            root,
            f"{FAISS_FILE} holds {base.ntotal}×{base.d} vectors, expected "
            f"{len(catalogue)}×{len(scaler.names)}",
        )
    return IndexContents(catalogue, scaler, kind, base, text=text, meta=meta)


def check_stored_vectors(root: Path, base: Any, scaled: FloatArray) -> None:
    """Refuse an ``index.faiss`` whose vectors are not the scaled features of the tracks."""
    try:
        stored_vectors = base.reconstruct_n(0, base.ntotal)
    except RuntimeError as exc:
        raise index_corrupt(root, f"{FAISS_FILE} vectors are unreadable: {exc}") from exc
    if not np.allclose(stored_vectors, scaled, atol=1e-4, rtol=1e-5):
        raise index_mismatch(root, f"{FAISS_FILE} vectors differ from the scaled features")
