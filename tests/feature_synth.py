"""A synthetic paired set whose audio features can be seen in the picture.

Each song gets a picture whose brightness follows its valence and whose saturation (chroma)
follows its energy; danceability, acousticness, loudness and tempo are functions of valence
or energy (plus noise), so they are visible too, while mode, instrumentalness, speechiness and
liveness are random and cannot be predicted from the picture at all. The colour encoder sees
brightness and chroma directly, so the signal is learnable by design: these sets test that the
heads, the report and the gate work, not how well tunelens reads real photos.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue, Track

GENRES = ("pop", "rock", "edm", "r&b", "latin", "rap")


def synthetic_tracks(n: int, seed: int = 0) -> list[Track]:
    rng = np.random.default_rng(seed)
    tracks = []
    for i in range(n):
        v, e = (float(x) for x in rng.uniform(0.05, 0.95, 2))
        features = {
            "valence": v,
            "energy": e,
            "danceability": float(np.clip(0.3 + 0.5 * v + rng.normal(0, 0.03), 0, 1)),
            "acousticness": float(np.clip(0.95 - 0.9 * e + rng.normal(0, 0.03), 0, 1)),
            "loudness": float(-20 + 15 * e + rng.normal(0, 0.5)),
            "tempo": float(80 + 80 * e + rng.normal(0, 3)),
            "mode": float(rng.integers(0, 2)),
            "instrumentalness": float(rng.uniform(0, 0.3)),
            "speechiness": float(rng.uniform(0.03, 0.15)),
            "liveness": float(rng.uniform(0.05, 0.35)),
        }
        tracks.append(
            Track(
                id=f"t{i:04d}",
                title=f"Song {i}",
                artist=f"Artist {i // 3}",
                genre=GENRES[i % len(GENRES)],
                popularity=50.0,
                features=features,
            )
        )
    return tracks


def picture_for(
    valence: float, energy: float, rng: np.random.Generator, size: int = 24
) -> np.ndarray:
    """Brightness from valence, chroma from energy, one of three hue directions, pixel noise."""
    grey = 0.3 + 0.4 * valence
    chroma = 0.04 + 0.46 * energy
    direction = [
        np.array([0.5, 0.0, -0.5]),
        np.array([-0.5, 0.0, 0.5]),
        np.array([0.5, -0.5, 0.0]),
    ][int(rng.integers(3))]
    pixels = grey + chroma * direction + rng.normal(0, 0.02, (size, size, 3))
    return (np.clip(pixels, 0, 1) * 255).astype(np.uint8)


def write_synthetic_set(  # noqa: PLR0913 - each keyword is one knob of the synthetic set a test varies
    root: Path,
    *,
    tracks: int = 300,
    paired: int = 200,
    seed: int = 0,
    shuffle: bool = False,
    name: str = "pairs.csv",
) -> tuple[Path, Path, list[Track]]:
    """(pairs CSV, catalogue dir, tracks): ``paired`` songs each with its own picture; with
    ``shuffle`` the pictures are paired with the wrong songs (no relationship left)."""
    root.mkdir(parents=True, exist_ok=True)
    catalogue = synthetic_tracks(tracks, seed)
    catalog_dir = root / "catalog"
    if not (catalog_dir / "meta.json").exists() and not catalog_dir.exists():
        CatalogueIndex.build(Catalogue(catalogue)).save(catalog_dir)
    rng = np.random.default_rng(seed + 1)
    images = root / "images"
    images.mkdir(exist_ok=True)
    ids = [t.id for t in catalogue[:paired]]
    partners = list(rng.permutation(ids)) if shuffle else ids
    csv_path = root / name
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "track_id"])
        for track, partner in zip(catalogue[:paired], partners, strict=True):
            path = images / f"{track.id}.png"
            if not path.exists():
                picture = picture_for(track.features["valence"], track.features["energy"], rng)
                Image.fromarray(picture).save(path)
            writer.writerow([f"images/{track.id}.png", partner])
    return csv_path, catalog_dir, catalogue
