"""Shared builders of the explain tests."""

from __future__ import annotations

from tunelens.core.types import ColourSummary, EncoderInfo, Reading


def make_reading(valence: float = -0.5, arousal: float = -0.6, **overrides: object) -> Reading:
    values: dict[str, object] = {
        "emotions": {"sadness": 0.5, "contentment": 0.3, "awe": 0.2},
        "top_emotion": "sadness",
        "valence": valence,
        "arousal": arousal,
        "genres": {"pop": 0.6, "rock": 0.4},
        "scenes": [],
        "colour": ColourSummary(
            brightness=0.3,
            saturation=0.1,
            colourfulness=0.2,
            warmth=0.0,
            contrast=0.3,
            edge_density=0.1,
            dominant_hue="blue",
        ),
        "encoder": EncoderInfo(name="colour", pretrained=False, fallback=False, model_id="c"),
    }
    values.update(overrides)
    return Reading.model_validate(values)
