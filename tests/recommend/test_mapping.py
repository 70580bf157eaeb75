"""Reading → target audio profile: the fixed formulas (no catalogue), and targets read off a
catalogue's own range (synthetic catalogues)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.recommend.helpers import make_reading, uniform_features, uniform_index
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue, Track
from tunelens.core.audio import MOOD_FEATURES
from tunelens.core.types import ScoredLabel
from tunelens.recommend.mapping import (
    ABSOLUTE_ENERGY_SHARE,
    FEATURE_RANGES,
    PHOTO_AROUSAL,
    PHOTO_VALENCE,
    circumplex_profile,
    photo_rank,
    target_profile,
)
from tunelens.recommend.ranking import Recommender


def test_valence_and_arousal_move_the_right_features() -> None:
    happy = circumplex_profile(0.8, 0.0)
    sad = circumplex_profile(-0.8, 0.0)
    assert happy["valence"] > sad["valence"] and happy["mode"] > sad["mode"]
    calm = circumplex_profile(0.0, -0.8)
    wild = circumplex_profile(0.0, 0.8)
    for feature in ("energy", "tempo", "loudness"):
        assert wild[feature] > calm[feature]
    assert calm["acousticness"] > wild["acousticness"]


def test_target_is_complete_and_in_range() -> None:
    for v, a in [(-1, -1), (-1, 1), (1, -1), (1, 1), (0, 0)]:
        target = target_profile(make_reading(v, a))
        assert set(target.features) == set(MOOD_FEATURES)
        for name, value in target.features.items():
            low, high = FEATURE_RANGES[name]
            assert low <= value <= high
        assert target.weights["valence"] >= target.weights["liveness"]


def test_genre_pull_changes_texture_more_than_mood() -> None:
    classical = target_profile(make_reading(0.0, 0.0, {"classical": 1.0}))
    electronic = target_profile(make_reading(0.0, 0.0, {"electronic": 1.0}))
    assert classical.features["acousticness"] > electronic.features["acousticness"]
    assert classical.features["instrumentalness"] > electronic.features["instrumentalness"]
    texture_gap = classical.features["acousticness"] - electronic.features["acousticness"]
    mood_gap = abs(classical.features["valence"] - electronic.features["valence"])
    assert texture_gap > mood_gap


def test_scene_offsets_apply() -> None:
    plain = target_profile(make_reading(0.2, 0.2))
    concert = target_profile(
        make_reading(0.2, 0.2, scenes=[ScoredLabel(name="concert", score=1.0)])
    )
    assert concert.features["liveness"] > plain.features["liveness"] + 0.2


# --------------------------------------------------------------------------- with a catalogue


@pytest.fixture(scope="module")
def uniform() -> Recommender:
    """2,000 songs with every feature spread evenly and independently over its range."""
    return Recommender(uniform_index())


def test_a_serene_picture_reaches_the_calm_end_of_the_catalogue(uniform: Recommender) -> None:
    serene = make_reading(0.4, -0.6, {})
    target = target_profile(serene, uniform.profiles).features
    cmap = uniform.profiles
    assert target["energy"] <= 0.2
    assert target["acousticness"] >= cmap.at("acousticness", 0.8)
    assert target["instrumentalness"] >= cmap.at("instrumentalness", 0.75)
    assert target["loudness"] <= cmap.at("loudness", 0.2)
    # the fixed formulas never got there: the calmest target they allow is energy 0.31
    assert circumplex_profile(0.4, -0.6)["energy"] > 0.3


def test_an_ecstatic_picture_reaches_the_top_of_energy_and_danceability(
    uniform: Recommender,
) -> None:
    ecstatic = target_profile(make_reading(0.8, 0.8, {}), uniform.profiles).features
    cmap = uniform.profiles
    assert ecstatic["energy"] >= cmap.at("energy", 0.95)
    assert ecstatic["danceability"] >= cmap.at("danceability", 0.85)
    assert ecstatic["acousticness"] <= cmap.at("acousticness", 0.05)
    assert ecstatic["valence"] >= cmap.at("valence", 0.9)


def test_a_typical_photo_asks_for_the_typical_song(uniform: Recommender) -> None:
    """A reading at people's mean rating of photos sits mid-catalogue on every axis."""
    typical = make_reading(PHOTO_VALENCE[0], PHOTO_AROUSAL[0], {})
    target = target_profile(typical, uniform.profiles).features
    for name in ("energy", "valence", "acousticness", "tempo", "loudness"):
        assert uniform.profiles.percentile(name, target[name]) == pytest.approx(0.5, abs=0.03)


