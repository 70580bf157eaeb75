"""Small arrays derived from one catalogue version, kept beside it for the next start.

Some facts are derived from a whole catalogue once per process: which songs sit near very
many moods (:mod:`tunelens.recommend.exposure`, one search per mood of a 25 × 25 grid) and the
spread sample of features the mapping's quantiles are read from. At ten million songs that is
seconds of searching and hundreds of MB of pages read at every start of every worker, for an
answer that only changes with the catalogue. So the answer (a few named arrays) is stored
under ``derived/<name>-<key>.npz`` in the catalogue directory, where ``key`` is a sha256 over the
catalogue's hash and version, the tunelens version and the caller's own inputs (the grid
targets, weights, sample size…): a changed input or another release is another key, never a
stale answer, and the array is what computing it again would give.

Writing is best effort and atomic (temporary file + rename): a read-only directory (an image,
a shared mount) only means computing again. The files are not part of a version's manifest
(``meta.json`` names what a version *is*; these are what it implies): a copy of a shared
``s3://`` catalogue derives its own once, and an older key of the same name is deleted when a
new one is written.
"""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tunelens import __version__
from tunelens.core.atomic import write_atomic

__all__ = ["DERIVED_DIR", "Arrays", "derived_key", "load_derived", "save_derived"]

DERIVED_DIR = "derived"

log = logging.getLogger(__name__)


def derived_key(catalogue_hash: str, version: int | None, inputs: bytes) -> str:
    """The name part that ties a derived array to one catalogue version and its inputs."""
    digest = hashlib.sha256()
    for part in (catalogue_hash.encode(), str(version).encode(), __version__.encode(), inputs):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()[:24]


Arrays = dict[str, NDArray[Any]]


def _path(root: Path, name: str, key: str) -> Path:
    return root / DERIVED_DIR / f"{name}-{key}.npz"


def load_derived(root: Path, name: str, key: str) -> Arrays | None:
    """The arrays stored for (``name``, ``key``), or None when absent or unreadable."""
    path = _path(root, name, key)
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {field: stored[field] for field in stored.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def save_derived(root: Path, name: str, key: str, arrays: Arrays) -> bool:
    """Store ``arrays`` for (``name``, ``key``) and drop older keys of ``name``; False when the
    directory cannot be written (the caller keeps what it computed either way)."""
    path = _path(root, name, key)
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **{k: np.ascontiguousarray(v) for k, v in arrays.items()})
    try:
        path.parent.mkdir(exist_ok=True)
        write_atomic(path, buffer.getvalue())
        for other in path.parent.glob(f"{name}-*.npz"):
            if other.name != path.name and len(other.stem) == len(path.stem):
                other.unlink(missing_ok=True)
    except OSError as exc:
        log.info("cannot keep %s for the next start (%s): it is computed at every start", name, exc)
        return False
    return True
