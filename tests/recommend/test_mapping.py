"""Reading → target audio profile: directions from the circumplex, genre pull, scene offsets."""

from __future__ import annotations

from tunelens.core.audio import MOOD_FEATURES
from tunelens.core.types import ColourSummary, EncoderInfo, Reading, ScoredLabel
from tunelens.recommend.mapping import FEATURE_RANGES, circumplex_profile, target_profile


def make_reading(
    valence: float,
    arousal: float,
    genres: dict[str, float] | None = None,
    scenes: list[ScoredLabel] | None = None,
) -> Reading:
    return Reading(
        emotions={
            "amusement": 0.2,
            "awe": 0.1,
            "contentment": 0.2,
            "excitement": 0.1,
            "anger": 0.1,
            "disgust": 0.1,
            "fear": 0.1,
            "sadness": 0.1,
        },
        top_emotion="amusement",
        valence=valence,
        arousal=arousal,
        genres=genres or {"pop": 0.5, "rock": 0.5},
        scenes=scenes or [],
        colour=ColourSummary(
            brightness=0.5,
            saturation=0.5,
            colourfulness=0.5,
            warmth=0.0,
            contrast=0.5,
            edge_density=0.1,
            dominant_hue="blue",
        ),
        encoder=EncoderInfo(name="colour", pretrained=False, fallback=False, model_id="x"),
    )


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
