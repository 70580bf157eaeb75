"""Duplicate rows merge by id, then (conservatively) by title and artist."""

from __future__ import annotations

from pathlib import Path

from tests.catalogue.helpers import TIDY_HEADER, tidy_row, write
from tunelens.catalogue.csv_loader import load_spotify_csv
from tunelens.catalogue.merge import normalise_key


def test_same_id_rows_merge_playlists_genre_and_popularity(tmp_path: Path) -> None:
    lines = [
        TIDY_HEADER,
        tidy_row("a", playlist_name="P1", playlist_genre="rock", track_popularity="10"),
        tidy_row("a", playlist_name="P2", playlist_genre="pop", track_popularity="40"),
        tidy_row(
            "a",
            playlist_name="P3",
            playlist_genre="pop",
            playlist_subgenre="electropop",
            track_popularity="5",
        ),
        tidy_row("b", name="Other"),
    ]
    report = load_spotify_csv(write(tmp_path / "d.csv", lines))
    track = report.catalogue.by_id("a")
    assert track.playlists == ("P1", "P2", "P3")
    assert track.genre == "pop" and track.genres == ("pop", "rock")
    assert track.subgenre == "dance pop"  # most frequent within the primary genre, first wins
    assert track.popularity == 40.0
    assert (report.merged_by_id, report.merged_by_title_artist) == (2, 0)
    assert report.duplicates_merged == 2 and len(report.catalogue) == 2


def test_title_artist_merge_is_conservative(tmp_path: Path) -> None:
    lines = [
        TIDY_HEADER,
        tidy_row("a1", name="Hello, World!", artist="The Band", track_popularity="20"),
        tidy_row("a2", name="hello world", artist="the  band", track_popularity="70"),
        tidy_row("a3", name="Hello World - Remastered 2011", artist="The Band"),
        tidy_row("a4", name="Hello World", artist="Another Band"),
        tidy_row("a5", name="Héllo World", artist="The Band"),
        tidy_row("a6", name="?", artist="X", track_popularity="1"),
        tidy_row("a7", name="!", artist="X", track_popularity="2"),
    ]
    report = load_spotify_csv(write(tmp_path / "t.csv", lines))
    ids = [t.id for t in report.catalogue]
    assert ids == ["a2", "a3", "a4", "a5", "a6", "a7"]  # kept at the group's first position
    assert report.merged_ids == {"a1": "a2"}
    assert report.merged_by_title_artist == 1 and report.duplicates_merged == 1
    assert normalise_key("Hello, World!") == normalise_key(" hello world ")
