"""Spotify-style CSV → tracks: the TidyTuesday ``spotify_songs.csv`` and the moods CSV.

The schema is read from the header (names are case-insensitive, aliases in
:data:`~tunelens.catalogue.rows.ALIASES`); the delimiter is sniffed from the first line so a
TSV or a semicolon export loads too. A record the CSV parser cannot read, or one with the
wrong number of fields, becomes a :class:`~tunelens.catalogue.load_report.RowProblem` at its
first physical line with a hint (an unbalanced quote, a stray delimiter) instead of stopping
the load.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tunelens.catalogue.load_report import LoadReport, RowProblem, RowTally, finish_load
from tunelens.catalogue.rows import ALIASES, REQUIRED, build_record
from tunelens.catalogue.text_files import check_text_file, not_utf8
from tunelens.core.audio import MOOD_FEATURES
from tunelens.core.errors import CatalogError

__all__ = ["CsvLayout", "csv_layout", "load_spotify_csv"]


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
    for canonical, aliases in ALIASES.items():
        for alias in aliases:
            if alias in position:
                columns[canonical] = position[alias]
                break
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        wanted = "; ".join(f"{c} (one of: {', '.join(ALIASES[c])})" for c in missing)
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


@dataclass(frozen=True)
class _Layout:
    """Where each canonical field sits in this file, and how the file names it."""

    columns: dict[str, int]
    names: list[str]

    @classmethod
    def from_header(cls, header: list[str], path: Path) -> _Layout:
        return cls(_resolve_columns(header, path), [h.strip().lower() for h in header])

    @property
    def format(self) -> str:
        if "track_id" in self.names:
            return "spotify-tidytuesday"
        return "spotify-moods" if "mood" in self.names else "spotify-csv"

    def column_of(self, canonical: str) -> str:
        i = self.columns.get(canonical)
        return self.names[i] if i is not None else ALIASES[canonical][0]

    def getter(self, row: list[str]) -> Callable[[str], object]:
        def get(canonical: str) -> object:
            i = self.columns.get(canonical)
            return None if i is None else row[i]

        return get


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


def _field_count_problem(start: int, end: int, expected: int, found: int) -> RowProblem:
    hint = (
        f"; the record spans lines {start}–{end}: an unbalanced quote?"
        if end > start
        else "; an unquoted delimiter or a missing field?"
    )
    return RowProblem(start, f"expected {expected} fields, found {found}" + hint)


@dataclass
class _CsvReading:
    """One pass over a CSV file; ``last_line`` says where a decoding error happened."""

    path: Path
    tally: RowTally
    last_line: int = 1

    def read(self, handle: TextIO) -> None:
        first_line = handle.readline()
        handle.seek(0)
        reader = csv.reader(handle, delimiter=_sniff_delimiter(self.path, first_line))
        try:
            header = next(reader)
        except (StopIteration, csv.Error) as exc:
            raise CatalogError(
                f"{self.path} has no readable CSV header", code="catalog_invalid"
            ) from exc
        layout = _Layout.from_header(header, self.path)
        self.tally.format = layout.format
        for start, end, row in _csv_records(reader, lambda: reader.line_num):
            self.last_line = end
            self._row(layout, len(header), (start, end), row)

    def _row(
        self, layout: _Layout, n_columns: int, lines: tuple[int, int], row: list[str] | csv.Error
    ) -> None:
        start, end = lines
        if isinstance(row, csv.Error):
            self.tally.rows_read += 1
            self.tally.problems.append(RowProblem(start, f"unreadable CSV record: {row}"))
            return
        if not row:
            return  # a blank line is not a row
        self.tally.rows_read += 1
        if len(row) != n_columns:
            self.tally.problems.append(_field_count_problem(start, end, n_columns, len(row)))
            return
        record, reasons = build_record(
            layout.getter(row), layout.column_of, start, source="spotify"
        )
        self.tally.add(start, record, reasons)


def load_spotify_csv(path: str | Path) -> LoadReport:
    """Load a Spotify-style CSV: the TidyTuesday ``spotify_songs.csv`` or the moods CSV.

    The schema is detected from the header (column names are case-insensitive; ``length`` is
    the moods CSV's name for ``duration_ms``). Each row is validated and either becomes a
    track or a :class:`RowProblem`; duplicates are merged as described in
    :mod:`tunelens.catalogue.loaders`.
    """
    path = Path(path)
    tally = RowTally(source=str(path), format="")
    check_text_file(path)
    reading = _CsvReading(path, tally)
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            reading.read(handle)
    except UnicodeDecodeError as exc:
        raise not_utf8(path, reading.last_line + 1, exc) from exc
    return finish_load(tally)


#: the layout of a catalogue file's columns, for readers that parse rows elsewhere (Ray Data)
CsvLayout = _Layout


def csv_layout(path: Path) -> tuple[CsvLayout, str, int]:
    """The header of the CSV at ``path`` as :func:`load_spotify_csv` reads it: the column
    layout, the delimiter and the number of columns (the Ray build parses the rows in
    parallel and validates them with the same layout)."""
    check_text_file(path)
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            first_line = handle.readline()
            handle.seek(0)
            delimiter = _sniff_delimiter(path, first_line)
            header = next(csv.reader(handle, delimiter=delimiter))
    except (StopIteration, csv.Error) as exc:
        raise CatalogError(f"{path} has no readable CSV header", code="catalog_invalid") from exc
    except UnicodeDecodeError as exc:
        raise not_utf8(path, 1, exc) from exc
    return _Layout.from_header(header, path), delimiter, len(header)
