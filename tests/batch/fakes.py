"""Small stand-ins for the batch unit tests: reading and photo lines as an output file holds
them, and a pipeline that records what the album asks of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tunelens.core.settings import Settings
from tunelens.core.types import AudioTarget, Reading, RecommendedTrack, TrackOut


def reading_dict(
    valence: float = 0.5, arousal: float = 0.0, *, genre: str = "pop", hue: str = "blue"
) -> dict[str, Any]:
    """A reading as a photo line stores it (JSON form)."""
    return Reading.model_validate(
        {
            "emotions": {"contentment": 0.7, "sadness": 0.3},
            "top_emotion": "contentment",
            "valence": valence,
            "arousal": arousal,
            "genres": {genre: 1.0},
            "scenes": [],
            "colour": {
                "brightness": 0.6,
                "saturation": 0.3,
                "colourfulness": 0.2,
                "warmth": 0.1,
                "contrast": 0.4,
                "edge_density": 0.05,
                "dominant_hue": hue,
            },
            "encoder": {
                "name": "colour",
                "pretrained": False,
                "fallback": False,
                "model_id": "colour-v1",
            },
        }
    ).model_dump(mode="json")


def target_dict(**features: float) -> dict[str, Any]:
    return {"features": dict(features), "weights": dict.fromkeys(features, 1.0)}


def ok_photo(name: str, reading: dict[str, Any], target: dict[str, Any] | None) -> dict[str, Any]:
    """An ``ok`` photo line; ``target=None`` writes it as outputs did before lines kept it."""
    line: dict[str, Any] = {
        "type": "photo",
        "photo": name,
        "status": "ok",
        "sha256": "0" * 64,
        "reading": reading,
        "tracks": [],
        "timings_ms": {},
    }
    if target is not None:
        line["target"] = target
    return line


def error_photo(name: str) -> dict[str, Any]:
    return {
        "type": "photo",
        "photo": name,
        "status": "error",
        "error": {"code": "not_an_image", "message": "no"},
    }


@dataclass
class AlbumPipeline:
    """Answers :meth:`album` with one song per call and remembers every call (it has no
    mapping: lines without a target need a real pipeline)."""

    settings: Settings = field(default_factory=lambda: Settings(_env_file=None))
    calls: list[tuple[Reading, AudioTarget, int]] = field(default_factory=list)

    def album(self, reading: Reading, target: AudioTarget, size: int) -> list[RecommendedTrack]:
        self.calls.append((reading, target, size))
        song = TrackOut(id="s1", title="Song", artist="Artist", genre="pop")
        return [RecommendedTrack(rank=1, score=0.9, parts={}, reasons=[], track=song)]
