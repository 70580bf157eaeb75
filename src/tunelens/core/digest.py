"""The sha256 of a file's bytes: how tunelens recognises every file it downloads, makes or
publishes (model files in lock files, catalogue segments in ``meta.json``, fetched CSVs).

One function, so that a model lock, a catalogue manifest and a download check all mean the
same thing by "the file's sha256". It reads in chunks (``hashlib.file_digest``), so a
multi-gigabyte segment never sits in memory whole.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["sha256_file"]


def sha256_file(path: Path) -> str:
    """Hex sha256 of the file at ``path``."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
