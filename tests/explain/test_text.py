"""The template explanation: names the mood, the scene and the hot region, in every language."""

from __future__ import annotations

import numpy as np
import pytest

from tunelens import i18n
from tunelens.core.types import ColourSummary, EncoderInfo, FaceOut, Reading, ScoredLabel
from tunelens.explain.heatmap import HotRegion
from tunelens.explain.text import HeatmapWords, explanation_text, region_label
from tunelens.recommend.catalogue_map import CatalogueMap
from tunelens.recommend.mapping import MoodPoint, mood_point


def make_reading(**overrides: object) -> Reading:
    values: dict[str, object] = {
        "emotions": {"awe": 0.52, "contentment": 0.3, "sadness": 0.18},
        "top_emotion": "awe",
        "valence": 0.42,
        "arousal": -0.1,
        "genres": {"classical": 0.5, "pop": 0.3, "rock": 0.2},
        "scenes": [ScoredLabel(name="beach", score=0.6), ScoredLabel(name="sunset", score=0.2)],
        "colour": ColourSummary(
            brightness=0.7,
            saturation=0.25,
            colourfulness=0.5,
            warmth=0.3,
            contrast=0.4,
            edge_density=0.1,
            dominant_hue="orange",
        ),
        "encoder": EncoderInfo(name="clip-onnx", pretrained=True, fallback=False, model_id="x"),
    }
    values.update(overrides)
    return Reading.model_validate(values)


SKY = HotRegion(row="upper", col=None, share=0.7, content="sky", content_kind="feature")


@pytest.mark.parametrize("lang", list(i18n.languages()))
def test_names_the_top_emotion_the_scene_and_the_hot_region(lang: str) -> None:
    t = i18n.translator(lang)
    out = explanation_text(make_reading(), lang=lang, heatmap=HeatmapWords([SKY]))
    assert t.label("emotion", "awe") in out
    assert t.label("scene", "beach") in out
    assert t.label("region", "upper") in out and t.label("content", "sky") in out
    assert t.label("genre", "classical") in out
    # every placeholder was filled
    assert "%(" not in out and ")s" not in out
    again = explanation_text(make_reading(), lang=lang, heatmap=HeatmapWords([SKY]))
    assert again == out  # deterministic
    if lang != "en":  # really translated, not English with a label swapped in
        assert "The mood" not in out and "It looks like" not in out


def test_english_wording() -> None:
    out = explanation_text(make_reading(), heatmap=HeatmapWords([SKY]))
    assert out.startswith(
        "The mood leans towards awe (52%), though not strongly. It is bright and pleasant"
        " and easy-going (valence +0.42, arousal −0.10)."
    )
    assert "It looks like a beach and a sunset." in out
    assert "The light is bright and the colours are rich, mostly orange." in out
    assert "The awe comes mostly from the upper third (sky)." in out
    assert region_label(SKY) == "upper third: sky"
    cell = HotRegion(row="lower", col="left", share=0.5, content="red", content_kind="hue")
    assert region_label(cell) == "lower left: red tones"
    offline = explanation_text(
        make_reading(
            scenes=[],
            encoder=EncoderInfo(name="colour", pretrained=False, fallback=True, model_id="c"),
        )
    )
    assert "It looks like" not in offline
    assert "reads only colour and light here, not what the picture shows" in offline
    assert "comes mostly from" not in offline  # no heatmap, no region sentence


def test_faces_sentence() -> None:
    face = FaceOut(
        box=[0.3, 0.2, 0.3, 0.4],
        expressions={"happy": 0.87, "neutral": 0.1, "sad": 0.03},
        top_expression="happy",
        area_share=0.12,
        weight=0.36,
    )
    out = explanation_text(make_reading(faces=[face]))
    assert (
        "One face looks happy (87%), which pulls the mood towards amusement and excitement." in out
    )
    many = explanation_text(make_reading(faces=[face, face.model_copy(update={"weight": 0.1})]))
    assert "2 faces; the strongest expression is happy" in many


def test_numbers_and_lists_follow_the_locale() -> None:
    reading = make_reading(valence=-0.1234)
    assert "(valence −0.12, " in explanation_text(reading)
    spanish = explanation_text(reading, lang="es")
    assert "52\u00a0%" in spanish and "−0,12" in spanish  # Spanish: non-breaking space, comma
    assert "una playa y una puesta de sol" in spanish  # CLDR list pattern
    arabic = explanation_text(reading, lang="ar")
    assert "\u206652%\u2069" in arabic  # numbers isolated inside right-to-left text
    assert "شاطئ وغروب الشمس" in arabic


def test_plural_forms_follow_the_language() -> None:
    face = FaceOut(
        box=[0.3, 0.2, 0.3, 0.4],
        expressions={"neutral": 0.9, "happy": 0.1},
        top_expression="neutral",
        area_share=0.12,
        weight=0.0,
    )

    def faces_sentence(lang: str, n: int) -> str:
        return explanation_text(make_reading(faces=[face] * n), lang=lang)

    assert "One face with a neutral expression" in faces_sentence("en", 1)
    assert "3 faces with neutral expressions" in faces_sentence("en", 3)
    assert "وجه واحد" in faces_sentence("ar", 1)
    assert "وجهان" in faces_sentence("ar", 2)  # Arabic's dual
    assert "3 وجوه" in faces_sentence("ar", 3)  # 3–10: plural of paucity
    assert "11 وجهًا" in faces_sentence("ar", 11)  # 11–99: singular accusative


