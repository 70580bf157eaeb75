"""Turn catalogue sources (Spotify-style CSV, JSON Lines, a folder of audio files) into tracks.

Sources are user input, so a bad row never stops a load: each one becomes a
:class:`RowProblem` with its physical line number (the header is line 1, and a quoted field
spanning lines counts every line) and a reason precise enough to fix the file, and the row is
skipped. Only a file that is not a catalogue at all (missing, empty, binary, not UTF-8, no
id/title/artist columns) raises :class:`~tunelens.core.errors.CatalogError`.

Rules shared by every loader:

* Missing values — an empty cell, or R's ``NA`` (the TidyTuesday CSV writes missing titles
  as ``NA``), is "unknown". A missing feature is fine; a row with *no* mood-bearing feature
  is a problem because it could never be matched. Spotify's sentinel values mean unknown
  too: ``key = -1``, ``tempo = 0`` and ``time_signature = 0``.
* Ranges — danceability, energy, speechiness, acousticness, instrumentalness, liveness and
  valence in [0, 1]; key an integer in −1…11; mode 0 or 1; loudness −60…5 dB; tempo in
  (0, 300] BPM; duration_ms > 0; time_signature an integer in 1…7; popularity 0…100.
* Duplicates — rows sharing an id become one track (playlists and genres merged, the most
  frequent genre primary, the highest popularity); then tracks whose normalised title and
  artist agree (:func:`normalise_key`: NFKC, casefold, punctuation and spaces removed —
  deliberately conservative, so "Song - Remastered" stays separate) are merged into the
  most popular one. The TidyTuesday data repeats a track once per playlist, and re-releases
  of one recording carry different ids, so without this the same song would fill a top 10.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunelens.catalogue.models import Catalogue, Track, default_links
from tunelens.core.audio import FEATURES, MOOD_FEATURES
from tunelens.core.errors import CatalogError

__all__ = [
    "LoadReport",
    "RowProblem",
    "load_audio_folder",
    "load_jsonl",
    "load_source",
    "load_spotify_csv",
    "normalise_key",
]

ProgressCallback = Callable[[str], None]

_UNIT_FEATURES = frozenset(
    {
        "danceability",
        "energy",
        "speechiness",
        "acousticness",
        "instrumentalness",
        "liveness",
        "valence",
    }
)
_MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none"})
_TEXT_MISSING = frozenset({"", "NA"})

#: Canonical field → accepted column names, in order of preference.
_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("track_id", "id", "spotify_id"),
    "title": ("track_name", "name", "title"),
    "artist": ("track_artist", "artist", "artists", "artist_name"),
    "album": ("track_album_name", "album", "album_name"),
    "popularity": ("track_popularity", "popularity"),
    "release_date": ("track_album_release_date", "release_date"),
    "playlist": ("playlist_name", "playlist"),
    "genre": ("playlist_genre", "genre"),
    "subgenre": ("playlist_subgenre", "subgenre"),
    "mood": ("mood",),
    **{name: (name,) for name in FEATURES if name != "duration_ms"},
    "duration_ms": ("duration_ms", "length"),
}
_REQUIRED = ("id", "title", "artist")
_MAX_REASON_VALUE = 40


@dataclass
class RowProblem:
    """One skipped row: where it is (1-based physical line; 0 when not line-based) and why."""

    line: int
    reason: str
    file: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        return f"{where}line {self.line}: {self.reason}" if self.line else where + self.reason


@dataclass
class LoadReport:
    """What a load produced and what it had to skip or merge, for the build summary."""

    catalogue: Catalogue
    rows_read: int
    problems: list[RowProblem]
    duplicates_merged: int
    source: str
    merged_by_id: int = 0
    merged_by_title_artist: int = 0
    format: str = ""
    #: dropped id → id of the track it was merged into (title+artist merges only)
    merged_ids: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class _Record:
    """One valid source row before merging."""

    line: int
    id: str
    title: str
    artist: str
    features: dict[str, float]
    album: str | None = None
    genre: str | None = None
    subgenre: str | None = None
    popularity: float | None = None
    release_date: str | None = None
    playlists: tuple[str, ...] = ()
    mood: str | None = None
    source: str = "spotify"
    links: dict[str, str] = field(default_factory=dict)
    genres: tuple[str, ...] = ()


# --------------------------------------------------------------------------- validation


def normalise_key(text: str) -> str:
    """Title/artist key for duplicate detection: NFKC, casefold, drop punctuation and spaces.

    Accents and symbols are kept (``Canción`` ≠ ``Cancion``, ``A$AP`` ≠ ``ASAP``) and
    version suffixes are not stripped: a false merge hides a song, a missed one only repeats it.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PZC")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REASON_VALUE else text[: _MAX_REASON_VALUE - 1] + "…'"


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().casefold() in _MISSING_TOKENS
    return isinstance(value, float) and math.isnan(value)


