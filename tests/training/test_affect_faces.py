"""The face-blend measurement of the reader fit, on pictures and faces made for it (fer is not
needed: the faces are given as fer would report them)."""

from __future__ import annotations

import numpy as np

from tunelens.reading.colour_model import load_colour_model
from tunelens.reading.faces import EXPRESSIONS, Face
from tunelens.reading.ratings import RatedPhoto
from tunelens.training.affect_data import Measured
from tunelens.training.affect_faces import face_blend_figures
from tunelens.vision.colour import colour_stats


def expressions(**given: float) -> dict[str, float]:
    return dict.fromkeys(EXPRESSIONS, 0.0) | given


def test_faces_that_agree_with_people_raise_valence_rho() -> None:
    rng = np.random.default_rng(1)
    stats, faces, photos = [], [], []
    for i in range(12):
        pixels = rng.integers(60, 200, size=(40, 40, 3), dtype=np.uint8)
        stats.append(colour_stats(pixels))
        happy = i % 2 == 0
        face = Face(
            5,
            5,
            30,
            30,
            expressions(happy=0.95, neutral=0.05) if happy else expressions(sad=0.95, neutral=0.05),
        )
        faces.append([face] if i < 10 else [Face(5, 5, 30, 30, expressions(neutral=0.6, sad=0.4))])
        photos.append(
            RatedPhoto(
                file=f"p{i}.png",
                category="Person",
                valence=0.5 if happy else -0.5,
                arousal=-0.4 + 0.05 * i,
                theme=f"t{i % 4}",
            )
        )
    measured = Measured(stats, faces, [(40, 40)] * 12)
    figures = face_blend_figures(photos, measured, [load_colour_model()] * 12)
    assert figures["photos_with_faces"] == 12
    on, off = figures["all_photos"]["faces_on"], figures["all_photos"]["faces_off"]
    assert on["valence"] > off["valence"] and on["valence"] > 0.8
    # faces leave arousal alone, so its agreement does not change
    assert on["arousal"] == off["arousal"] != 0.0
    # the two neutral faces (fer: 40 % sad) do not move sadness
    assert figures["neutral_faces"] == {"photos": 2, "sadness_change": 0.0}
