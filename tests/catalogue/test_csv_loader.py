"""Spotify-style CSV loading: every bad row is a problem at its physical line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.catalogue.helpers import COLUMNS, TIDY_HEADER, tidy_row, write
from tunelens.catalogue.csv_loader import load_spotify_csv
from tunelens.catalogue.loaders import load_source
from tunelens.core.audio import MOOD_FEATURES
from tunelens.core.errors import CatalogError


def test_csv_row_validation_reports_precise_lines(tmp_path: Path) -> None:
    lines = [
        TIDY_HEADER,
        tidy_row("good1"),  # 2
        tidy_row("bad_energy", energy="loud"),  # 3
        tidy_row("bad_dance", danceability="7.5"),  # 4
        tidy_row("no_name", name=""),  # 5
        tidy_row("na_artist", artist="NA"),  # 6
        tidy_row("multi", name="Two\nLines"),  # 7-8 (valid, two physical lines)
        tidy_row("bad_key", key="3.5"),  # 9
        tidy_row("key12", key="12"),  # 10
        tidy_row("mode2", mode="2"),  # 11
        tidy_row("quiet", loudness="-70"),  # 12
        tidy_row("fast", tempo="350"),  # 13
        tidy_row("zero_len", duration_ms="0"),  # 14
        tidy_row("pop101", track_popularity="101"),  # 15
        tidy_row("good2", key="-1", tempo="0", speechiness=""),  # 16: unknowns, still fine
        tidy_row("short") + ",extra",  # 17
        "",  # 18: blank line, not a row
        tidy_row("inf", valence="inf"),  # 19
        tidy_row(
            "nothing",
            **{name: "" for name in MOOD_FEATURES if name in COLUMNS},
        ),  # 20
        tidy_row("good3"),  # 21
    ]
    report = load_spotify_csv(write(tmp_path / "songs.csv", lines))
    by_line = {p.line: p.reason for p in report.problems}
    assert sorted(by_line) == [3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 17, 19, 20]
    assert by_line[3] == "energy='loud' is not a number"
    assert by_line[4] == "danceability='7.5' is outside [0, 1]"
    assert by_line[5] == "track_name is empty"
    assert "track_artist is missing ('NA')" in by_line[6]
    assert "not a whole number" in by_line[9]
    assert "outside -1…11" in by_line[10]
    assert "must be 0 (minor) or 1 (major)" in by_line[11]
    assert "outside -60…5 dB" in by_line[12]
    assert "outside 0…300 BPM" in by_line[13]
    assert "must be positive" in by_line[14]
    assert "outside 0…100" in by_line[15]
    assert "expected 23 fields, found 24" in by_line[17]
    assert "not a finite number" in by_line[19]
    assert "no mood-bearing audio feature" in by_line[20]
    assert report.rows_read == 18
    assert report.duplicates_merged == 0
    ids = {t.id for t in report.catalogue}
    assert ids == {"good1", "multi", "good2", "good3"}
    good2 = report.catalogue.by_id("good2")
    assert "key" not in good2.features and "tempo" not in good2.features
    assert "speechiness" not in good2.features
    assert report.catalogue.by_id("multi").title == "Two\nLines"


def test_unbalanced_quote_is_one_problem_at_its_first_line(tmp_path: Path) -> None:
    lines = [TIDY_HEADER, tidy_row("ok"), tidy_row("ok2").replace("Song", '"Song', 1)]
    lines += [tidy_row("later")]
    report = load_spotify_csv(write(tmp_path / "q.csv", lines))
    assert [p.line for p in report.problems] == [3]
    assert "spans lines 3–4" in report.problems[0].reason
    assert [t.id for t in report.catalogue] == ["ok"]


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", ["id,energy,valence", "1,0.5,0.5"])
    with pytest.raises(CatalogError) as err:
        load_spotify_csv(path)
    assert err.value.code == "catalog_invalid"
    assert "title (one of: track_name, name, title)" in err.value.message
    assert "artist (one of:" in err.value.message
    assert "id (" not in err.value.message


def test_moods_style_csv_and_tsv(tmp_path: Path) -> None:
    header = (
        "name,album,artist,id,release_date,popularity,length,danceability,acousticness,"
        "energy,instrumentalness,liveness,valence,loudness,speechiness,tempo,key,"
        "time_signature,mood"
    )
    row = "1999,1999,Prince,2H7PHVdQ3mXqEHXcvclTB0,1982-10-27,68,379266,0.866,0.137,0.73,0.0,"
    row += "0.0843,0.625,-8.201,0.0767,118.523,5,4,Happy"
    report = load_spotify_csv(write(tmp_path / "moods.csv", [header, row]))
    track = report.catalogue[0]
    assert report.format == "spotify-moods"
    assert track.mood == "Happy" and track.features["duration_ms"] == 379266.0
    assert "mode" not in track.features
    assert track.links["spotify"] == "https://open.spotify.com/track/2H7PHVdQ3mXqEHXcvclTB0"
    assert track.links["youtube_search"].endswith("search_query=1999+Prince")
    tsv = write(tmp_path / "moods.tsv", [header.replace(",", "\t"), row.replace(",", "\t")])
    assert load_source(tsv).catalogue[0] == track
