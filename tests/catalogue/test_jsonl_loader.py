"""JSON Lines loading: the same validation as CSV, and the index's own file round-trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.catalogue.helpers import write
from tunelens.catalogue.jsonl_loader import load_jsonl
from tunelens.catalogue.loaders import load_source
from tunelens.core.errors import CatalogError


def test_jsonl_validation_and_round_trip(tmp_path: Path) -> None:
    good = {"id": "j1", "title": "S", "artist": "A", "features": {"energy": 0.4}}
    flat = {"id": "j2", "name": "S2", "artist": "A", "valence": "0.3", "genres": ["Jazz"]}
    lines = [
        json.dumps(good),
        "{not json",
        "[1, 2]",
        "",
        json.dumps({"id": "j3", "title": "S3", "artist": "A", "features": {"energy": 2}}),
        json.dumps(flat),
        json.dumps({"id": "j4", "title": "S4", "artist": "A", "playlists": "p"}),
    ]
    report = load_jsonl(write(tmp_path / "t.jsonl", lines))
    reasons = {p.line: p.reason for p in report.problems}
    assert sorted(reasons) == [2, 3, 5, 7]
    assert reasons[2].startswith("invalid JSON")
    assert "expected a JSON object" in reasons[3]
    assert reasons[5] == "features.energy=2 is outside [0, 1]"
    assert "playlists must be a list" in reasons[7]
    assert [t.id for t in report.catalogue] == ["j1", "j2"]
    assert report.catalogue.by_id("j2").genres == ("jazz",)
    assert report.catalogue.by_id("j1").source == "jsonl"

    # The index's own tracks.jsonl is valid input and round-trips exactly.
    out = tmp_path / "round.jsonl"
    out.write_text("\n".join(json.dumps(t.to_dict()) for t in report.catalogue) + "\n")
    again = load_source(out).catalogue
    assert again.tracks == report.catalogue.tracks
    array = tmp_path / "array.json"
    array.write_text(json.dumps([good]))
    with pytest.raises(CatalogError, match="JSON Lines"):
        load_source(array)