def _parse_number(column: str, value: object) -> float:
    """A finite float from a CSV string or JSON number; ValueError with a reason otherwise."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{column}={_show(value)} is not a number")
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except ValueError:
        raise ValueError(f"{column}={_show(value)} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{column}={_show(value)} is not a finite number")
    return number


def _whole(column: str, value: object, number: float) -> int:
    if number != int(number):
        raise ValueError(f"{column}={_show(value)} is not a whole number")
    return int(number)


def _check_feature(name: str, column: str, value: object) -> float | None:
    """Validate one feature; None means unknown. Raises ValueError with the reason."""
    if _is_missing(value):
        return None
    x = _parse_number(column, value)
    shown = _show(value)
    if name in _UNIT_FEATURES:
        if not 0.0 <= x <= 1.0:
            raise ValueError(f"{column}={shown} is outside [0, 1]")
        return x
    if name == "key":
        k = _whole(column, value, x)
        if not -1 <= k <= 11:
            raise ValueError(f"{column}={shown} is outside -1…11 (pitch class, -1 = unknown)")
        return None if k == -1 else float(k)
    if name == "mode":
        m = _whole(column, value, x)
        if m not in (0, 1):
            raise ValueError(f"{column}={shown} must be 0 (minor) or 1 (major)")
        return float(m)
    if name == "loudness":
        if not -60.0 <= x <= 5.0:
            raise ValueError(f"{column}={shown} is outside -60…5 dB")
        return x
    if name == "tempo":
        if not 0.0 <= x <= 300.0:
            raise ValueError(f"{column}={shown} is outside 0…300 BPM")
        return None if x == 0.0 else x
    if name == "duration_ms":
        if x <= 0.0:
            raise ValueError(f"{column}={shown} must be positive")
        return x
    if name == "time_signature":
        t = _whole(column, value, x)
        if not 0 <= t <= 7:
            raise ValueError(f"{column}={shown} is outside 1…7 (0 = unknown)")
        return None if t == 0 else float(t)
    raise AssertionError(f"unhandled feature {name}")  # pragma: no cover


def _text(value: object) -> str | None:
    """A stripped string, None when missing (empty or R's ``NA``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else format(value, "g")
    if not isinstance(value, str):
        return None
    text = value.strip()
    return None if text in _TEXT_MISSING else text


def _build_record(
    get: Callable[[str], object],
    column_of: Callable[[str], str],
    line: int,
    *,
    source: str,
) -> tuple[_Record | None, list[str]]:
    """Validate one row given ``get(canonical_field)``; returns (record | None, reasons)."""
    reasons: list[str] = []
    required: dict[str, str] = {}
    for name in _REQUIRED:
        raw = get(name)
        text = _text(raw)
        if text is None:
            if raw is None:
                what = "missing"
            elif isinstance(raw, str) and not raw.strip():
                what = "empty"
            else:
                what = f"missing ({_show(raw)})"
            reasons.append(f"{column_of(name)} is {what}")
        else:
            required[name] = text
    features: dict[str, float] = {}
    for name in FEATURES:
        try:
            value = _check_feature(name, column_of(name), get(name))
        except ValueError as exc:
            reasons.append(str(exc))
            continue
        if value is not None:
            features[name] = value
    popularity: float | None = None
    try:
        raw_pop = get("popularity")
        if not _is_missing(raw_pop):
            popularity = _parse_number(column_of("popularity"), raw_pop)
            if not 0.0 <= popularity <= 100.0:
                raise ValueError(f"{column_of('popularity')}={_show(raw_pop)} is outside 0…100")
    except ValueError as exc:
        reasons.append(str(exc))
    if not reasons and not any(name in features for name in MOOD_FEATURES):
        reasons.append("no mood-bearing audio feature is known (" + ", ".join(MOOD_FEATURES) + ")")
    if reasons:
        return None, reasons
    genre = _text(get("genre"))
    playlist = _text(get("playlist"))
    return (
        _Record(
            line=line,
            id=required["id"],
            title=required["title"],
            artist=required["artist"],
            features=features,
            album=_text(get("album")),
            genre=genre.lower() if genre else None,
            subgenre=(_text(get("subgenre")) or "").lower() or None,
            popularity=popularity,
            release_date=_text(get("release_date")),
            playlists=(playlist,) if playlist else (),
            mood=_text(get("mood")),
            source=source,
        ),
        [],
    )


# --------------------------------------------------------------------------- merging


def _most_common_first(values: Iterable[str]) -> list[str]:
    """Distinct values by frequency; ties keep first-seen order (Counter is stable)."""
    return [v for v, _ in Counter(values).most_common()]


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _merge_same_id(records: list[_Record]) -> Track:
    first = records[0]
    genres = _most_common_first(
        [r.genre for r in records if r.genre] + [g for r in records for g in r.genres]
    )
    primary = genres[0] if genres else None
    subgenres = _most_common_first(
        r.subgenre for r in records if r.subgenre and (r.genre == primary or r.genre is None)
    )
    features: dict[str, float] = {}
    for record in records:
        for name, value in record.features.items():
            features.setdefault(name, value)
    popularities = [r.popularity for r in records if r.popularity is not None]
    links = default_links(first.id, first.title, first.artist)
    for record in records:
        links.update(record.links)

    def first_of(attr: str) -> str | None:
        for record in records:
            value = getattr(record, attr)
            if value is not None:
                return str(value)
        return None

    return Track(
        id=first.id,
        title=first.title,
        artist=first.artist,
        album=first_of("album"),
        genre=primary,
        subgenre=subgenres[0] if subgenres else None,
        popularity=max(popularities) if popularities else None,
        release_date=first_of("release_date"),
        features={n: features[n] for n in FEATURES if n in features},
        playlists=_unique(p for r in records for p in r.playlists),
        source=first.source,
        links=links,
        mood=first_of("mood"),
        genres=tuple(genres),
    )


def _merge_same_song(tracks: list[Track]) -> Track:
    """Keep the most popular version; fold the others' playlists and genres into it."""
    winner = max(tracks, key=lambda t: -1.0 if t.popularity is None else t.popularity)
    others = [t for t in tracks if t is not winner]
    genres = _unique([*winner.genres, *(g for t in others for g in t.genres)])
    playlists = _unique([*winner.playlists, *(p for t in others for p in t.playlists)])
    return dataclasses.replace(
        winner,
        playlists=playlists,
        mood=winner.mood or next((t.mood for t in others if t.mood), None),
        genres=genres,
    )


def _merge(records: list[_Record]) -> tuple[list[Track], int, int, dict[str, str]]:
    """Merge by id, then by normalised title+artist. Returns tracks and merge counts."""
    by_id: dict[str, list[_Record]] = {}
    for record in records:
        by_id.setdefault(record.id, []).append(record)
    id_tracks = [_merge_same_id(group) for group in by_id.values()]
    merged_by_id = len(records) - len(id_tracks)

    by_song: dict[tuple[str, str] | str, list[Track]] = {}
    for track in id_tracks:
        title, artist = normalise_key(track.title), normalise_key(track.artist)
        # An all-punctuation title or artist ("...", "¿?") has no key: never merge on it.
        key: tuple[str, str] | str = (title, artist) if title and artist else "id:" + track.id
        by_song.setdefault(key, []).append(track)
    tracks: list[Track] = []
    merged_ids: dict[str, str] = {}
    for group in by_song.values():
        if len(group) == 1:
            tracks.append(group[0])
            continue
        kept = _merge_same_song(group)
        tracks.append(kept)
        merged_ids.update({t.id: kept.id for t in group if t.id != kept.id})
    return tracks, merged_by_id, len(id_tracks) - len(tracks), merged_ids


def _finish(
    records: list[_Record],
    rows_read: int,
    problems: list[RowProblem],
    *,
    source: str,
    fmt: str,
    started: float,
) -> LoadReport:
    tracks, by_id, by_song, merged_ids = _merge(records)
    if not tracks:
        shown = "; ".join(str(p) for p in problems[:5])
        raise CatalogError(
            f"{source} has no usable tracks ({rows_read} rows read, {len(problems)} skipped)"
            + (f": {shown}" if shown else ""),
            code="catalog_empty",
            details={"rows_read": rows_read, "problems": [str(p) for p in problems[:20]]},
        )
    return LoadReport(
        catalogue=Catalogue(tracks),
        rows_read=rows_read,
        problems=problems,
        duplicates_merged=by_id + by_song,
        source=source,
        merged_by_id=by_id,
        merged_by_title_artist=by_song,
        format=fmt,
        merged_ids=merged_ids,
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- text files


_BINARY_MAGIC: dict[bytes, str] = {
    b"PK\x03\x04": "a ZIP archive (unzip it first)",
    b"\x1f\x8b": "gzip-compressed (decompress it first)",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"SQLite format 3": "an SQLite database",
    b"\x93NUMPY": "a NumPy array file",
    b"PAR1": "a Parquet file (export it as CSV)",
}


def _check_text_file(path: Path) -> None:
    """Refuse missing, empty and binary files before the parser makes a mess of them."""
    if not path.exists():
        raise CatalogError(f"catalogue source not found: {path}", code="catalog_missing")
    if not path.is_file():
        raise CatalogError(f"catalogue source is not a file: {path}", code="catalog_invalid")
    with path.open("rb") as handle:
        head = handle.read(8192)
    if not head.strip():
        raise CatalogError(f"{path} is empty", code="catalog_empty")
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise CatalogError(
                f"{path} is {what}, not a catalogue text file", code="catalog_invalid"
            )
    if b"\x00" in head:
        raise CatalogError(
            f"{path} looks like a binary file (it contains NUL bytes), not CSV or JSON Lines",
            code="catalog_invalid",
        )


def _not_utf8(path: Path, line: int, exc: UnicodeDecodeError) -> CatalogError:
    return CatalogError(
        f"{path} is not UTF-8 text (undecodable byte near line {line}: {exc.reason}); "
        "re-save it as UTF-8",
        code="catalog_invalid",
    )


def _sniff_delimiter(path: Path, header_line: str) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    if "," not in header_line:
        for candidate in ("\t", ";", "|"):
            if candidate in header_line:
                return candidate
    return ","


def _resolve_columns(header: list[str], path: Path) -> dict[str, int]:
    """Map canonical fields to column positions; CatalogError naming what is missing."""
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    position: dict[str, int] = {}
    for i, name in enumerate(names):
        position.setdefault(name, i)
    columns: dict[str, int] = {}
    for canonical, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in position:
                columns[canonical] = position[alias]
                break
    missing = [c for c in _REQUIRED if c not in columns]
    if missing:
        wanted = "; ".join(f"{c} (one of: {', '.join(_ALIASES[c])})" for c in missing)
        found = ", ".join(n for n in names[:30] if n) or "(none)"
        raise CatalogError(
            f"{path} is not a Spotify-style catalogue CSV: missing required column(s) {wanted}."
            f" Columns found: {found}",
            code="catalog_invalid",
            details={"missing_columns": missing, "columns": names},
        )
    if not any(f in columns for f in MOOD_FEATURES):
        raise CatalogError(
            f"{path} has no audio feature columns (expected some of: {', '.join(MOOD_FEATURES)})",
            code="catalog_invalid",
            details={"columns": names},
        )
    return columns


def _csv_records(
    reader: Iterator[list[str]], line_num: Callable[[], int]
) -> Iterator[tuple[int, int, list[str] | csv.Error]]:
    """Yield (first line, last line, row or parse error), never raising for one bad record."""
    previous = line_num()
    while True:
        try:
            row: list[str] | csv.Error = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row = exc
        current = line_num()
        yield previous + 1, current, row
        if current == previous and isinstance(row, csv.Error):
            return  # the parser cannot advance: stop rather than loop forever
        previous = current


def load_spotify_csv(path: str | Path) -> LoadReport:
    """Load a Spotify-style CSV: the TidyTuesday ``spotify_songs.csv`` or the moods CSV.

    The schema is detected from the header (column names are case-insensitive; ``length`` is
    the moods CSV's name for ``duration_ms``). Each row is validated and either becomes a
    track or a :class:`RowProblem`; duplicates are merged as described in the module docs.
    """
    started = time.perf_counter()
    path = Path(path)
    _check_text_file(path)
    problems: list[RowProblem] = []
    records: list[_Record] = []
    rows_read = 0
    last_line = 1
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            first_line = handle.readline()
            handle.seek(0)
            reader = csv.reader(handle, delimiter=_sniff_delimiter(path, first_line))
            try:
                header = next(reader)
            except (StopIteration, csv.Error) as exc:
                raise CatalogError(
                    f"{path} has no readable CSV header", code="catalog_invalid"
                ) from exc
            columns = _resolve_columns(header, path)
            names = [h.strip().lower() for h in header]
            fmt = (
                "spotify-tidytuesday"
                if "track_id" in names
                else "spotify-moods"
                if "mood" in names
                else "spotify-csv"
            )
            n_columns = len(header)

            def column_of(canonical: str) -> str:
                i = columns.get(canonical)
                return names[i] if i is not None else _ALIASES[canonical][0]

            for start, end, row in _csv_records(reader, lambda: reader.line_num):
                last_line = end
                if isinstance(row, csv.Error):
                    rows_read += 1
                    problems.append(RowProblem(start, f"unreadable CSV record: {row}"))
                    continue
                if not row:
                    continue  # a blank line is not a row
                rows_read += 1
                if len(row) != n_columns:
                    hint = (
                        f"; the record spans lines {start}–{end}: an unbalanced quote?"
                        if end > start
                        else "; an unquoted delimiter or a missing field?"
                    )
                    problems.append(
                        RowProblem(start, f"expected {n_columns} fields, found {len(row)}" + hint)
                    )
                    continue

                def get(canonical: str, row: list[str] = row) -> object:
                    i = columns.get(canonical)
                    return None if i is None else row[i]

                record, reasons = _build_record(get, column_of, start, source="spotify")
                if record is None:
                    problems.append(RowProblem(start, "; ".join(reasons)))
                else:
                    records.append(record)
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, last_line + 1, exc) from exc
    return _finish(records, rows_read, problems, source=str(path), fmt=fmt, started=started)


def load_jsonl(path: str | Path) -> LoadReport:
    """Load JSON Lines: one track object per line (the index's own ``tracks.jsonl`` works).

    Accepts the :meth:`Track.to_dict` shape (features nested under ``features``) and flat
    objects with the feature names (or the CSV column names) at top level. Every value goes
    through the same validation as the CSV loader.
    """
    started = time.perf_counter()
    path = Path(path)
    _check_text_file(path)
    problems: list[RowProblem] = []
    records: list[_Record] = []
    rows_read = 0
    line_no = 0
    try:
        with path.open("r", encoding="utf-8-sig", newline=None) as handle:
            for line_no, raw_line in enumerate(handle, start=1):
                text = raw_line.strip()
                if not text:
                    continue
                if rows_read == 0 and text.startswith("["):
                    raise CatalogError(
                        f"{path} is a JSON array; tunelens reads JSON Lines (one object per "
                        "line, no surrounding [ ])",
                        code="catalog_invalid",
                    )
                rows_read += 1
                try:
                    obj = json.loads(text)
                except json.JSONDecodeError as exc:
                    problems.append(
                        RowProblem(line_no, f"invalid JSON: {exc.msg} (col {exc.colno})")
                    )
                    continue
                if not isinstance(obj, dict):
                    problems.append(
                        RowProblem(line_no, f"expected a JSON object, found {type(obj).__name__}")
                    )
                    continue
                record, reasons = _record_from_json(obj, line_no)
                if record is None:
                    problems.append(RowProblem(line_no, "; ".join(reasons)))
                else:
                    records.append(record)
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, line_no + 1, exc) from exc
    return _finish(records, rows_read, problems, source=str(path), fmt="jsonl", started=started)


