"""The reading's lines in a terminal: a flat reading is not shown as a mood, and the vibe line
names the genres the songs came from."""

from __future__ import annotations

from tests.batch.fakes import reading_dict
from tunelens import i18n
from tunelens.cli.render import reading_lines
from tunelens.core.types import Reading


def _reading(emotions: dict[str, float], valence: float, arousal: float) -> Reading:
    data = reading_dict(valence, arousal, genre="jazz")
    data["emotions"] = emotions
    data["top_emotion"] = max(emotions, key=emotions.__getitem__)
    return Reading.model_validate(data)


def test_a_clear_reading_names_its_mood_and_a_flat_one_says_it_is_hard_to_tell() -> None:
    tr = i18n.translator("en")
    clear = reading_lines(_reading({"contentment": 0.8, "sadness": 0.2}, 0.5, -0.3), tr)[0]
    assert clear.startswith("mood: [bold]contentment[/] (80%)")
    flat = reading_lines(_reading({"sadness": 0.41, "awe": 0.35, "fear": 0.24}, 0.0, -0.05), tr)
    assert flat[0].startswith("mood: hard to tell (strongest sadness 41%)")
    fr = reading_lines(
        _reading({"sadness": 0.41, "awe": 0.35, "fear": 0.24}, 0.0, -0.05), i18n.translator("fr")
    )
    assert fr[0].startswith("humeur : difficile à dire")


def test_the_vibe_line_shows_the_catalogue_genres_when_the_answer_has_them() -> None:
    tr = i18n.translator("en")
    reading = _reading({"contentment": 0.8, "sadness": 0.2}, 0.5, -0.3)
    assert "jazz" in reading_lines(reading, tr)[1].lower()
    folded = reading_lines(reading, tr, {"r&b": 0.7, "pop": 0.3})[1]
    assert "jazz" not in folded.lower() and "R&B 70%" in folded
