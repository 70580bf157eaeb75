"""How sure a reading is: the words follow the reader's own doubt, and never name an emotion
the reading's place contradicts."""

from __future__ import annotations

from tests.explain.helpers import make_reading
from tunelens.explain.certainty import certainty, contradicts, second_emotion


def test_one_clearly_leading_emotion_is_clear() -> None:
    reading = make_reading(emotions={"sadness": 0.7, "contentment": 0.2, "awe": 0.1})
    assert certainty(reading) == "clear"


def test_a_small_lead_is_leaning_and_a_flat_spread_is_unclear() -> None:
    assert certainty(make_reading(emotions={"sadness": 0.5, "contentment": 0.3})) == "leaning"
    # the fitted colour reader on a kite in a deep-blue sky: sadness leads a flat spread
    flat = {"sadness": 0.41, "contentment": 0.31, "awe": 0.16, "disgust": 0.12}
    assert certainty(make_reading(emotions=flat)) == "unclear"
    # close behind the leader: not even leaning
    assert certainty(make_reading(emotions={"sadness": 0.5, "contentment": 0.4})) == "unclear"


def test_a_neutral_reading_is_unclear_however_peaked() -> None:
    reading = make_reading(valence=0.02, arousal=-0.05, emotions={"sadness": 0.9, "awe": 0.1})
    assert certainty(reading) == "unclear"


def test_fear_contradicts_a_pleasant_calm_reading() -> None:
    calm_bright = make_reading(valence=0.4, arousal=-0.3, emotions={"fear": 0.7, "awe": 0.3})
    assert contradicts("fear", calm_bright) and contradicts("anger", calm_bright)
    assert not contradicts("contentment", calm_bright)
    assert certainty(calm_bright) == "unclear"  # never "reads as fear"


def test_the_runner_up_is_named_only_on_the_same_side() -> None:
    sad_and_fearful = make_reading(
        valence=-0.5, arousal=0.1, emotions={"sadness": 0.6, "fear": 0.3, "awe": 0.1}
    )
    assert second_emotion(sad_and_fearful) == "fear"
    # "contentment (54 %), with some sadness" is a coin toss, not a reading
    mixed = make_reading(valence=0.3, arousal=-0.2, emotions={"contentment": 0.6, "sadness": 0.3})
    assert second_emotion(mixed) is None
    small = make_reading(emotions={"sadness": 0.85, "contentment": 0.15})
    assert second_emotion(small) is None
