"""Shared builders for the catalogue tests: TidyTuesday-style CSV rows and random catalogues."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tunelens.catalogue.models import Catalogue, Track

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
