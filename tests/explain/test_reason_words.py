"""The words of the reasons: true of the song's value, never against the picture's side, and
numbers shown in the listener's language."""

from __future__ import annotations

import pytest

from tests.explain.helpers import make_reading
from tunelens import i18n
from tunelens.catalogue.models import Track
from tunelens.core.audio import MOOD_FEATURES
from tunelens.explain.reason_words import (
    WORDS,
    evidence,
    number,
    part_text,
    picture_words,
    qualities,
    quality,
)
from tunelens.i18n import LRI, PDI

EN = i18n.translator("en")


def test_every_mood_feature_has_words() -> None:
    assert set(WORDS) == set(MOOD_FEATURES)


def test_absolute_words_only_when_the_value_earns_them() -> None:
    assert quality("energy", 0.2, False, EN) == quality("energy", 0.4, False, EN)
    word = quality("energy", 0.2, False, EN)
    assert word is not None and word.word == "mellow" and not word.compared
    compared = quality("energy", 0.55, False, EN)
    assert compared is not None and compared.word == "calmer" and compared.compared
    # a feature with nothing true to say on one side says nothing
    assert quality("liveness", 0.05, False, EN) is None
    minor, major = quality("mode", 0.0, False, EN), quality("mode", 1.0, True, EN)
    assert minor is not None and minor.word == "in a minor key"
    assert major is not None and major.word == "in a major key"


def test_comparisons_share_one_than_most_songs() -> None:
    words = [quality("tempo", 80.0, False, EN), quality("energy", 0.55, False, EN)]
    words += [quality("valence", 0.55, True, EN)]
    assert qualities([w for w in words if w], EN) == "slow and calmer and sunnier than most songs"


def test_numbers_in_their_units_and_languages() -> None:
    assert evidence("energy", 0.183, EN) == "energy 0.18"
    assert evidence("tempo", 71.6, EN) == "72 BPM"
    assert evidence("loudness", -14.04, EN) == "−14.0 dB"
    assert evidence("mode", 0.0, EN) is None
    es = i18n.translator("es")
    assert evidence("energy", 0.183, es) == "energía 0,18"
    ar = i18n.translator("ar")
    assert number("loudness", -14.04, ar) == f"{LRI}−14.0{PDI} ديسيبل"


@pytest.mark.parametrize(
    ("feature", "high", "valence", "arousal", "expected"),
    [
        ("energy", False, -0.5, -0.6, "calm"),
        ("energy", True, -0.5, -0.6, None),  # a lively song is never "like the calm picture"
        ("valence", False, -0.5, -0.6, "dark and sombre"),
        ("valence", True, -0.5, -0.6, None),
        ("acousticness", True, -0.5, -0.6, None),  # said through the mood, not these words
    ],
)
def test_picture_words_never_contradict_the_song(
    feature: str, high: bool, valence: float, arousal: float, expected: str | None
) -> None:
    reading = make_reading(valence=valence, arousal=arousal)
    assert picture_words(feature, high, reading, EN) == expected


def test_a_middling_picture_echoes_neither_side() -> None:
    reading = make_reading(valence=0.1, arousal=0.0)
    assert picture_words("valence", True, reading, EN) is None
    assert picture_words("energy", False, reading, EN) is None
    lively = make_reading(valence=0.5, arousal=0.6)
    assert picture_words("tempo", True, lively, EN) == "lively"
    assert picture_words("valence", True, lively, EN) == "bright and pleasant"


def test_part_texts_name_the_part_and_the_picture_share() -> None:
    pop = Track(id="1", title="t", artist="a", genre="pop", subgenre="dance pop", popularity=81)
    rock = Track(
        id="2", title="t", artist="a", genre="rock", features={"valence": 0.2, "energy": 0.3}
    )
    reading = make_reading()  # vibe: pop 60 %, rock 40 %; top emotion sadness (50 %)
    assert part_text("genre", pop, reading, EN) == "pop (dance pop), the picture's main vibe"
    assert part_text("genre", rock, reading, EN) == "rock, 40% of the picture's vibe"
    # sadness leads, but only a little (50 % against 30 %): the words say so
    assert part_text("emotion", rock, reading, EN) == (
        "sounds like sadness, which the picture leans towards (50%)"
    )
    sure = reading.model_copy(update={"emotions": {"sadness": 0.7, "contentment": 0.3}})
    assert part_text("emotion", rock, sure, EN) == "sounds like sadness, the picture's main emotion"
    assert part_text("popularity", pop, reading, EN) == (
        "one of the best-known songs here (popularity 81)"
    )
    assert part_text("novelty", pop, reading, EN) is None  # spreads songs; not a fit
    ar = i18n.translator("ar")
    text = part_text("genre", pop, reading, ar)
    assert text is not None and f"{LRI}dance pop{PDI}" in text and "%(" not in text
