"""``tunelens catalog upgrade DIR``: a format-2 catalogue (``tracks.jsonl``) → format 3.

The tracks, the fitted scaler, the index kind and any song-text embeddings are kept, so
recommendations are the same before and after; only the files change (Arrow segment,
versioned manifest). The old catalogue is read and verified first (its hash must match), the
new files are written beside it and ``meta.json`` is replaced last, so an interrupted upgrade
leaves the old catalogue readable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tunelens.catalogue.columnar import table_from_tracks
from tunelens.catalogue.index_files import read_index_dir
from tunelens.catalogue.store import FORMAT_VERSION, StoreOptions, read_meta_if_any, write_store

__all__ = ["upgrade_catalogue"]


def upgrade_catalogue(directory: str | Path) -> dict[str, Any] | None:
    """Convert the catalogue at ``directory`` in place; its new manifest, or None when it is
    already in the current format. Raises CatalogError for a missing or damaged catalogue."""
    root = Path(directory).expanduser().resolve()
    if read_meta_if_any(root) is not None:
        return None
    old = read_index_dir(root)
    text = None if old.text is None else (old.text.vectors, old.text.model_id)
    build = dict(old.meta.get("build") or {})
    build["upgraded_from"] = {
        "format_version": old.meta.get("format_version"),
        "catalogue_hash": old.meta.get("catalogue_hash"),
    }
    options = StoreOptions(
        features=old.scaler.names,
        kind=old.kind,
        scaler=old.scaler,
        text=text,
        build_info=build,
        action=f"upgrade to format {FORMAT_VERSION}",
    )
    return write_store(root, table_from_tracks(old.catalogue), options)
