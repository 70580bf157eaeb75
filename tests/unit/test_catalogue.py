"""Unit tests for the catalogue: models, loaders' validation and merging, scaler, index."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from tunelens.catalogue import index as index_module
from tunelens.catalogue.build import build_catalog, catalog_info
from tunelens.catalogue.fetch import KNOWN_SOURCES, env_var_for, fetch_source
from tunelens.catalogue.index import CatalogueIndex, RobustScaler
from tunelens.catalogue.loaders import (
    load_jsonl,
    load_source,
    load_spotify_csv,
    normalise_key,
)
from tunelens.catalogue.models import Catalogue, Track
from tunelens.core.audio import FEATURES, MOOD_FEATURES
from tunelens.core.errors import CatalogError, InvalidRequest, NotFound

TIDY_HEADER = (
    "track_id,track_name,track_artist,track_popularity,track_album_id,track_album_name,"
    "track_album_release_date,playlist_name,playlist_id,playlist_genre,playlist_subgenre,"
    "danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,"
    "liveness,valence,tempo,duration_ms"
)
COLUMNS = TIDY_HEADER.split(",")
GOOD = {
    "track_popularity": "50",
    "track_album_id": "alb",
    "track_album_name": "Album",
    "track_album_release_date": "2019-01-01",
    "playlist_name": "Playlist A",
    "playlist_id": "pl1",
    "playlist_genre": "pop",
    "playlist_subgenre": "dance pop",
    "danceability": "0.7",
    "energy": "0.8",
    "key": "5",
    "loudness": "-6.5",
    "mode": "1",
    "speechiness": "0.05",
    "acousticness": "0.1",
    "instrumentalness": "0",
    "liveness": "0.1",
    "valence": "0.6",
    "tempo": "120.0",
    "duration_ms": "200000",
}


def tidy_row(track_id: str, name: str | None = None, artist: str = "Artist", **changes: str) -> str:
    title = f"Song {track_id}" if name is None else name
    values = {**GOOD, "track_id": track_id, "track_name": title, "track_artist": artist}
    values.update(changes)
    cells = []
    for column in COLUMNS:
        cell = values[column]
        if any(c in cell for c in ',"\n'):
            cell = '"' + cell.replace('"', '""') + '"'
        cells.append(cell)
    return ",".join(cells)


def write(path: Path, lines: Sequence[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_track(track_id: str, **features: float) -> Track:
    return Track(id=track_id, title=f"T{track_id}", artist="A", features=features)


# --------------------------------------------------------------------------- models


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        ({"valence": 0.6, "energy": 0.75}, "excitement"),
        ({"valence": 0.9, "energy": 0.5, "danceability": 0.6}, "amusement"),
        ({"valence": 0.9, "energy": 0.74, "danceability": 0.59}, "awe"),
        ({"valence": 0.7, "energy": 0.49}, "contentment"),
        ({"valence": 0.59, "energy": 0.7}, "anger"),
        ({"valence": 0.2, "energy": 0.45, "acousticness": 0.5}, "sadness"),
        ({"valence": 0.2, "energy": 0.69, "acousticness": 0.49}, "fear"),
        ({"valence": 0.2, "energy": 0.44}, "sadness"),
        ({"energy": 0.9}, None),
        ({"valence": 0.9, "energy": 0.6}, None),  # needs danceability
        ({"valence": 0.1, "energy": 0.6}, None),  # needs acousticness
    ],
)
def test_dylumo_emotion_rule(features: dict[str, float], expected: str | None) -> None:
    assert make_track("x", **features).dylumo_emotion() == expected


def test_track_text_and_validation() -> None:
    track = Track(id="1", title="Song", artist="Band", genre="rock", subgenre="hard rock")
    assert track.text() == "Song — Band, rock / hard rock"
    assert Track(id="1", title="Song", artist="Band").text() == "Song — Band"
    with pytest.raises(ValueError, match="unknown audio feature"):
        Track(id="1", title="S", artist="A", features={"happiness": 1.0})
    with pytest.raises(ValueError, match="not finite"):
        Track(id="1", title="S", artist="A", features={"energy": math.nan})


def test_track_dict_round_trip() -> None:
    track = Track(
        id="6f807x0ima9a1j3VPbc7VN",
        title="S",
        artist="A",
        genre="pop",
        popularity=3.0,
        features={"energy": 0.5, "tempo": 100.0},
        playlists=("p1", "p2"),
        links={"spotify": "https://open.spotify.com/track/6f807x0ima9a1j3VPbc7VN"},
        mood="Happy",
        genres=("pop", "rock"),
    )
    assert Track.from_dict(json.loads(json.dumps(track.to_dict()))) == track


def test_catalogue_matrix_lookup_hash_and_genres() -> None:
    tracks = [
        Track(id="a", title="A", artist="X", genre="pop", features={"energy": 0.5}),
        Track(id="b", title="B", artist="X", genre="pop", features={"valence": 0.2}),
        Track(id="c", title="C", artist="X", features={"tempo": 90.0}),
    ]
    catalogue = Catalogue(tracks)
    matrix = catalogue.feature_matrix()
    assert matrix.shape == (3, 13) and matrix.dtype == np.float32
    assert matrix[0, FEATURES.index("energy")] == np.float32(0.5)
    assert np.isnan(matrix[0, FEATURES.index("valence")])
    assert catalogue.by_id("b").title == "B" and len(catalogue) == 3
    with pytest.raises(NotFound):
        catalogue.by_id("zzz")
    assert catalogue.genres() == {"pop": 2, "unknown": 1}
    digest = catalogue.content_hash()
    assert digest == Catalogue(list(tracks)).content_hash()  # stable
    changed = [*tracks[:2], Track(id="c", title="C", artist="X", features={"tempo": 91.0})]
    assert Catalogue(changed).content_hash() != digest
    with pytest.raises(CatalogError) as err:
        Catalogue([tracks[0], tracks[0]])
    assert err.value.code == "catalog_invalid"


# --------------------------------------------------------------------------- CSV validation


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


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (b"", "catalog_empty", "empty"),
        (b"   \n\n", "catalog_empty", "empty"),
        (b"\x00\x01\x02binary\x00", "catalog_invalid", "binary"),
        (b"PK\x03\x04zipdata", "catalog_invalid", "ZIP"),
        (TIDY_HEADER.encode() + b"\n", "catalog_empty", "no usable tracks"),
        (
            TIDY_HEADER.encode() + b"\n" + tidy_row("x", name="caf\xe9").encode() + b"\xe9\n",
            "catalog_invalid",
            "UTF-8",
        ),
    ],
)
def test_unreadable_files_raise_clear_errors(
    tmp_path: Path, content: bytes, code: str, words: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(CatalogError) as err:
        load_source(path)
    assert err.value.code == code
    assert words in err.value.message


def test_missing_source_is_catalog_missing(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as err:
        load_source(tmp_path / "nope.csv")
    assert err.value.code == "catalog_missing"


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


# --------------------------------------------------------------------------- merging


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


# --------------------------------------------------------------------------- JSON Lines


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


# --------------------------------------------------------------------------- scaler


def test_robust_scaler() -> None:
    matrix = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, np.nan], [4.0, 5.0], [100.0, 5.0]])
    scaler = RobustScaler.fit(matrix, ["a", "b"])
    assert scaler.median == (3.0, 5.0)
    assert scaler.scale == (2.0, 1.0)  # IQR 4-2; zero IQR falls back to 1
    scaled = scaler.transform(matrix)
    assert scaled.dtype == np.float32
    assert scaled[2, 1] == 0.0  # unknown → median
    assert scaled[4, 0] == pytest.approx(48.5)
    assert RobustScaler.from_dict(json.loads(json.dumps(scaler.to_dict()))) == scaler
    np.testing.assert_allclose(scaler.inverse_transform(scaled[:2]), matrix[:2])
    with pytest.raises(ValueError):
        RobustScaler.from_dict({"names": ["a"], "median": [0.0], "scale": [0.0]})


# --------------------------------------------------------------------------- index


def random_catalogue(n: int = 300, seed: int = 0) -> Catalogue:
    rng = np.random.default_rng(seed)
    tracks = []
    for i in range(n):
        features = {
            "valence": float(rng.random()),
            "energy": float(rng.random()),
            "danceability": float(rng.random()),
            "tempo": float(rng.uniform(60, 180)),
            "loudness": float(rng.uniform(-20, -2)),
            "acousticness": float(rng.random()),
            "instrumentalness": float(rng.random()),
            "mode": float(rng.integers(0, 2)),
            "speechiness": float(rng.random() * 0.3),
            "liveness": float(rng.random()),
            "key": float(rng.integers(0, 12)),
        }
        if i % 7 == 0:
            del features["tempo"]
        genre = ["pop", "rock", "edm"][i % 3]
        tracks.append(
            Track(id=f"t{i}", title=f"Song {i}", artist=f"A{i}", genre=genre, features=features)
        )
    return Catalogue(tracks)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return random_catalogue()


def brute_force(index: CatalogueIndex, target: np.ndarray, weights: dict[str, float]) -> np.ndarray:
    w = np.array([weights.get(n, 1.0) for n in index.feature_names])
    diff = index.scaled_features() - index.scaler.transform(target)
    return np.argsort((diff**2 * w).sum(axis=1), kind="stable")


def test_search_matches_brute_force_and_weights_matter(catalogue: Catalogue) -> None:
    index = CatalogueIndex.build(catalogue)
    assert index.kind == "flat" and index.feature_names == MOOD_FEATURES
    target = index.vector({"valence": 0.9, "energy": 0.2, "tempo": 80, "mode": 1})
    target = np.nan_to_num(target, nan=0.5)
    rows, dist = index.search(target, {}, k=10)
    assert rows.dtype == np.int64 and dist.dtype == np.float32
    assert list(rows) == list(brute_force(index, target, {})[:10])
    assert np.all(np.diff(dist) >= 0)
    heavy = {"valence": 20.0, "energy": 0.0}
    rows_w, _ = index.search(target, heavy, k=10)
    assert list(rows_w) == list(brute_force(index, target, heavy)[:10])
    assert list(rows_w) != list(rows)
    # Features' valence in the weighted top 10 is closer to the target.
    valence = index.raw_features()[:, 0]
    assert np.abs(valence[rows_w] - 0.9).mean() < np.abs(valence[rows] - 0.9).mean()


def test_search_exclude_nan_target_and_bad_input(catalogue: Catalogue) -> None:
    index = CatalogueIndex.build(catalogue)
    target = np.full(len(MOOD_FEATURES), np.nan, dtype=np.float32)
    target[0] = 0.1  # only valence matters
    rows, _ = index.search(target, {}, k=5)
    excluded = {int(rows[0]), int(rows[2])}
    rows2, _ = index.search(target, {}, k=5, exclude=excluded)
    assert len(rows2) == 5 and not excluded & set(rows2.tolist())
    assert rows2[0] == rows[1]
    valence = index.raw_features()[:, 0]
    assert np.all(np.abs(valence[rows] - 0.1) <= np.sort(np.abs(valence - 0.1))[4] + 1e-6)
    everything, _ = index.search(target, {}, k=10_000)
    assert len(everything) == len(catalogue)
    with pytest.raises(InvalidRequest):
        index.search(target, {"happiness": 1.0}, k=5)
    same, _ = index.search(target, {"key": 9.0}, k=5)  # a feature this index lacks: ignored
    assert list(same) == list(rows)
    assert index.features == MOOD_FEATURES
    with pytest.raises(InvalidRequest):
        index.search(target, {"valence": -1.0}, k=5)
    with pytest.raises(InvalidRequest):
        index.search(target[:3], {}, k=5)
    with pytest.raises(InvalidRequest):
        index.search(target, {}, k=0)


def test_hnsw_kind_finds_the_same_neighbours(catalogue: Catalogue, tmp_path: Path) -> None:
    flat = CatalogueIndex.build(catalogue, kind="flat")
    hnsw = CatalogueIndex.build(catalogue, kind="hnsw")
    assert hnsw.kind == "hnsw"
    target = flat.raw_features()[17].copy()
    target[np.isnan(target)] = 100.0
    for weights in ({}, {"energy": 5.0}):
        flat_rows, _ = flat.search(target, weights, k=10, exclude={3})
        hnsw_rows, _ = hnsw.search(target, weights, k=10, exclude={3})
        assert len(set(flat_rows) & set(hnsw_rows)) >= 9
        assert hnsw_rows[0] == flat_rows[0] == 17
    hnsw.save(tmp_path / "h")
    loaded = CatalogueIndex.load(tmp_path / "h")
    assert loaded.kind == "hnsw"
    assert list(loaded.search(target, {}, k=10)[0]) == list(hnsw.search(target, {}, k=10)[0])


def test_save_load_round_trip(catalogue: Catalogue, tmp_path: Path) -> None:
    text = np.random.default_rng(1).normal(size=(len(catalogue), 8)).astype(np.float32)
    index = CatalogueIndex.build(catalogue, text_embeddings=text, text_model_id="clip:abc")
    out = index.save(tmp_path / "idx")
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "features.npy",
        "index.faiss",
        "meta.json",
        "text_embeddings.npy",
        "tracks.jsonl",
    ]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["format_version"] == 1 and meta["track_count"] == len(catalogue)
    assert meta["catalogue_hash"] == catalogue.content_hash()
    assert meta["text_model_id"] == "clip:abc" and meta["index_kind"] == "flat"
    assert meta["feature_names"] == list(MOOD_FEATURES) and "created_at" in meta

    loaded = CatalogueIndex.load(out, expected_text_model_id="clip:abc")
    assert loaded.catalogue.tracks == catalogue.tracks
    assert loaded.scaler == index.scaler
    np.testing.assert_array_equal(loaded.scaled_features(), index.scaled_features())
    target = index.raw_features()[5]
    assert list(loaded.search(target, {"tempo": 2}, k=7)[0]) == list(
        index.search(target, {"tempo": 2}, k=7)[0]
    )
    stored = loaded.text_embeddings_for("clip:abc")
    assert stored is not None
    np.testing.assert_array_equal(stored, text)
    assert loaded.text_embeddings_for("clip:other") is None
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(out, expected_text_model_id="clip:other")
    assert err.value.code == "index_mismatch" and "clip:abc" in err.value.message
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dirs left


@pytest.fixture
def saved(catalogue: Catalogue, tmp_path: Path) -> Path:
    return CatalogueIndex.build(catalogue).save(tmp_path / "idx")


def test_edited_features_npy_is_index_mismatch(saved: Path) -> None:
    features = np.load(saved / "features.npy")
    features[3, FEATURES.index("energy")] += 0.01
    np.save(saved / "features.npy", features)
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(saved)
    assert err.value.code == "index_mismatch"
    assert "tunelens catalog build" in err.value.message


def test_edited_tracks_jsonl_is_index_mismatch(saved: Path) -> None:
    lines = (saved / "tracks.jsonl").read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[10])
    row["features"]["valence"] = 0.123
    lines[10] = json.dumps(row)
    (saved / "tracks.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(saved)
    assert err.value.code == "index_mismatch"


def test_missing_dir_tells_the_user_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(tmp_path / "nowhere")
    assert err.value.code == "catalog_missing"
    assert "tunelens catalog build SOURCE -o" in err.value.message
    assert "tunelens catalog fetch spotify-30k" in err.value.message
    assert err.value.http_status == 503


@pytest.mark.parametrize(
    ("name", "damage", "code"),
    [
        ("meta.json", b"{not json", "index_corrupt"),
        ("index.faiss", b"garbage", "index_corrupt"),
        ("features.npy", b"garbage", "index_corrupt"),
        ("tracks.jsonl", b'{"id": 1}\n', "index_corrupt"),
    ],
)
def test_corrupt_files(saved: Path, name: str, damage: bytes, code: str) -> None:
    (saved / name).write_bytes(damage)
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(saved)
    assert err.value.code == code


def test_other_format_version_and_swapped_faiss(saved: Path, tmp_path: Path) -> None:
    other = CatalogueIndex.build(random_catalogue(seed=5)).save(tmp_path / "other")
    (saved / "index.faiss").write_bytes((other / "index.faiss").read_bytes())
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(saved)
    assert err.value.code == "index_mismatch"
    meta = json.loads((other / "meta.json").read_text())
    meta["format_version"] = 99
    (other / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(other)
    assert err.value.code == "index_mismatch" and "format version" in err.value.message


def test_save_is_atomic_and_refuses_foreign_dirs(
    catalogue: Catalogue, saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (saved / "meta.json").read_text()
    import faiss

    def broken_write(index: object, path: str) -> None:
        Path(path).write_bytes(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(faiss, "write_index", broken_write)
    with pytest.raises(RuntimeError, match="disk full"):
        CatalogueIndex.build(random_catalogue(seed=9)).save(saved)
    monkeypatch.undo()
    assert (saved / "meta.json").read_text() == before
    assert len(CatalogueIndex.load(saved)) == len(catalogue)
    assert not [p for p in saved.parent.iterdir() if p.name.startswith(".")]

    # Replacing an existing index works; a foreign non-empty directory is refused.
    smaller = CatalogueIndex.build(random_catalogue(n=20, seed=3))
    smaller.save(saved)
    assert len(CatalogueIndex.load(saved)) == 20
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("precious")
    with pytest.raises(CatalogError, match="not a tunelens catalogue index"):
        smaller.save(foreign)
    assert (foreign / "thesis.txt").read_text() == "precious"


def test_index_kind_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    small = random_catalogue(n=30)
    monkeypatch.setattr(index_module, "FLAT_MAX_TRACKS", 10)
    assert CatalogueIndex.build(small).kind == "hnsw"
    assert CatalogueIndex.build(small, kind="flat").kind == "flat"
    with pytest.raises(InvalidRequest):
        CatalogueIndex.build(small, kind="ivf")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        CatalogueIndex.build(small, features=("valence", "happiness"))


# --------------------------------------------------------------------------- build


class HashingTextEncoder:
    """A real (tiny, deterministic) text encoder: bag of hashed words, L2-normalised."""

    name = "hashing-test"
    dim = 16
    is_pretrained = False
    supports_text = True
    model_id = "hashing-test-v1"

    def __init__(self) -> None:
        self.batches: list[int] = []

    def embed_images(self, images: Sequence[object]) -> np.ndarray:
        raise NotImplementedError

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, hashlib.sha256(word.encode()).digest()[0] % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


def test_build_with_text_encoder_and_info(tmp_path: Path) -> None:
    lines = [TIDY_HEADER] + [
        tidy_row(f"id{i}", name=f"Song {i}", artist=f"Band {i % 4}", energy=f"{i / 10:.1f}")
        for i in range(10)
    ]
    lines.append(tidy_row("id0", playlist_name="Other"))  # duplicate id
    lines.append(tidy_row("bad", energy="x"))
    source = write(tmp_path / "s.csv", lines)
    encoder = HashingTextEncoder()
    messages: list[str] = []
    result = build_catalog(
        source, tmp_path / "idx", encoder=encoder, progress=messages.append, text_batch_size=4
    )
    assert (result.tracks, result.rows_read, result.merged_by_id) == (10, 12, 1)
    assert [p.line for p in result.problems] == [13]
    assert encoder.batches == [4, 4, 2]
    assert result.text_model_id == "hashing-test-v1"
    assert set(result.timings) >= {"load", "embed", "index", "save", "total"}
    assert messages and "built 10 tracks" in result.summary()
    loaded = CatalogueIndex.load(result.out_dir, expected_text_model_id="hashing-test-v1")
    text = loaded.text_embeddings_for("hashing-test-v1")
    assert text is not None and text.shape == (10, 16)
    info = catalog_info(result.out_dir)
    assert info["count"] == 10 and info["genres"] == {"pop": 10}
    assert info["text_model_id"] == "hashing-test-v1" and info["size_bytes"] > 0
    assert info["hash"] == result.content_hash and info["build"]["rows_read"] == 12


def test_unknown_source_lists_known_names(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as err:
        fetch_source("spotify-1m", tmp_path)
    assert err.value.code == "unknown_source"
    assert "spotify-30k" in err.value.message
    assert env_var_for("spotify-30k") == "TUNELENS_CATALOG_URL_SPOTIFY_30K"
    assert KNOWN_SOURCES["spotify-30k"].sha256.startswith("9902920c")
