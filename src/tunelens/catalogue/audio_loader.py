"""A folder of audio files → tracks, with features computed by :mod:`.audio_features`.

Title and artist come from the files' tags, else a ``tracks.csv`` sidecar (columns file,
title, artist) beside the files or one folder up, else the file name. Ids are
``audio:<relative path without suffix>`` so they stay stable when the folder moves. A file
that fails to decode is a :class:`~tunelens.catalogue.load_report.RowProblem` naming it, never
the end of the load.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from tunelens.catalogue.audio_features import (
    AUDIO_SUFFIXES,
    AudioAnalysis,
    AudioDecodeError,
    analyse_file,
)
from tunelens.catalogue.load_report import LoadReport, RowProblem, RowTally, finish_load
from tunelens.catalogue.models import default_links
from tunelens.catalogue.rows import SourceRecord
from tunelens.core.errors import CatalogError

__all__ = ["ProgressCallback", "load_audio_folder"]

ProgressCallback = Callable[[str], None]


def _sidecar_metadata(folder: Path) -> dict[Path, dict[str, str]]:
    """title/artist per file from a ``tracks.csv`` in the folder or its parent, if any.

    The ``file`` column may be relative to the CSV's folder (``files/x.ogg``) or a bare name.
    """
    result: dict[Path, dict[str, str]] = {}
    for candidate in (folder / "tracks.csv", folder.parent / "tracks.csv"):
        if not candidate.is_file():
            continue
        try:
            with candidate.open("r", encoding="utf-8-sig", newline="") as handle:
                for row in csv.DictReader(handle):
                    name = (row.get("file") or "").strip()
                    if not name:
                        continue
                    info = {
                        k: v.strip()
                        for k in ("title", "artist", "album", "genre")
                        if (v := row.get(k)) and v.strip()
                    }
                    for target in (candidate.parent / name, folder / Path(name).name):
                        result.setdefault(target.resolve(), info)
        except (OSError, UnicodeDecodeError, csv.Error):
            continue  # a broken sidecar only costs nicer names
        break
    return result


def _title_from_stem(stem: str) -> str:
    return " ".join(stem.replace("_", " ").replace("-", " - ").split()).strip() or stem


def _audio_files(path: Path) -> tuple[Path, list[Path]]:
    """(the folder ids are relative to, the audio files to analyse, sorted)."""
    root = path
    if not root.exists():
        raise CatalogError(f"audio folder not found: {root}", code="catalog_missing")
    if root.is_file():
        files = [root]
        root = root.parent
    else:
        files = sorted(
            p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
        )
    if not files:
        raise CatalogError(
            f"no audio files ({', '.join(AUDIO_SUFFIXES)}) under {root}", code="catalog_empty"
        )
    return root, files


def _record(
    file: Path, relative: Path, position: int, analysis: AudioAnalysis, info: dict[str, str]
) -> SourceRecord:
    tags = analysis.tags
    title = tags.get("title") or info.get("title") or _title_from_stem(file.stem)
    artist = tags.get("artist") or info.get("artist") or "Unknown artist"
    genre = tags.get("genre") or info.get("genre")
    track_id = "audio:" + relative.with_suffix("").as_posix()
    links = default_links(track_id, title, artist)
    links["file"] = file.resolve().as_uri()
    return SourceRecord(
        line=position,
        id=track_id,
        title=title,
        artist=artist,
        features=analysis.features,
        album=tags.get("album") or info.get("album"),
        genre=genre.lower() if genre else None,
        release_date=tags.get("date") or None,
        source="audio",
        links=links,
    )


def _analyse(
    file: Path, relative: Path, position: int, max_seconds: float
) -> AudioAnalysis | RowProblem:
    try:
        return analyse_file(file, max_seconds=max_seconds)
    except AudioDecodeError as exc:
        return RowProblem(position, str(exc), file=str(relative))
    except Exception as exc:  # librosa can fail in odd ways on odd files
        return RowProblem(
            position,
            f"feature extraction failed: {type(exc).__name__}: {exc}",
            file=str(relative),
        )


def load_audio_folder(
    path: str | Path,
    *,
    max_seconds: float = 120.0,
    progress: ProgressCallback | None = None,
) -> LoadReport:
    """Compute features for every audio file under ``path`` (recursively, sorted).

    Title/artist come from the files' tags, else a ``tracks.csv`` (columns file, title,
    artist) beside the files or one folder up, else the file name. Ids are
    ``audio:<relative path without suffix>`` so they stay stable when the folder moves.
    A file that fails to decode becomes a :class:`RowProblem` naming it (``line`` is its
    position in the sorted listing). Accepts a single audio file too.
    """
    tally = RowTally(source=str(Path(path)), format="audio")
    root, files = _audio_files(Path(path))
    tally.rows_read = len(files)
    sidecar = _sidecar_metadata(root)
    for position, file in enumerate(files, start=1):
        relative = file.relative_to(root)
        if progress is not None:
            progress(f"analysing {relative} ({position}/{len(files)})")
        analysis = _analyse(file, relative, position, max_seconds)
        if isinstance(analysis, RowProblem):
            tally.problems.append(analysis)
            continue
        info = sidecar.get(file.resolve(), {})
        tally.records.append(_record(file, relative, position, analysis, info))
    return finish_load(tally)
