"""M3U8 and JSPF exports parse back: M3U8 line by line, JSPF against its JSON schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.playlists.helpers import parse_m3u8
from tunelens.core.errors import InvalidRequest
from tunelens.core.types import TrackOut
from tunelens.playlists.export import (
    export_playlist,
    format_for_path,
    write_playlist,
)

SCHEMA = Path(__file__).parents[1] / "data" / "jspf.schema.json"


def track(i: int, **overrides: Any) -> TrackOut:
    values: dict[str, Any] = {
        "id": f"{i:022d}"[-22:].replace("0", "a"),
        "title": f"Song {i}",
        "artist": f"Artist {i}",
        "album": f"Album {i}",
        "features": {"duration_ms": 200_000 + i * 1500.4},
        "links": {"spotify": f"https://open.spotify.com/track/{i:022d}"},
    }
    values.update(overrides)
    return TrackOut.model_validate(values)


TRACKS = [
    track(1),
    track(2, title="Line\nbreak, and comma", features={}),  # no duration
    track(3, links={"youtube_search": "https://www.youtube.com/results?search_query=x"}),
    track(4, links={}),  # nothing to point at: skipped
    track(1),  # duplicate
]


def test_m3u8_lines_parse_back() -> None:
    exported = export_playlist(TRACKS, "m3u8", title="tunelens — kite.jpg")
    assert exported.media_type.startswith("audio/x-mpegurl")
    assert exported.text.endswith("\n")
    title, entries = parse_m3u8(exported.text)
    assert title == "tunelens — kite.jpg"
    assert entries == [
        (202, "Artist 1 - Song 1", "https://open.spotify.com/track/0000000000000000000001"),
        (
            -1,
            "Artist 2 - Line break, and comma",
            "https://open.spotify.com/track/0000000000000000000002",
        ),
        (205, "Artist 3 - Song 3", "https://www.youtube.com/results?search_query=x"),
    ]
    assert exported.tracks == 3 and exported.skipped == [track(4, links={}).id]


def test_jspf_validates_against_the_schema_and_parses_back() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    exported = export_playlist(TRACKS, "jspf", title="tunelens — kite.jpg", annotation="For kite")
    document = json.loads(exported.text)
    errors = sorted(validator.iter_errors(document), key=str)
    assert errors == []
    playlist = document["playlist"]
    assert playlist["title"] == "tunelens — kite.jpg" and playlist["annotation"] == "For kite"
    assert playlist["creator"].startswith("tunelens")
    first, second, third = playlist["track"]
    assert first == {
        "title": "Song 1",
        "creator": "Artist 1",
        "location": ["https://open.spotify.com/track/0000000000000000000001"],
        "identifier": [f"spotify:track:{track(1).id}"],
        "album": "Album 1",
        "duration": 201500,
    }
    assert "duration" not in second
    assert "identifier" not in third and third["location"][0].startswith("https://www.youtube")
    for entry in playlist["track"]:  # every location and identifier is an absolute URI
        for uri in entry["location"] + entry.get("identifier", []):
            assert urlparse(uri).scheme in ("https", "spotify")
    # the schema is not a rubber stamp
    broken = {"playlist": {"track": [{"title": "x", "location": "https://a.b/c", "duration": 1.5}]}}
    assert len(list(validator.iter_errors(broken))) == 2
    assert list(validator.iter_errors({"playlist": {"title": "no tracks"}}))


def test_format_from_the_file_name(tmp_path: Path) -> None:
    assert format_for_path(Path("p.m3u8")) == "m3u8"
    assert format_for_path(Path("p.M3U")) == "m3u8"
    assert format_for_path(Path("p.jspf")) == "jspf"
    assert format_for_path(Path("p.json")) == "jspf"
    with pytest.raises(InvalidRequest) as caught:
        format_for_path(Path("p.txt"))
    assert caught.value.code == "invalid_export_format"
    written = write_playlist(tmp_path / "sub" / "p.jspf", TRACKS[:1])
    assert written.format == "jspf"
    assert json.loads((tmp_path / "sub" / "p.jspf").read_text())["playlist"]["track"]
