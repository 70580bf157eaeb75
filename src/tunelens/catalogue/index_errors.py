"""The errors an unreadable catalogue directory gives, in both on-disk formats.

Why one module: the current store (:mod:`.store_read`) and the format-2 reader
(:mod:`.index_files`, kept for ``catalog upgrade``) must refuse a missing, damaged or mixed-up
catalogue with the same codes and the same advice, so an operator's runbook (and the web's
status mapping) does not depend on which format the directory was in.
"""

from __future__ import annotations

from pathlib import Path

from tunelens.core.errors import CatalogError

__all__ = ["REBUILD_HINT", "catalogue_missing", "index_corrupt", "index_mismatch"]

#: the advice every refusal of a damaged catalogue ends with
REBUILD_HINT = "rebuild it with `tunelens catalog build SOURCE -o DIR`"


def catalogue_missing(root: Path) -> CatalogError:
    """No catalogue at ``root``: say how to build or fetch one."""
    return CatalogError(
        f"no catalogue index at {root}. Build one with `tunelens catalog build SOURCE -o "
        f"{root}` (SOURCE: a Spotify-style CSV, JSON Lines or a folder of audio files), "
        "or download the Spotify 30k catalogue with `tunelens catalog fetch spotify-30k`",
        code="catalog_missing",
        details={"dir": str(root)},
    )


def index_mismatch(root: Path, what: str) -> CatalogError:
    """Files of the catalogue at ``root`` disagree with each other (``what`` says how)."""
    return CatalogError(
        f"the catalogue index at {root} is inconsistent ({what}); it was modified or mixed "
        f"with another build: {REBUILD_HINT}",
        code="index_mismatch",
        details={"dir": str(root)},
    )


def index_corrupt(root: Path, what: str) -> CatalogError:
    """A file of the catalogue at ``root`` cannot be read (``what`` says which and why)."""
    return CatalogError(
        f"the catalogue index at {root} is corrupt ({what}); {REBUILD_HINT}",
        code="index_corrupt",
        details={"dir": str(root)},
    )