def _record_from_json(obj: Mapping[str, Any], line: int) -> tuple[_Record | None, list[str]]:
    lowered = {str(k).lower(): v for k, v in obj.items()}
    nested = lowered.get("features")
    nested_features = (
        {str(k).lower(): v for k, v in nested.items()} if isinstance(nested, dict) else {}
    )
    reasons: list[str] = []
    if nested is not None and not isinstance(nested, dict):
        reasons.append(f"features must be an object, found {type(nested).__name__}")

    def key_for(canonical: str) -> str | None:
        for alias in _ALIASES[canonical]:
            if alias in lowered:
                return alias
        return None

    def get(canonical: str) -> object:
        if canonical in FEATURES and canonical in nested_features:
            return nested_features[canonical]
        alias = key_for(canonical)
        return None if alias is None else lowered[alias]

    def column_of(canonical: str) -> str:
        if canonical in FEATURES and canonical in nested_features:
            return f"features.{canonical}"
        return key_for(canonical) or canonical

    source = _text(lowered.get("source")) or "jsonl"
    record, more = _build_record(get, column_of, line, source=source)
    reasons.extend(more)

    playlists = lowered.get("playlists")
    if playlists is not None and not (
        isinstance(playlists, list) and all(isinstance(p, str) for p in playlists)
    ):
        reasons.append("playlists must be a list of strings")
    genres = lowered.get("genres")
    if genres is not None and not (
        isinstance(genres, list) and all(isinstance(g, str) for g in genres)
    ):
        reasons.append("genres must be a list of strings")
    links = lowered.get("links")
    if links is not None and not (
        isinstance(links, dict) and all(isinstance(v, str) for v in links.values())
    ):
        reasons.append("links must be an object of strings")
    if reasons or record is None:
        return None, reasons
    if isinstance(playlists, list):
        record.playlists = _unique([*record.playlists, *(p.strip() for p in playlists if p)])
    if isinstance(genres, list):
        record.genres = _unique(g.strip().lower() for g in genres if g.strip())
    if isinstance(links, dict):
        record.links = {str(k): str(v) for k, v in links.items()}
    return record, []


