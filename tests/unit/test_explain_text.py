"""The template explanation: names the mood, the scene and the hot region, in every language."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tunelens.explain import text as text_module
from tunelens.explain.heatmap import HotRegion
from tunelens.explain.text import (
    available_languages,
    explanation_text,
    region_label,
    templates,
)
from tunelens.schemas import ColourSummary, EncoderInfo, FaceOut, Reading, ScoredLabel

I18N = Path(text_module.__file__).parent / "i18n"
WEB_I18N = Path(text_module.__file__).parents[1] / "web" / "i18n"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


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


@pytest.mark.parametrize("lang", available_languages())
def test_names_the_top_emotion_the_scene_and_the_hot_region(lang: str) -> None:
    t = templates(lang)
    out = explanation_text(make_reading(), lang=lang, regions=[SKY])
    assert t.label("emotion", "awe") in out
    assert t.label("scene", "beach") in out
    assert t.label("region", "upper") in out and t.label("content", "sky") in out
    assert t.label("genre", "classical") in out
    # every placeholder was filled and no raw key leaked
    assert "{" not in out and "sentence." not in out
    assert explanation_text(make_reading(), lang=lang, regions=[SKY]) == out  # deterministic


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


def test_every_web_language_has_explanation_templates() -> None:
    web_langs = sorted(p.stem for p in WEB_I18N.glob("*.json"))
    assert set(web_langs) <= set(available_languages())


@pytest.mark.parametrize("path", sorted(I18N.glob("*.json")), ids=lambda p: p.stem)
def test_language_files_use_known_keys_and_the_same_placeholders(path: Path) -> None:
    english = json.loads((I18N / "en.json").read_text(encoding="utf-8"))
    messages = json.loads(path.read_text(encoding="utf-8"))
    assert set(messages) <= set(english), set(messages) - set(english)
    for key, message in messages.items():
        assert set(PLACEHOLDER.findall(message)) == set(PLACEHOLDER.findall(english[key])), key


def test_a_new_language_is_one_data_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(I18N / "en.json", tmp_path / "en.json")
    partial = {
        "_meta.name": "Testish",
        "emotion.awe": "ÆWE",
        "sentence.region": "{regions} ⇒ {target}.",
        "region.upper": "TOP BAND",
    }
    (tmp_path / "xx.json").write_text(json.dumps(partial), encoding="utf-8")
    monkeypatch.setattr(text_module, "_package_dir", lambda: tmp_path)
    text_module._templates_cached.cache_clear()
    try:
        assert available_languages() == ["en", "xx"]
        out = explanation_text(make_reading(), lang="xx-YY", regions=[SKY])
        assert "the TOP BAND (sky) ⇒ ÆWE." in out  # translated keys
        assert "It looks like a beach" in out  # missing keys fall back to English
        assert templates("fr").lang == "en"  # no file: English
    finally:
        text_module._templates_cached.cache_clear()
