"""``tunelens recommend --lang``: the reading, the table, the reasons and the explanation in
the chosen language; English (with a notice) for one tunelens does not speak."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import PHOTOS_DIR, require_shared
from tests.integration.test_cli import GLOOMY, run

SPANISH_EMOTIONS = {
    "diversión",
    "asombro",
    "satisfacción",
    "entusiasmo",
    "ira",
    "asco",
    "miedo",
    "tristeza",
}


def recommend(
    catalog: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str]:
    photo = require_shared(PHOTOS_DIR / GLOOMY)
    argv = ["recommend", str(photo), "--encoder", "colour", "--catalog", str(catalog), *extra]
    return run(argv, capsys)


def test_lang_es_prints_spanish_reading_table_and_reasons(
    spotify_catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = recommend(spotify_catalog, capsys, "--top", "5", "--lang", "es")
    assert code == 0, err
    assert "estado de ánimo:" in out and "valencia" in out and "ambiente:" in out
    assert "canción" in out and "artista" in out and "por qué" in out  # table headings
    assert "Aquí tunelens solo lee el color y la luz" in out
    assert "mood:" not in out and "reads only colour and light" not in out
    assert any(name in out for name in SPANISH_EMOTIONS)


def test_lang_es_json_has_spanish_labels_and_reasons(
    spotify_catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = recommend(spotify_catalog, capsys, "--json", "--lang", "es")
    assert code == 0, err
    result = json.loads(out)
    assert result["labels"]["lang"] == "es"
    assert set(result["labels"]["emotions"].values()) == SPANISH_EMOTIONS
    assert set(result["reading"]["emotions"]) >= {"sadness", "awe"}  # ids stay English
    assert result["explanation"]["lang"] == "es"
    reasons = [r for item in result["tracks"] for r in item["reasons"]]
    spanish = ("imagen", "canciones", "ambiente", "transmite", "energía", "valencia")
    assert any(word in r for r in reasons for word in spanish), reasons
    english = ("the picture", "than most songs", "sounds like", "energy ")
    assert not any(word in r for r in reasons for word in english), reasons


def test_unknown_lang_is_english_with_a_notice_and_a_bad_tag_is_a_usage_error(
    spotify_catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = recommend(spotify_catalog, capsys, "--top", "2", "--lang", "xx")
    assert code == 0, err
    assert "Texts in 'xx' are not available yet; answering in English." in err
    assert "mood:" in out
    code, _, err = recommend(spotify_catalog, capsys, "--lang", "not a tag!")
    assert code == 2 and "lang must be a language tag" in err
