"""The colour encoder and the readers it feeds: ordering on real photos, ranges, context."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from tests.conftest import PHOTOS_DIR, require_shared
from tunelens.core import vocab
from tunelens.core.settings import Settings
from tunelens.core.types import EncoderInfo, Reading
from tunelens.reading.faces import FaceReader, missing_parts
from tunelens.reading.reader import Reader, keyword_matches
from tunelens.vision.colour import ColourEncoder, colour_stats, valence_arousal
from tunelens.vision.imaging import LoadedImage, load_image

# Pairs picked from photos.csv descriptions: (bright and cheerful, dark and gloomy)
CHEERFUL_VS_GLOOMY = [
    (
        "kite_blue_sky_clouds_01.jpg",
        "lake_night_blue_mist_01.jpg",
    ),  # "Cheerful, free" / "melancholic"
    (
        "beach_dune_grass_sea_01.jpg",
        "mountains_dark_clouds_01.jpg",
    ),  # "Bright, breezy" / "Brooding"
    ("flower_yellow_closeup_01.jpg", "pier_fog_bw_01.jpg"),  # "Vivid, sunny" / "lonely"
    ("green_hills_blue_sky_01.jpg", "storm_clouds_road_01.jpg"),  # "Clear, open" / "storm"
    ("dandelions_golden_hour_01.jpg", "forest_path_01.jpg"),  # "Warm, peaceful" / "gloomy"
    ("fruits_citrus_kiwi_01.jpg", "sun_rays_clouds_mountains_01.jpg"),  # "saturated" / "Dark"
    (
        "squirrel_branch_01.jpg",
        "sunset_dramatic_clouds_01.jpg",
    ),  # "bright sunlit" / "towering dark"
]


def _info() -> EncoderInfo:
    return EncoderInfo(name="colour", pretrained=False, fallback=False, model_id="colour-v1")


def _solid(rgb: tuple[int, int, int], size: int = 64) -> LoadedImage:
    return LoadedImage.from_array(np.full((size, size, 3), rgb, dtype=np.uint8))


def test_pairs_come_from_the_shared_descriptions() -> None:
    require_shared(PHOTOS_DIR)
    with (PHOTOS_DIR / "photos.csv").open(encoding="utf-8") as handle:
        described = {row["file"] for row in csv.DictReader(handle)}
    for cheerful, gloomy in CHEERFUL_VS_GLOOMY:
        assert cheerful in described and gloomy in described


@pytest.mark.parametrize(("cheerful", "gloomy"), CHEERFUL_VS_GLOOMY)
def test_cheerful_photos_read_higher_valence_than_gloomy_ones(cheerful: str, gloomy: str) -> None:
    require_shared(PHOTOS_DIR)
    encoder = ColourEncoder()
    bright = encoder.stats([load_image(PHOTOS_DIR / cheerful)])[0]
    dark = encoder.stats([load_image(PHOTOS_DIR / gloomy)])[0]
    assert valence_arousal(bright)[0] > valence_arousal(dark)[0]


def test_statistics_of_extremes() -> None:
    black = colour_stats(np.zeros((32, 32, 3), dtype=np.uint8))
    white = colour_stats(np.full((32, 32, 3), 255, dtype=np.uint8))
    red = colour_stats(np.tile(np.array([230, 20, 20], dtype=np.uint8), (32, 32, 1)))
    blue = colour_stats(np.tile(np.array([20, 40, 230], dtype=np.uint8), (32, 32, 1)))
    assert black.brightness == 0 and white.brightness == pytest.approx(1.0)
    assert black.saturation == 0 and white.saturation == 0
    assert black.dominant_hue == "grey" and red.dominant_hue == "red"
    assert red.warmth > 0.5 and blue.warmth < -0.5
    assert red.colourfulness > white.colourfulness
    assert white.contrast == 0 and white.edge_density == 0
    checker = np.indices((32, 32)).sum(axis=0) % 2 * 255
    busy = colour_stats(np.repeat(checker[:, :, None], 3, axis=2).astype(np.uint8))
    assert busy.contrast > 0.9 and busy.edge_density > 0.9
    # saturated, warm colour is more arousing than a dull grey of the same brightness
    grey = colour_stats(np.full((32, 32, 3), 90, dtype=np.uint8))
    assert valence_arousal(red)[1] > valence_arousal(grey)[1]


def test_colour_embedding_is_normalised() -> None:
    encoder = ColourEncoder()
    emb = encoder.embed_images([_solid((200, 120, 40)), _solid((10, 10, 10))])
    assert emb.shape == (2, encoder.dim)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def _vivid() -> LoadedImage:
    """Bright stripes of many hues around a lit centre: what the fitted reader calls pleasant
    (chroma spread, hue variety, a lit centre)."""
    pixels = np.zeros((120, 160, 3), np.uint8)
    colours = [(250, 60, 40), (250, 210, 40), (60, 200, 80), (40, 120, 250), (230, 80, 200)]
    for i, colour in enumerate(colours):
        pixels[:, i * 32 : (i + 1) * 32] = colour
    pixels[30:90, 40:120] = (255, 240, 120)
    return LoadedImage.from_array(pixels)


def _dull() -> LoadedImage:
    """Two dark, colourless halves: nothing the reader counts as pleasant."""
    pixels = np.full((120, 160, 3), (40, 42, 48), np.uint8)
    pixels[:, :80] = (25, 26, 30)
    return LoadedImage.from_array(pixels)


def test_colour_reader_gives_a_complete_reading() -> None:
    """A solid colour has none of the fitted reader's cues (no chroma spread, hue variety or
    uneven light) and reads near neutral whatever its lightness, so the pictures differ in
    those cues."""
    encoder = ColourEncoder()
    reader = Reader(encoder, None, _info())
    images = [_vivid(), _dull()]
    happy, gloomy = reader.read(images, encoder.embed_images(images))
    for reading in (happy, gloomy):
        assert sum(reading.emotions.values()) == pytest.approx(1.0, abs=1e-3)
        assert sum(reading.genres.values()) == pytest.approx(1.0, abs=1e-3)
        assert set(reading.emotions) == set(vocab.emotions().names)
        assert -1 <= reading.valence <= 1 and -1 <= reading.arousal <= 1
        assert reading.scenes == []
    assert happy.valence > gloomy.valence
    positive = {"amusement", "awe", "contentment", "excitement"}
    assert happy.top_emotion in positive
    assert gloomy.top_emotion not in positive


def test_context_words_steer_the_colour_reading() -> None:
    encoder = ColourEncoder()
    reader = Reader(encoder, None, _info())
    image = [_solid((120, 120, 120))]
    plain = reader.read(image, encoder.embed_images(image))[0]
    party = reader.read(image, encoder.embed_images(image), context="birthday party, dancing!")[0]
    assert [s.name for s in party.scenes] == ["party"]
    assert party.arousal > plain.arousal
    assert party.genres["electronic"] > plain.genres["electronic"]
    assert party.context == "birthday party, dancing!"


def test_keyword_matching_is_whole_word() -> None:
    scenes = vocab.scenes()
    assert keyword_matches("a rainy night in the city", scenes) == ["rain", "city street"]
    assert keyword_matches("terrain", scenes) == []
    assert keyword_matches(None, scenes) == []


def test_vocabularies_are_complete() -> None:
    emotions = vocab.emotions()
    assert emotions.names == [
        "amusement",
        "awe",
        "contentment",
        "excitement",
        "anger",
        "disgust",
        "fear",
        "sadness",
    ]
    assert len(vocab.scenes().terms) >= 30
    assert {"classical", "jazz", "rock", "pop", "electronic"} <= set(vocab.genres().names)
    for term in emotions.terms:
        assert len(term.prompts(emotions.templates)) >= 3
    assert vocab.genre_for_catalog_label("EDM") == "electronic"
    assert vocab.genre_for_catalog_label("polka") is None


# Calm, bright or warm scenes by their photos.csv descriptions ("Warm, peaceful", "Clear, open,
# calm", "Serene", "Cosy", "Bright, breezy", ...): the seven the issue named, and the others.
CALM_BRIGHT_WARM = [
    "dandelions_golden_hour_01.jpg",
    "green_hills_blue_sky_01.jpg",
    "sunset_lake_rowboats_01.jpg",
    "coffee_cup_wood_table_01.png",
    "flower_dahlia_orange_01.jpg",
    "autumn_leaf_ground_01.jpg",
    "dragonfly_tree_blue_sky_01.jpg",
    "beach_dune_grass_sea_01.jpg",
    "butterfly_soft_meadow_01.jpg",
    "lake_twilight_01.jpg",
    "sunset_mountains_01.jpg",
    "kite_blue_sky_clouds_01.jpg",
    "flower_yellow_closeup_01.jpg",
    "interior_wine_drum_01.jpg",
    "squirrel_branch_01.jpg",
    "ladybird_forget_me_nots_01.jpg",
    "bridge_cables_sky_tidal_flats_01.jpg",
    "portrait_astronaut_eileen_collins_01.png",
]


def _colour_readings(names: list[str], *, faces: bool) -> dict[str, Reading]:
    encoder = ColourEncoder()
    reader = Reader(encoder, None, _info())
    face_reader = FaceReader.load() if faces else None
    out = {}
    for name in names:
        image = load_image(PHOTOS_DIR / name, settings=Settings(_env_file=None))
        reading = reader.read([image], encoder.embed_images([image]))[0]
        out[name] = face_reader.apply(image, reading) if face_reader else reading
    return out


@pytest.mark.parametrize("faces", [False, True], ids=["colour", "colour+faces"])
def test_calm_bright_warm_photos_never_read_as_fear_or_anger(faces: bool) -> None:
    require_shared(PHOTOS_DIR)
    if faces and missing_parts():
        pytest.skip("the faces extra is not installed")
    with (PHOTOS_DIR / "photos.csv").open(encoding="utf-8") as handle:
        described = {row["file"] for row in csv.DictReader(handle)}
    assert set(CALM_BRIGHT_WARM) <= described
    readings = _colour_readings(CALM_BRIGHT_WARM, faces=faces)
    wrong = {
        name: (r.top_emotion, r.emotions[r.top_emotion])
        for name, r in readings.items()
        if r.top_emotion in {"fear", "anger"} or r.emotions["fear"] + r.emotions["anger"] > 0.15
    }
    assert not wrong


def test_fitted_reader_orders_cheerful_photos_above_gloomy_ones() -> None:
    require_shared(PHOTOS_DIR)
    names = [n for pair in CHEERFUL_VS_GLOOMY for n in pair]
    readings = _colour_readings(names, faces=False)
    ordered = [readings[c].valence > readings[g].valence for c, g in CHEERFUL_VS_GLOOMY]
    # measured: 6 of 7 (the kite in a deep-blue sky reads as neutral as the night lake)
    assert sum(ordered) >= 6, ordered
    cheerful = np.mean([readings[c].valence for c, _ in CHEERFUL_VS_GLOOMY])
    gloomy = np.mean([readings[g].valence for _, g in CHEERFUL_VS_GLOOMY])
    assert cheerful - gloomy > 0.15
