"""A small mood-labelled catalogue and synthetic pictures, so the harness runs end to end
without the shared data (the integration tests run it on the real photos and ratings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue, Track
from tunelens.core.settings import get_settings
from tunelens.quality.affect import AffectJob, evaluate_affect
from tunelens.quality.moods import MoodsJob, evaluate_moods

MOODS = ("Happy", "Energetic", "Calm", "Sad")


def mood_tracks(n: int = 120, seed: int = 0) -> list[Track]:
    """Tracks whose mood label follows their valence and energy, as the moods data set's do."""
    rng = np.random.default_rng(seed)
    tracks = []
    for i in range(n):
        valence, energy = float(rng.random()), float(rng.random())
        mood = (("Sad", "Energetic"), ("Calm", "Happy"))[valence > 0.5][energy > 0.5]
        features = {
            "valence": valence,
            "energy": energy,
            "danceability": float(rng.random()),
            "tempo": float(rng.uniform(60, 180)),
            "loudness": float(rng.uniform(-20, -2)),
            "acousticness": float(rng.random()),
            "instrumentalness": float(rng.random()),
            "mode": float(rng.integers(0, 2)),
            "speechiness": float(rng.random() * 0.3),
            "liveness": float(rng.random()),
        }
        tracks.append(
            Track(id=f"m{i}", title=f"Song {i}", artist=f"A{i}", features=features, mood=mood)
        )
    return tracks


def build_mood_catalog(out: Path) -> Path:
    CatalogueIndex.build(Catalogue(mood_tracks())).save(out)
    return out


@pytest.fixture(scope="module")
def mood_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_mood_catalog(tmp_path_factory.mktemp("mood-catalog"))


def grey(level: int, size: int = 64) -> Image.Image:
    """A flat grey picture: HSV value level/255, saturation 0."""
    return Image.fromarray(np.full((size, size, 3), level, dtype=np.uint8))


def save_pictures(folder: Path, pictures: dict[str, Image.Image]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, picture in pictures.items():
        picture.save(folder / name)
    return folder


HEADER = "file,theme,category,valence_mean,arousal_mean\n"


def write_rated_greys(tmp_path: Path, levels: list[int]) -> tuple[Path, Path]:
    """Grey pictures rated as pleasant and as calm as they are light, two categories."""
    images = save_pictures(tmp_path / "images", {f"g{lv}.png": grey(lv) for lv in levels})
    lines = [
        f"g{lv}.png,T{i // 3},{('Object', 'Scenery')[i % 2]},{1 + 6 * lv / 255},{7 - 6 * lv / 255}"
        for i, lv in enumerate(levels)
    ]
    ratings = tmp_path / "ratings.csv"
    ratings.write_text(HEADER + "\n".join(lines) + "\nmissing.png,T9,Object,4,4\n")
    return images, ratings


def shared_like(tmp_path: Path) -> Path:
    """Six synthetic photos with descriptions, two per group."""
    rng = np.random.default_rng(3)
    described = {
        "sun.png": ((240, 200, 80), "Bright, cheerful meadow."),
        "beach.png": ((230, 220, 150), "Sunny beach."),
        "storm.png": ((40, 45, 60), "Storm clouds. Brooding."),
        "fog.png": ((90, 90, 95), "Lonely pier in fog."),
        "lake.png": ((120, 140, 170), "Serene lake."),
        "hills.png": ((110, 150, 110), "Calm green hills."),
    }
    pictures = {
        name: Image.fromarray(
            np.clip(np.array(rgb) + rng.normal(0, 20, (60, 60, 3)), 0, 255).astype(np.uint8)
        )
        for name, (rgb, _) in described.items()
    }
    folder = save_pictures(tmp_path / "photos", pictures)
    rows = [f'{name},"{text}"' for name, (_, text) in described.items()]
    (folder / "photos.csv").write_text("file,description\n" + "\n".join(rows) + "\n")
    return folder


def synthetic_reports(tmp: Path) -> dict[str, Any]:
    """Both quality reports of synthetic pictures on a synthetic mood catalogue (needs the
    isolated settings of a test)."""
    catalog = build_mood_catalog(tmp / "catalog")
    images, ratings = write_rated_greys(tmp, [30, 80, 130, 180, 230, 250])
    affect = evaluate_affect(
        get_settings(),
        AffectJob(images, ratings, encoder="colour", catalog_dir=catalog, bootstrap=20),
    )
    moods = evaluate_moods(
        get_settings(),
        MoodsJob(shared_like(tmp), catalog, songs_catalog=catalog, encoder="colour"),
    )
    return {"affect": affect, "moods": moods}
