"""The JSON Lines file a batch run writes and resumes from: the line shapes and the writer.

One JSON object per line:

* one ``{"type": "photo", ...}`` line per photo, in completion order::

      {"type": "photo", "photo": "trips/beach.jpg", "status": "ok", "sha256": "…",
       "reading": {…Reading…}, "target": {"features": {…}, "weights": {…}},
       "tracks": [{"rank", "id", "title", "artist", "genre", "score"}, …],
       "timings_ms": {…}}
      {"type": "photo", "photo": "notes.txt", "status": "error",
       "error": {"code": "not_an_image", "message": "…"}}

  ``target`` is the audio profile the pipeline ranked the photo's songs against (it follows
  the active learned feature head); outputs written before it existed lack it.
* last, one ``{"type": "album", ...}`` line (:mod:`tunelens.batch.album`).

The shapes live here, in one place, because every engine must write identical lines and the
resume logic must read back exactly what was written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tunelens.core.types import Recommendation, RecommendedTrack

#: one line of the output, as written and as read back
Line = dict[str, Any]


def track_line(item: RecommendedTrack) -> dict[str, Any]:
    """A recommended song as photo and album lines list it (no reasons, no feature values)."""
    track = item.track
    return {
        "rank": item.rank,
        "id": track.id,
        "title": track.title,
        "artist": track.artist,
        "genre": track.genre,
        "score": item.score,
    }


def ok_line(photo: str, rec: Recommendation) -> Line:
    """The line of a photo tunelens read: its reading, its target and its songs."""
    return {
        "type": "photo",
        "photo": photo,
        "status": "ok",
        "sha256": rec.image_sha256,
        "reading": rec.reading.model_dump(mode="json"),
        "target": rec.target.model_dump(mode="json"),
        "tracks": [track_line(item) for item in rec.tracks],
        "timings_ms": rec.timings_ms,
    }


def error_line(photo: str, code: str, message: str) -> Line:
    """The line of a photo tunelens could not read, with the stable error ``code``."""
    return {
        "type": "photo",
        "photo": photo,
        "status": "error",
        "error": {"code": code, "message": message},
    }


def read_output(path: Path) -> tuple[list[Line], int]:
    """Complete photo lines of an existing output and the byte length to keep.

    The kept prefix ends after the last complete photo line: a torn line (the run was killed
    mid-write) and any album line are dropped, because the album is rewritten at the end.
    """
    if not path.is_file():
        return [], 0
    lines: list[Line] = []
    keep = 0
    offset = 0
    with path.open("rb") as handle:
        for raw in handle:
            offset += len(raw)
            if not raw.endswith(b"\n"):
                break
            try:
                record = json.loads(raw)
            except ValueError:
                break
            if isinstance(record, dict) and record.get("type") == "photo" and "photo" in record:
                lines.append(record)
                keep = offset
            elif isinstance(record, dict) and record.get("type") == "album":
                continue
            else:
                break
    return lines, keep


class LineWriter:
    """Appends JSON lines; each is flushed and fsynced before the next is written, so an
    interrupted run loses at most the line in flight."""

    def __init__(self, path: Path, keep_bytes: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = "r+b" if path.exists() else "wb"
        self._handle = path.open(mode)
        self._handle.truncate(keep_bytes)
        self._handle.seek(keep_bytes)
        self._fsync()

    def write(self, record: Line) -> None:
        data = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        self._handle.write(data.encode("utf-8"))
        self._fsync()

    def _fsync(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()
