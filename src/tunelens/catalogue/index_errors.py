"""The errors an unreadable catalogue directory gives, in both on-disk formats, and the
refusal to write an index into a directory that is not one.

Why one module: the current store (:mod:`.store`, :mod:`.store_read`) and the format-2 files
(:mod:`.index_files`, kept for ``catalog upgrade``) must refuse a missing, damaged, mixed-up
or foreign catalogue with the same codes and the same advice, so an operator's runbook (and
the web's status mapping) does not depend on which format the directory was in.
"""

from __future__ import annotations

from pathlib import Path

from tunelens.core.errors import CatalogError

__all__ = [
    "REBUILD_HINT",
    "catalogue_missing",
    "check_write_target",
    "index_corrupt",
    "index_mismatch",
    "text_model_mismatch",
]

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


def text_model_mismatch(root: Path, stored: str | None, expected: str) -> CatalogError:
    """The catalogue's track-text embeddings come from another model than the running one."""
    return CatalogError(
        f"the catalogue index at {root} holds track-text embeddings from "
        f"{stored or 'no text model'}, but the running encoder is {expected}; "
        f"{REBUILD_HINT} using this encoder",
        code="index_mismatch",
        details={"stored": stored, "expected": expected},
    )


def check_write_target(root: Path, meta_file: str) -> None:
    """Refuse to write an index into ``root`` when it exists and is not a catalogue (no
    ``meta_file``), so a mistyped ``-o ~`` can never have anything replaced."""
    if root.exists() and (
        not root.is_dir() or (any(root.iterdir()) and not (root / meta_file).exists())
    ):
        raise CatalogError(
            f"refusing to write the index to {root}: it exists and is not a tunelens "
            "catalogue index; choose an empty or new directory",
            code="catalog_invalid",
        )


def index_corrupt(root: Path, what: str) -> CatalogError:
    """A file of the catalogue at ``root`` cannot be read (``what`` says which and why)."""
    return CatalogError(
        f"the catalogue index at {root} is corrupt ({what}); {REBUILD_HINT}",
        code="index_corrupt",
        details={"dir": str(root)},
    )
