"""The recommended songs as a playlist file: M3U8 or JSPF, with Spotify URLs.

* **M3U8** (extended M3U in UTF-8): ``#EXTM3U``, a ``#PLAYLIST:`` title, then per song
  ``#EXTINF:<seconds>,<artist> - <title>`` and its Spotify URL (``-1`` seconds when the
  duration is unknown, as the format says).
* **JSPF** (XSPF in JSON, https://xspf.org/jspf): ``{"playlist": {"title", "creator",
  "annotation", "date", "track": [{"title", "creator", "album", "location": [url],
  "identifier": ["spotify:track:<id>"], "duration": <ms>}]}}``.

A song without a Spotify link gets its first other link (e.g. a YouTube search); a song with
no link at all cannot be a playlist entry and is left out (``skipped``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from tunelens import __version__
from tunelens.core.errors import InvalidRequest
from tunelens.core.types import TrackOut

ExportFormat = Literal["m3u8", "jspf"]
FORMATS: tuple[ExportFormat, ...] = ("m3u8", "jspf")
MEDIA_TYPES: dict[ExportFormat, str] = {
    "m3u8": "audio/x-mpegurl; charset=utf-8",
    "jspf": "application/jspf+json; charset=utf-8",
}
SUFFIXES: dict[str, ExportFormat] = {
    ".m3u8": "m3u8",
    ".m3u": "m3u8",
    ".jspf": "jspf",
    ".json": "jspf",
}


@dataclass(frozen=True)
class Exported:
    text: str
    format: ExportFormat
    tracks: int
    skipped: list[str]

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


def format_for_path(path: Path) -> ExportFormat:
    """The export format a file name asks for (``.m3u8``/``.m3u`` or ``.jspf``/``.json``)."""
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InvalidRequest(
            f"Cannot tell the playlist format from {path.name!r}: name it .m3u8 (or .m3u) for "
            "M3U8, or .jspf (or .json) for JSPF.",
            code="invalid_export_format",
            details={"path": str(path), "known": sorted(SUFFIXES)},
        )
    return fmt


def unique_tracks(tracks: Iterable[TrackOut]) -> list[TrackOut]:
    """Tracks in order, each id once."""
    seen: set[str] = set()
    out = []
    for track in tracks:
        if track.id not in seen:
            seen.add(track.id)
            out.append(track)
    return out


def _location(track: TrackOut) -> str | None:
    if "spotify" in track.links:
        return track.links["spotify"]
    return next(iter(track.links.values()), None)


def _duration_ms(track: TrackOut) -> int | None:
    value = track.features.get("duration_ms")
    return round(value) if value is not None and value > 0 else None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def to_m3u8(tracks: Sequence[TrackOut], title: str) -> tuple[str, list[str]]:
    lines = ["#EXTM3U", f"#PLAYLIST:{_one_line(title)}"]
    skipped = []
    for track in tracks:
        location = _location(track)
        if location is None:
            skipped.append(track.id)
            continue
        duration = _duration_ms(track)
        seconds = round(duration / 1000) if duration is not None else -1
        lines.append(f"#EXTINF:{seconds},{_one_line(track.artist)} - {_one_line(track.title)}")
        lines.append(location)
    return "\n".join(lines) + "\n", skipped


def to_jspf(
    tracks: Sequence[TrackOut], title: str, annotation: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    entries = []
    skipped = []
    for track in tracks:
        location = _location(track)
        if location is None:
            skipped.append(track.id)
            continue
        entry: dict[str, Any] = {
            "title": track.title,
            "creator": track.artist,
            "location": [location],
        }
        if "spotify" in track.links:
            entry["identifier"] = [f"spotify:track:{track.id}"]
        if track.album:
            entry["album"] = track.album
        duration = _duration_ms(track)
        if duration is not None:
            entry["duration"] = duration
        entries.append(entry)
    playlist: dict[str, Any] = {"title": title, "creator": f"tunelens {__version__}"}
    if annotation:
        playlist["annotation"] = annotation
    playlist["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    playlist["track"] = entries
    return {"playlist": playlist}, skipped


def export_playlist(
    tracks: Iterable[TrackOut],
    fmt: ExportFormat,
    *,
    title: str = "tunelens",
    annotation: str | None = None,
) -> Exported:
    """The tracks (duplicates dropped) as an M3U8 or JSPF document."""
    chosen = unique_tracks(tracks)
    if fmt == "m3u8":
        text, skipped = to_m3u8(chosen, title)
    elif fmt == "jspf":
        document, skipped = to_jspf(chosen, title, annotation)
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    else:
        raise InvalidRequest(
            f"format must be one of {', '.join(FORMATS)}, got {fmt!r}.",
            code="invalid_export_format",
            details={"actual": fmt, "known": list(FORMATS)},
        )
    return Exported(text=text, format=fmt, tracks=len(chosen) - len(skipped), skipped=skipped)


def write_playlist(
    path: Path,
    tracks: Iterable[TrackOut],
    *,
    title: str = "tunelens",
    annotation: str | None = None,
) -> Exported:
    """Write the playlist in the format the file name asks for."""
    exported = export_playlist(tracks, format_for_path(path), title=title, annotation=annotation)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(exported.text, encoding="utf-8")
    except OSError as exc:
        raise InvalidRequest(
            f"Cannot write {path}: {exc.strerror or exc}.",
            code="output_unwritable",
            details={"path": str(path)},
        ) from None
    return exported
