"""The template explanation: names the mood, the scene and the hot region, in every language."""

from __future__ import annotations

import pytest

from tunelens import i18n
from tunelens.core.types import ColourSummary, EncoderInfo, FaceOut, Reading, ScoredLabel
from tunelens.explain.heatmap import HotRegion
from tunelens.explain.text import explanation_text, region_label


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
    out = explanation_text(make_reading(), lang=lang, regions=[SKY])
    assert t.label("emotion", "awe") in out
    assert t.label("scene", "beach") in out
    assert t.label("region", "upper") in out and t.label("content", "sky") in out
    assert t.label("genre", "classical") in out
    # every placeholder was filled
    assert "%(" not in out and ")s" not in out
    assert explanation_text(make_reading(), lang=lang, regions=[SKY]) == out  # deterministic
    if lang != "en":  # really translated, not English with a label swapped in
        assert "reads this picture" not in out and "It looks like" not in out


def test_english_wording() -> None:
    out = explanation_text(make_reading(), regions=[SKY])
    assert out.startswith(
        "tunelens reads this picture as awe (52%), with some contentment: bright and pleasant"
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
    assert "It looks like" not in offline and "colour and light only" in offline
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