def test_an_unknown_language_is_english() -> None:
    assert explanation_text(make_reading(), lang="xx-YY") == explanation_text(make_reading())
    assert explanation_text(make_reading(), lang="es-MX") == explanation_text(
        make_reading(), lang="es"
    )


# --- what the mapping asked for, and what the reader cannot know -----------------------------

FEATURES = ["valence", "energy", "acousticness"]


def catalogue_without_jazz() -> CatalogueMap:
    """A small catalogue of pop, rock and r&b songs (no jazz, no classical)."""
    rng = np.random.default_rng(0)
    blocks, vibes = [], []
    for genre, centre in (("pop", 0.7), ("rock", 0.5), ("r&b", 0.35)):
        blocks.append(np.clip(centre + 0.1 * rng.standard_normal((60, 3)), 0.0, 1.0))
        vibes += [genre] * 60
    return CatalogueMap.build(FEATURES, np.vstack(blocks), vibes, [0.2, 0.2, 0.2])


@pytest.mark.parametrize("lang", list(i18n.languages()))
def test_the_vibe_names_only_genres_the_catalogue_has(lang: str) -> None:
    catalogue = catalogue_without_jazz()
    assert "jazz" not in catalogue.genres.present
    reading = make_reading(genres={"jazz": 0.6, "classical": 0.1, "r&b": 0.2, "pop": 0.1})
    t = i18n.translator(lang)
    point = mood_point(reading, catalogue)
    out = explanation_text(reading, lang=lang, point=point)
    assert t.label("genre", "jazz") not in out and t.label("genre", "classical") not in out
    top = max(point.genres or {}, key=lambda g: (point.genres or {})[g])
    assert top in catalogue.genres.present and t.label("genre", top) in out
    # without the mapping's point the old words would have said "mostly jazz"
    assert t.label("genre", "jazz") in explanation_text(reading, lang=lang)


def colour_reading(**overrides: object) -> Reading:
    values: dict[str, object] = {
        "encoder": EncoderInfo(name="colour", pretrained=False, fallback=True, model_id="c"),
        "scenes": [],
    }
    values.update(overrides)
    return make_reading(**values)


@pytest.mark.parametrize("lang", list(i18n.languages()))
def test_an_unclear_colour_reading_says_it_cannot_tell(lang: str) -> None:
    # the fitted colour reader on a rocket at dusk: near neutral, sadness leads a flat spread
    reading = colour_reading(
        valence=-0.01,
        arousal=-0.19,
        emotions={"sadness": 0.42, "contentment": 0.3, "awe": 0.16, "disgust": 0.12},
        top_emotion="sadness",
    )
    t = i18n.translator(lang)
    out = explanation_text(reading, lang=lang, point=MoodPoint(valence=-0.6, arousal=-0.2))
    english = explanation_text(reading, point=MoodPoint(valence=-0.6, arousal=-0.2))
    assert english.startswith("The mood is hard to tell: no emotion stands out")
    assert "not what the picture shows: a café, a rocket or a kite" in english
    assert t.gettext("The mood is hard to tell: no emotion stands out.")[:12] in out
    for jargon in ("CLIP", "model", "TUNELENS_", "/"):
        assert jargon not in out, (jargon, out)
    assert "%(" not in out


def test_a_calm_bright_warm_picture_is_never_called_fearful() -> None:
    reading = colour_reading(
        valence=0.35,
        arousal=-0.3,
        emotions={"fear": 0.4, "contentment": 0.35, "awe": 0.25},
        top_emotion="fear",
    )
    reading.colour.brightness, reading.colour.warmth = 0.75, 0.8
    out = explanation_text(reading, point=MoodPoint(valence=0.7, arousal=-0.5))
    assert "fear" not in out and "anger" not in out
    assert out.startswith("The mood is hard to tell: no emotion stands out.")


def test_the_place_among_photos_is_what_the_songs_follow() -> None:
    reading = colour_reading(valence=0.01, arousal=0.02)
    lively = explanation_text(reading, point=MoodPoint(valence=-0.5, arousal=0.9))
    assert "Compared with other photos it is gloomier than most and livelier than most" in lively
    middle = explanation_text(reading, point=MoodPoint(valence=0.1, arousal=-0.2))
    assert "it sits in the middle" in middle


def test_a_deep_saturated_picture_is_not_called_dim() -> None:
    colour = ColourSummary(
        brightness=0.32,
        saturation=0.4,
        colourfulness=0.6,
        warmth=-1.0,
        contrast=0.3,
        edge_density=0.05,
        dominant_hue="blue",
    )
    out = explanation_text(colour_reading(colour=colour))
    assert "The colours are deep and vivid, mostly blue." in out and "dim" not in out
    grey = colour.model_copy(update={"saturation": 0.05})
    assert "The light is dim" in explanation_text(colour_reading(colour=grey))


def test_an_unclear_reading_with_a_heatmap_names_where_it_depends_not_a_mood() -> None:
    reading = colour_reading(emotions={"sadness": 0.4, "contentment": 0.35, "awe": 0.25})
    cell = HotRegion(row=None, col="centre", share=0.57, content="orange", content_kind="hue")
    out = explanation_text(reading, heatmap=HeatmapWords([cell], "sadness"))
    assert "What tunelens reads depends most on the centre column (orange tones)." in out
    assert "The sadness comes" not in out
    none = explanation_text(reading, heatmap=HeatmapWords([], "sadness"))
    assert "No single region stands out" in none
