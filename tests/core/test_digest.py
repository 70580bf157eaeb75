"""The one file-hash function every lock file, catalogue manifest and download check uses."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tunelens.core.digest import sha256_file


def test_sha256_file_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000  # more than one read chunk
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert sha256_file(empty) == hashlib.sha256(b"").hexdigest()
