"""JSON Lines → tracks: one track object per line (the index's own ``tracks.jsonl`` works).

Both shapes are accepted: :meth:`~tunelens.catalogue.models.Track.to_dict` (features nested
under ``features``) and flat objects with the feature names, or the CSV column names, at top
level. Every value goes through the same validation as the CSV loader, so a feature means the
same thing whichever format it arrived in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tunelens.catalogue.load_report import LoadReport, RowProblem, RowTally, finish_load
from tunelens.catalogue.merge import unique
from tunelens.catalogue.rows import ALIASES, SourceRecord, build_record, text_value
from tunelens.catalogue.text_files import check_text_file, not_utf8
from tunelens.core.audio import FEATURES
from tunelens.core.errors import CatalogError

__all__ = ["load_jsonl"]


class _JsonFields:
    """Canonical field lookups in one object: nested ``features`` first, then the aliases."""

    def __init__(self, obj: Mapping[str, Any]) -> None:
        self.lowered = {str(k).lower(): v for k, v in obj.items()}
        nested = self.lowered.get("features")
        self.nested = nested
        self.features = (
            {str(k).lower(): v for k, v in nested.items()} if isinstance(nested, dict) else {}
        )

    def _key_for(self, canonical: str) -> str | None:
        for alias in ALIASES[canonical]:
            if alias in self.lowered:
                return alias
        return None

    def get(self, canonical: str) -> object:
        if canonical in FEATURES and canonical in self.features:
            return self.features[canonical]
        alias = self._key_for(canonical)
        return None if alias is None else self.lowered[alias]

    def column_of(self, canonical: str) -> str:
        if canonical in FEATURES and canonical in self.features:
            return f"features.{canonical}"
        return self._key_for(canonical) or canonical


def _list_problems(fields: _JsonFields) -> list[str]:
    """Reasons the optional list/object fields have the wrong shape."""
    reasons: list[str] = []
    playlists = fields.lowered.get("playlists")
    if playlists is not None and not (
        isinstance(playlists, list) and all(isinstance(p, str) for p in playlists)
    ):
        reasons.append("playlists must be a list of strings")
    genres = fields.lowered.get("genres")
    if genres is not None and not (
        isinstance(genres, list) and all(isinstance(g, str) for g in genres)
    ):
        reasons.append("genres must be a list of strings")
    links = fields.lowered.get("links")
    if links is not None and not (
        isinstance(links, dict) and all(isinstance(v, str) for v in links.values())
    ):
        reasons.append("links must be an object of strings")
    return reasons


def _record_from_json(obj: Mapping[str, Any], line: int) -> tuple[SourceRecord | None, list[str]]:
    fields = _JsonFields(obj)
    reasons: list[str] = []
    if fields.nested is not None and not isinstance(fields.nested, dict):
        reasons.append(f"features must be an object, found {type(fields.nested).__name__}")
    source = text_value(fields.lowered.get("source")) or "jsonl"
    record, more = build_record(fields.get, fields.column_of, line, source=source)
    reasons.extend(more)
    reasons.extend(_list_problems(fields))
    if reasons or record is None:
        return None, reasons
    playlists = fields.lowered.get("playlists")
    genres = fields.lowered.get("genres")
    links = fields.lowered.get("links")
    if isinstance(playlists, list):
        record.playlists = unique([*record.playlists, *(p.strip() for p in playlists if p)])
    if isinstance(genres, list):
        record.genres = unique(g.strip().lower() for g in genres if g.strip())
    if isinstance(links, dict):
        record.links = {str(k): str(v) for k, v in links.items()}
    return record, []


def _read_line(tally: RowTally, line_no: int, text: str) -> None:
    tally.rows_read += 1
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        tally.problems.append(RowProblem(line_no, f"invalid JSON: {exc.msg} (col {exc.colno})"))
        return
    if not isinstance(obj, dict):
        tally.problems.append(
            RowProblem(line_no, f"expected a JSON object, found {type(obj).__name__}")
        )
        return
    record, reasons = _record_from_json(obj, line_no)
    tally.add(line_no, record, reasons)


def load_jsonl(path: str | Path) -> LoadReport:
    """Load JSON Lines: one track object per line (the index's own ``tracks.jsonl`` works).

    Accepts the :meth:`Track.to_dict` shape (features nested under ``features``) and flat
    objects with the feature names (or the CSV column names) at top level. Every value goes
    through the same validation as the CSV loader.
    """
    path = Path(path)
    tally = RowTally(source=str(path), format="jsonl")
    check_text_file(path)
    line_no = 0
    try:
        with path.open("r", encoding="utf-8-sig", newline=None) as handle:
            for line_no, raw_line in enumerate(handle, start=1):
                text = raw_line.strip()
                if not text:
                    continue
                if tally.rows_read == 0 and text.startswith("["):
                    raise CatalogError(
                        f"{path} is a JSON array; tunelens reads JSON Lines (one object per "
                        "line, no surrounding [ ])",
                        code="catalog_invalid",
                    )
                _read_line(tally, line_no, text)
    except UnicodeDecodeError as exc:
        raise not_utf8(path, line_no + 1, exc) from exc
    return finish_load(tally)
