"""The catalogue map: genres folded onto the catalogue's own, placed from its songs, and
quantiles read off its distribution (synthetic catalogues, no shared data)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.recommend.helpers import catalogue_map, genre_catalogue, make_reading
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue, Track
from tunelens.core import vocab
from tunelens.recommend.catalogue_map import CatalogueMap, rank_correlation
from tunelens.recommend.mapping import target_profile
from tunelens.recommend.ranking import Recommender

#: four pop-like genres, as in the default Spotify catalogue: no classical, no jazz
POPLIKE = {
    "pop": {"valence": 0.55, "energy": 0.7, "acousticness": 0.15, "instrumentalness": 0.02},
    "rock": {"valence": 0.5, "energy": 0.75, "acousticness": 0.12, "instrumentalness": 0.05},
    "edm": {"valence": 0.4, "energy": 0.82, "acousticness": 0.06, "instrumentalness": 0.25},
    "r&b": {"valence": 0.52, "energy": 0.58, "acousticness": 0.28, "instrumentalness": 0.03},
}


@pytest.fixture(scope="module")
def poplike() -> Recommender:
    return Recommender(CatalogueIndex.build(genre_catalogue(POPLIKE)))


def test_absent_genres_drop_out_when_no_catalogue_genre_is_like_them(poplike: Recommender) -> None:
    genres = poplike.profiles.genres
    assert genres.present == ["electronic", "pop", "r&b", "rock"]
    assert genres.fold["classical"] is None and genres.fold["jazz"] is None
    assert genres.fold["electronic"] == "electronic"  # the catalogue's "edm" label
    reading = {"classical": 0.4, "jazz": 0.3, "pop": 0.2, "rock": 0.1}
    assert genres.kept(reading) == pytest.approx({"pop": 0.2, "rock": 0.1})
    evidence, mass = genres.evidence(reading, 0.0, 0.0)
    assert mass == pytest.approx(0.3)
    assert set(evidence) == {"pop", "rock"} and sum(evidence.values()) == pytest.approx(1.0)


def test_the_genre_part_weighs_only_the_vibe_the_catalogue_can_answer(
    poplike: Recommender,
) -> None:
    """A calm reading whose vibe is mostly classical and jazz: before, the runner-up genre took
    the whole genre part; now the part weighs 0.3 of its weight and absent genres nothing."""
    reading = make_reading(0.2, -0.3, {"classical": 0.5, "jazz": 0.2, "r&b": 0.3})
    songs = poplike.recommend(reading, target_profile(reading, poplike.profiles), k=10)
    weight = poplike.config.weights.genre
    assert songs and all(s.parts.get("genre", 0.0) <= weight * 0.3 + 1e-4 for s in songs)
    assert all(abs(sum(s.parts.values()) - s.score) < 2e-3 for s in songs)


def test_an_absent_genre_folds_into_a_catalogue_genre_that_sounds_like_it() -> None:
    jazz = vocab.genres().get("jazz").prior
    centres = {**POPLIKE, "r&b": {k: jazz[k] for k in ("valence", "energy", "acousticness")}}
    centres["r&b"]["instrumentalness"] = jazz["instrumentalness"]
    index = CatalogueIndex.build(genre_catalogue(centres))
    rec = Recommender(index)
    assert rec.profiles.genres.fold["jazz"] == "r&b"
    assert rec.profiles.genres.kept({"jazz": 0.6, "r&b": 0.1}) == pytest.approx({"r&b": 0.7})


def test_genres_are_placed_where_their_songs_are_not_where_genres_json_says() -> None:
    """genres.json puts rock at high arousal; in this catalogue rock is the calmest genre."""
    centres = {
        "rock": {"valence": 0.3, "energy": 0.2},
        "pop": {"valence": 0.8, "energy": 0.85},
        "edm": {"valence": 0.5, "energy": 0.55},
    }
    rec = Recommender(CatalogueIndex.build(genre_catalogue(centres)))
    places = rec.profiles.genres.places
    assert vocab.genres().get("rock").arousal > 0.5  # the hand-placed position
    assert places["rock"][1] < -0.5 and places["rock"][0] < 0
    assert places["pop"][0] > 0.5 and places["pop"][1] > 0.5
    # a calm reading of a rock-or-pop vibe now leans to rock, an excited one to pop
    calm, _ = rec.profiles.genres.evidence({"rock": 0.5, "pop": 0.5}, 0.0, -0.7)
    lively, _ = rec.profiles.genres.evidence({"rock": 0.5, "pop": 0.5}, 0.5, 0.7)
    assert calm["rock"] > calm["pop"] and lively["pop"] > lively["rock"]


def test_a_catalogue_without_genres_has_no_genre_part() -> None:
    rng = np.random.default_rng(4)
    tracks = [
        Track(
            id=f"m{i}",
            title="s",
            artist=f"a{i}",
            features={"valence": float(rng.random()), "energy": float(rng.random())},
        )
        for i in range(120)
    ]
    rec = Recommender(CatalogueIndex.build(Catalogue(tracks), features=("valence", "energy")))
    assert rec.profiles.genres.present == []
    reading = make_reading(0.3, 0.2, {"pop": 0.7, "rock": 0.3})
    songs = rec.recommend(reading, target_profile(reading, rec.profiles), k=5)
    assert songs and all("genre" not in s.parts for s in songs)


def test_quantiles_and_valence_among_songs_of_the_same_energy() -> None:
    """Quiet songs are rated low in valence (as in Spotify's data): a pleasant calm target
    asks for pleasant-for-a-quiet-song, not the catalogue-wide 70th percentile."""
    rng = np.random.default_rng(6)
    energy = rng.random(3000)
    valence = np.clip(0.15 + 0.6 * energy + rng.normal(0, 0.08, 3000), 0, 1)
    matrix = np.column_stack([valence, energy])
    cmap = CatalogueMap.build(("valence", "energy"), matrix, [""] * 3000, (0.3, 0.3))
    assert cmap.at("energy", 0.0) == pytest.approx(energy.min())
    assert cmap.at("energy", 0.5) == pytest.approx(np.quantile(energy, 0.5))
    assert cmap.percentile("energy", float(np.quantile(energy, 0.25))) == pytest.approx(
        0.25, abs=0.01
    )
    quiet = cmap.valence_at(0.7, 0.05)
    among_quiet = valence[energy < np.quantile(energy, 0.13)]
    assert quiet < cmap.at("valence", 0.7) - 0.2
    assert quiet == pytest.approx(np.quantile(among_quiet, 0.7), abs=0.05)
    assert cmap.coupling == pytest.approx(rank_correlation(energy, valence))
    assert cmap.coupling > 0.8


def test_the_map_is_built_from_the_index_as_the_ranker_builds_it(poplike: Recommender) -> None:
    built = catalogue_map(poplike.index, poplike.vibes_of(np.arange(len(poplike.index))))
    assert built.genres.fold == poplike.profiles.genres.fold
    assert built.coupling == pytest.approx(poplike.profiles.coupling)
