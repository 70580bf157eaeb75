"""What a load produced, skipped and merged: :class:`LoadReport` and its :class:`RowProblem`.

Each loader gathers its rows in a :class:`RowTally` and hands it to :func:`finish_load`, which
merges duplicates and turns "nothing usable" into one error that quotes the first problems —
so every format reports the same way and a file of only bad rows never builds an empty index.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tunelens.catalogue.merge import merge_records
from tunelens.catalogue.models import Catalogue
from tunelens.catalogue.rows import SourceRecord
from tunelens.core.errors import CatalogError

__all__ = ["LoadReport", "RowProblem", "RowTally", "finish_load"]


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
class RowTally:
    """The rows a loader has read so far: the valid ones and the problems of the others."""

    source: str
    format: str
    started: float = field(default_factory=time.perf_counter)
    rows_read: int = 0
    records: list[SourceRecord] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    def add(self, line: int, record: SourceRecord | None, reasons: list[str]) -> None:
        """Keep a validated row, or record why it was skipped."""
        if record is None:
            self.problems.append(RowProblem(line, "; ".join(reasons)))
        else:
            self.records.append(record)


def finish_load(tally: RowTally) -> LoadReport:
    """Merge the tally's rows into a catalogue; CatalogError ``catalog_empty`` if none is left."""
    merged = merge_records(tally.records)
    problems = tally.problems
    if not merged.tracks:
        shown = "; ".join(str(p) for p in problems[:5])
        raise CatalogError(
            f"{tally.source} has no usable tracks ({tally.rows_read} rows read, "
            f"{len(problems)} skipped)" + (f": {shown}" if shown else ""),
            code="catalog_empty",
            details={"rows_read": tally.rows_read, "problems": [str(p) for p in problems[:20]]},
        )
    return LoadReport(
        catalogue=Catalogue(merged.tracks),
        rows_read=tally.rows_read,
        problems=problems,
        duplicates_merged=merged.merged_by_id + merged.merged_by_title_artist,
        source=tally.source,
        merged_by_id=merged.merged_by_id,
        merged_by_title_artist=merged.merged_by_title_artist,
        format=tally.format,
        merged_ids=merged.merged_ids,
        seconds=time.perf_counter() - tally.started,
    )
