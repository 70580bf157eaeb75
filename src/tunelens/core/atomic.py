"""Files several processes share: written so a reader never sees half, locked so two
read-modify-writes never interleave.

Everything tunelens rewrites in place — kept uploads and the outbox, ``active.json`` of the
learned heads, cached head matrices, compiled catalogues, shared predictions — goes through
:func:`write_atomic`: a temporary file in the same folder, then a rename over the target.
``durable=True`` adds the fsyncs (file, then folder) that make the new content survive a power
cut; caches that can be rebuilt skip them, because an fsync costs milliseconds.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (best effort: some filesystems refuse)."""
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename; fsynced when
    ``durable``. The temporary file is removed when anything fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


@contextmanager
def folder_lock(folder: Path, name: str = ".lock", *, blocking: bool = True) -> Iterator[bool]:
    """An inter-process lock on ``folder/name`` (``flock``): server workers, the CLI and the
    watch jobs change the same files (``active.json``, the outbox), and two read-modify-writes
    must not interleave.
    Yields False (and holds nothing) when ``blocking=False`` and another process holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("a+b") as handle:
        flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
        try:
            fcntl.flock(handle.fileno(), flags)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