# --------------------------------------------------------------------------- audio folders


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
    from tunelens.catalogue.audio_features import AUDIO_SUFFIXES, AudioDecodeError, analyse_file

    started = time.perf_counter()
    root = Path(path)
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
    sidecar = _sidecar_metadata(root)
    records: list[_Record] = []
    problems: list[RowProblem] = []
    for position, file in enumerate(files, start=1):
        relative = file.relative_to(root)
        if progress is not None:
            progress(f"analysing {relative} ({position}/{len(files)})")
        try:
            analysis = analyse_file(file, max_seconds=max_seconds)
        except AudioDecodeError as exc:
            problems.append(RowProblem(position, str(exc), file=str(relative)))
            continue
        except Exception as exc:  # librosa can fail in odd ways on odd files
            problems.append(
                RowProblem(
                    position,
                    f"feature extraction failed: {type(exc).__name__}: {exc}",
                    file=str(relative),
                )
            )
            continue
        info = sidecar.get(file.resolve(), {})
        tags = analysis.tags
        title = tags.get("title") or info.get("title") or _title_from_stem(file.stem)
        artist = tags.get("artist") or info.get("artist") or "Unknown artist"
        genre = tags.get("genre") or info.get("genre")
        track_id = "audio:" + relative.with_suffix("").as_posix()
        links = default_links(track_id, title, artist)
        links["file"] = file.resolve().as_uri()
        records.append(
            _Record(
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
        )
    return _finish(
        records, len(files), problems, source=str(Path(path)), fmt="audio", started=started
    )


# --------------------------------------------------------------------------- dispatch


def load_source(
    path: str | Path,
    *,
    max_seconds: float = 120.0,
    progress: ProgressCallback | None = None,
) -> LoadReport:
    """Load any local catalogue source, choosing the loader from what ``path`` is.

    A directory (or a single audio file) → audio loader; ``.jsonl``/``.ndjson``/``.json`` →
    JSON Lines; ``.csv``/``.tsv``/``.txt`` → CSV; anything else is sniffed (``{`` → JSON
    Lines, else CSV).
    """
    from tunelens.catalogue.audio_features import AUDIO_SUFFIXES

    path = Path(path).expanduser()
    if not path.exists():
        raise CatalogError(
            f"catalogue source not found: {path}. Give a Spotify-style CSV, a JSON Lines file "
            "or a folder of audio files, or a known source name such as spotify-30k",
            code="catalog_missing",
        )
    suffix = path.suffix.lower()
    if path.is_dir() or suffix in AUDIO_SUFFIXES:
        return load_audio_folder(path, max_seconds=max_seconds, progress=progress)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return load_jsonl(path)
    if suffix in (".csv", ".tsv", ".txt"):
        return load_spotify_csv(path)
    _check_text_file(path)
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return load_jsonl(path) if head.startswith(b"{") else load_spotify_csv(path)
