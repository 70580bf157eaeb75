"""Regional playlists: the built-in file, operator files, and errors that name the line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tunelens.core.vocab import mood_of
from tunelens.playlists.regional import (
    MOODS,
    PlaylistError,
    groups,
    load_playlists,
    locate,
    parse_playlists,
)

CONTRACT = REPO_ROOT.parent / "shared" / "contracts" / "image2genre.md"
GOOD = """\
version = 1
default_region = "levant"

[regions.levant]
label = "Levant"

[[regions.levant.genre.pop]]
title = "Levant pop"
provider = "youtube"
query = "levant pop hits"

[[regions.levant.genre."r&b"]]
title = "Spotify R&B"
provider = "spotify"
playlist_id = "37i9dQZF1DX4SBhb3fqCJd"

[[regions.levant.mood.calm]]
title = "Calm"
provider = "spotify"
query = "calm arabic"
"""


def test_builtin_file_has_global_and_khaleeji_for_five_genres_and_the_moods() -> None:
    config = load_playlists()
    assert config.default_region == "global"
    assert set(config.regions) == {"global", "khaleeji"}
    five = {"classical", "jazz", "rock", "pop", "electronic"}
    for region in config.regions.values():
        assert five <= set(region.genre)
        assert set(region.mood) == set(MOODS)
        for name in five:  # each of Image2Genre's genres has its verified playlist
            assert any(e.kind == "playlist" for e in region.genre[name])


def test_builtin_ids_are_exactly_the_contracts() -> None:
    if not CONTRACT.is_file():
        pytest.skip(f"{CONTRACT} not found")
    table = {}
    for line in CONTRACT.read_text(encoding="utf-8").splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"[A-Za-z0-9_-]{20,}", cells[1]):
            table[cells[0]] = {"global": cells[1], "khaleeji": cells[2]}
    assert len(table) == 5
    config = load_playlists()
    used = set()
    for region_id, region in config.regions.items():
        for genre, entries in region.genre.items():
            ids = [e.playlist_id for e in entries if e.playlist_id]
            used.update(ids)
            if genre in table:
                assert ids == [table[genre][region_id]]
        for entries in region.mood.values():
            assert all(e.kind == "search" for e in entries)  # no invented ids
    assert used == {v for row in table.values() for v in row.values()}


def test_entry_urls() -> None:
    config = parse_playlists(GOOD, "good.toml")
    pop, rnb, calm = (
        groups(config, "levant", genre="pop")[0].entries[0],
        groups(config, "levant", genre="r&b")[0].entries[0],
        groups(config, "levant", mood="calm")[0].entries[0],
    )
    assert pop.kind == "search" and pop.embed_url is None
    assert pop.url == "https://www.youtube.com/results?search_query=levant+pop+hits"
    assert rnb.embed_url == "https://open.spotify.com/embed/playlist/37i9dQZF1DX4SBhb3fqCJd"
    assert rnb.url == "https://open.spotify.com/playlist/37i9dQZF1DX4SBhb3fqCJd"
    assert calm.url == "https://open.spotify.com/search/calm%20arabic"
    rock = load_playlists().regions["global"].genre["rock"][0]
    assert rock.embed_url == (
        "https://www.youtube-nocookie.com/embed/videoseries?list="
        "RDCLAK5uy_lvHI2Z7dSfpD5g8wvmePjWPfYwq5IgkLo"
    )
    assert [g.name for g in groups(config, "levant")] == ["pop", "r&b", "calm"]
    assert groups(config, "levant", genre="jazz") == []


@pytest.mark.parametrize(
    ("mutation", "line", "words"),
    [
        # syntax: tomllib's own line and column
        (('title = "Calm"', 'title = "Calm'), 18, ["not valid TOML", "line 18, column"]),
        # an entry with both an id and a query
        (
            (
                'query = "levant pop hits"',
                'query = "levant pop hits"\nplaylist_id = "PLabcdefghijkl"',
            ),
            7,
            ["regions.levant.genre.pop[0]", "exactly one of playlist_id and query"],
        ),
        # a bad field value inside the second array entry of a table
        (
            ('provider = "spotify"\nplaylist_id', 'provider = "deezer"\nplaylist_id'),
            14,
            ['regions.levant.genre."r&b"[0].provider', "'youtube' or 'spotify'"],
        ),
        (("37i9dQZF1DX4SBhb3fqCJd", "not-a-spotify-id"), 15, ["not a spotify playlist id"]),
        (
            ("[[regions.levant.genre.pop]]", "[[regions.levant.genre.metal]]"),
            7,
            ["unknown genre 'metal'"],
        ),
        (
            ("[[regions.levant.mood.calm]]", "[[regions.levant.mood.sleepy]]"),
            17,
            ["unknown mood 'sleepy'"],
        ),
        (('label = "Levant"', 'lable = "Levant"'), 4, ["regions.levant"]),
        (('default_region = "levant"', 'default_region = "mars"'), 2, ["'mars' is not one of"]),
        (('title = "Levant pop"\n', ""), 7, ["regions.levant.genre.pop[0].title", "required"]),
    ],
)
def test_bad_files_name_the_line(mutation: tuple[str, str], line: int, words: list[str]) -> None:
    old, new = mutation
    assert old in GOOD
    with pytest.raises(PlaylistError) as caught:
        parse_playlists(GOOD.replace(old, new, 1), "my-playlists.toml")
    error = caught.value
    assert error.code == "playlists_invalid"
    assert error.details["line"] == line, error.message
    assert f"my-playlists.toml, line {line}" in error.message or f"line {line}," in error.message
    for word in words:
        assert word in error.message, error.message


def test_operator_file_from_settings_path(tmp_path: Path) -> None:
    path = tmp_path / "playlists.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert list(load_playlists(path).regions) == ["levant"]
    with pytest.raises(PlaylistError) as caught:
        load_playlists(tmp_path / "missing.toml")
    assert caught.value.code == "playlists_unreadable"


def test_locate_handles_quoted_keys_and_array_indexes() -> None:
    assert locate(GOOD, ["regions", "levant", "genre", "r&b", 0, "playlist_id"]) == 15
    assert locate(GOOD, ["regions", "levant", "label"]) == 5
    assert locate(GOOD, ["nowhere"]) is None


@pytest.mark.parametrize(
    ("valence", "arousal", "mood"),
    [
        (0.6, 0.2, "happy"),
        (0.2, 0.6, "energetic"),
        (0.3, -0.4, "calm"),
        (-0.4, -0.3, "sad"),
        (-0.3, 0.5, "intense"),
        (0.0, 0.0, "happy"),
    ],
)
def test_mood_of_the_circumplex(valence: float, arousal: float, mood: str) -> None:
    assert mood_of(valence, arousal) == mood
