"""Does blending faces into the colour reading bring it closer to people? Measured on the rated
photos where faces are found, with each photo read by a colour model fitted without its theme,
then blended with :func:`tunelens.reading.faces.blend` exactly as a request is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tunelens.core.types import EncoderInfo, Reading
from tunelens.reading.colour_model import ColourModel
from tunelens.reading.faces import blend
from tunelens.reading.ratings import RatedPhoto
from tunelens.reading.reader import Reader
from tunelens.training.affect_data import Measured, spearman
from tunelens.vision.colour import ColourEncoder

COLOUR_INFO = EncoderInfo(name="colour", pretrained=False, fallback=False, model_id="colour-v1")


def _readings(measured: Measured, models: Sequence[ColourModel]) -> list[Reading]:
    reader = Reader(ColourEncoder(), None, COLOUR_INFO)
    out = []
    for stats, model in zip(measured.stats, models, strict=True):
        reader.colour_model = model
        out.append(reader.read([], np.zeros((1, ColourEncoder.dim), np.float32), stats=[stats])[0])
    return out


def face_blend_figures(
    photos: Sequence[RatedPhoto], measured: Measured, models: Sequence[ColourModel]
) -> dict[str, Any]:
    """Spearman ρ with faces off and on, over all photos and over those with faces, and what
    neutral-looking faces do to the reading."""
    assert measured.faces is not None
    plain = _readings(measured, models)
    blended = [
        blend(r, faces, width=w, height=h) if faces else r
        for r, faces, (w, h) in zip(plain, measured.faces, measured.sizes, strict=True)
    ]
    with_faces = [i for i, faces in enumerate(measured.faces) if faces]
    people = {
        "valence": [p.valence for p in photos],
        "arousal": [p.arousal for p in photos],
    }

    def rho(readings: Sequence[Reading], axis: str, idx: Sequence[int]) -> float:
        return round(
            spearman([getattr(readings[i], axis) for i in idx], [people[axis][i] for i in idx]),
            4,
        )

    every = list(range(len(photos)))
    neutral = [i for i in with_faces if measured.faces[i][0].top_expression == "neutral"]
    return {
        "photos_with_faces": len(with_faces),
        "all_photos": {
            state: {axis: rho(readings, axis, every) for axis in ("valence", "arousal")}
            for state, readings in (("faces_off", plain), ("faces_on", blended))
        },
        "photos_with_faces_only": {
            state: {axis: rho(readings, axis, with_faces) for axis in ("valence", "arousal")}
            for state, readings in (("faces_off", plain), ("faces_on", blended))
        },
        "neutral_faces": {
            "photos": len(neutral),
            "sadness_change": round(
                float(
                    np.mean(
                        [
                            blended[i].emotions["sadness"] - plain[i].emotions["sadness"]
                            for i in neutral
                        ]
                    )
                )
                if neutral
                else 0.0,
                4,
            ),
        },
    }