def test_targets_follow_the_catalogue_not_fixed_numbers(uniform: Recommender) -> None:
    """The same calm reading in a catalogue of quiet songs asks for quieter songs."""
    rng = np.random.default_rng(8)
    quiet = []
    for i in range(600):
        features = uniform_features(rng)
        features["energy"] = float(features["energy"] * 0.4)
        quiet.append(Track(id=f"q{i}", title="s", artist=f"a{i}", features=features))
    quiet_rec = Recommender(CatalogueIndex.build(Catalogue(quiet)))
    calm = make_reading(0.1, -0.4, {})
    in_quiet = target_profile(calm, quiet_rec.profiles).features["energy"]
    in_uniform = target_profile(calm, uniform.profiles).features["energy"]
    # texture follows the catalogue fully; energy only halfway (ABSOLUTE_ENERGY_SHARE): the
    # other half is Spotify's own 0–1 scale, the same in every catalogue
    share = ABSOLUTE_ENERGY_SHARE
    assert in_quiet < in_uniform
    assert in_quiet == pytest.approx((1 - share) * 0.4 * in_uniform + share * in_uniform, abs=0.03)


def test_energy_is_anchored_to_spotifys_scale_in_a_loud_catalogue() -> None:
    """In a catalogue of loud songs (energy 0.6–1) a calm picture still asks for energy well
    below the catalogue's own calm end's neighbours: half its quantile, half the absolute
    scale, so a misty lake is not handed the catalogue's median loudness."""
    rng = np.random.default_rng(5)
    loud = []
    for i in range(600):
        features = uniform_features(rng)
        features["energy"] = float(0.6 + 0.4 * features["energy"])
        loud.append(Track(id=f"l{i}", title="s", artist=f"a{i}", features=features))
    loud_rec = Recommender(CatalogueIndex.build(Catalogue(loud)))
    calm = target_profile(make_reading(0.1, -0.5, {}), loud_rec.profiles).features["energy"]
    quantile_only = loud_rec.profiles.at("energy", loud_rec.profiles.percentile("energy", calm))
    assert calm < 0.55  # below every song: the target leaves the catalogue's loud range
    assert quantile_only >= 0.6
    typical = target_profile(
        make_reading(PHOTO_VALENCE[0], PHOTO_AROUSAL[0], {}), loud_rec.profiles
    ).features["energy"]
    assert typical == pytest.approx(0.5 * loud_rec.profiles.at("energy", 0.5) + 0.25, abs=0.02)


def test_a_feature_the_catalogue_never_knows_weighs_nothing() -> None:
    rng = np.random.default_rng(9)
    tracks = []
    for i in range(200):
        features = uniform_features(rng)
        del features["mode"]  # as in the mood-labelled set
        tracks.append(Track(id=f"n{i}", title="s", artist=f"a{i}", features=features))
    rec = Recommender(CatalogueIndex.build(Catalogue(tracks)))
    target = target_profile(make_reading(0.5, 0.1), rec.profiles)
    assert target.weights["mode"] == 0.0 and target.weights["valence"] > 0
    assert set(target.features) == set(MOOD_FEATURES)


def test_photo_rank_places_a_reading_among_rated_photos() -> None:
    assert photo_rank(PHOTO_AROUSAL[0], PHOTO_AROUSAL) == pytest.approx(0.0)
    one_sd = photo_rank(PHOTO_AROUSAL[0] + PHOTO_AROUSAL[1], PHOTO_AROUSAL)
    assert one_sd == pytest.approx(2 * 0.8413 - 1, abs=1e-3)
    assert -1 < photo_rank(-1.0, PHOTO_AROUSAL) < photo_rank(-0.5, PHOTO_AROUSAL) < 0
