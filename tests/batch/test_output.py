"""The output file: line shapes, the durable writer, and reading back what a killed run
left behind."""

from __future__ import annotations

import json
from pathlib import Path

from tests.batch.fakes import reading_dict
from tunelens.batch.output import LineWriter, error_line, ok_line, read_output, track_line
from tunelens.core.types import (
    AudioTarget,
    Reading,
    Recommendation,
    RecommendedTrack,
    TrackOut,
)


def _recommendation() -> Recommendation:
    song = TrackOut(id="s1", title="Song", artist="Artist", genre="pop", popularity=50.0)
    return Recommendation(
        image="a.jpg",
        image_sha256="ab" * 32,
        reading=Reading.model_validate(reading_dict(0.3)),
        target=AudioTarget(features={"valence": 0.3}, weights={"valence": 2.0}),
        tracks=[
            RecommendedTrack(rank=1, score=0.8, parts={"mood": 0.8}, reasons=["x"], track=song)
        ],
        timings_ms={"read": 1.5},
        catalogue_size=10,
    )


def test_an_ok_line_keeps_reading_target_songs_and_timings() -> None:
    line = ok_line("trip/a.jpg", _recommendation())
    assert list(line) == [
        "type",
        "photo",
        "status",
        "sha256",
        "reading",
        "target",
        "tracks",
        "timings_ms",
    ]
    assert line["target"] == {
        "features": {"valence": 0.3},
        "weights": {"valence": 2.0},
        "genres": {},
    }
    assert line["reading"]["valence"] == 0.3 and line["timings_ms"] == {"read": 1.5}
    assert line["tracks"] == [
        {"rank": 1, "id": "s1", "title": "Song", "artist": "Artist", "genre": "pop", "score": 0.8}
    ]
    assert track_line(_recommendation().tracks[0]) == line["tracks"][0]


def test_an_error_line_carries_the_stable_code() -> None:
    assert error_line("b.png", "empty_file", "b.png is empty") == {
        "type": "photo",
        "photo": "b.png",
        "status": "error",
        "error": {"code": "empty_file", "message": "b.png is empty"},
    }


def test_read_output_ignores_garbage_after_the_last_good_line(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    good = '{"type":"photo","photo":"a.jpg","status":"ok"}\n'
    out.write_text(good + '{"type":"album"}\n' + "not json\n" + good.replace("a.jpg", "b.jpg"))
    lines, keep = read_output(out)
    assert [line["photo"] for line in lines] == ["a.jpg"] and keep == len(good)
    assert read_output(tmp_path / "missing.jsonl") == ([], 0)


def test_read_output_drops_a_torn_last_line_and_the_album(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    first = '{"type":"photo","photo":"a.jpg","status":"ok"}\n'
    second = '{"type":"photo","photo":"b.jpg","status":"error"}\n'
    out.write_text(first + '{"type":"album","photos":1}\n' + second + '{"type":"photo","pho')
    lines, keep = read_output(out)
    assert [line["photo"] for line in lines] == ["a.jpg", "b.jpg"]
    assert keep == len(first) + len('{"type":"album","photos":1}\n') + len(second)


def test_the_writer_cuts_to_the_kept_bytes_then_appends(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "r.jsonl"
    writer = LineWriter(out, keep_bytes=0)  # creates the folder and the file
    writer.write({"type": "photo", "photo": "é.jpg"})
    writer.close()
    kept = out.read_bytes()
    assert kept == '{"type":"photo","photo":"é.jpg"}\n'.encode()  # compact, not ASCII-escaped
    with out.open("ab") as handle:
        handle.write(b'{"type":"album"}\n{"torn')
    writer = LineWriter(out, keep_bytes=len(kept))
    writer.write({"type": "album"})
    writer.close()
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        {"type": "photo", "photo": "é.jpg"},
        {"type": "album"},
    ]
