"""People's ratings of photos, read for fitting the colour reader: the ratings CSV (read by
:mod:`tunelens.reading.ratings`, the reader ``tunelens eval affect`` uses too), its
fingerprint, and each photo's perceptual features (and faces) measured as the engine does.

The calibration data (OASIS photos and mean ratings) is research data: it is read from where
the operator keeps it and never copied into the package; only the fitted numbers are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.stats import spearmanr

from tunelens.core.errors import InvalidRequest, TunelensError
from tunelens.reading.faces import Face, FaceReader
from tunelens.reading.ratings import ERROR_CODE, RatedPhoto
from tunelens.training.run import TrainingRun
from tunelens.vision.colour import ColourStats, colour_stats, valence_arousal
from tunelens.vision.exposure import EXPOSURE_FACTORS, shifted_exposure
from tunelens.vision.imaging import FAST_WORK_SIDE, LoadedImage, load_image, thumbnail
from tunelens.vision.perceptual import perceptual_features


def fingerprint(path: Path) -> str:
    """sha256 of the ratings file: which data a fitted model came from."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def spearman(
    x: Sequence[float] | NDArray[np.float64], y: Sequence[float] | NDArray[np.float64]
) -> float:
    """Spearman ρ, 0.0 when either side is constant (a fold where nothing varies)."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


@dataclass(frozen=True)
class Measured:
    """Each photo's colour statistics (with its perceptual features), and its faces when a
    face reader was given."""

    stats: list[ColourStats]
    faces: list[list[Face]] | None
    sizes: list[tuple[int, int]]
    #: per exposure change of :data:`EXPOSURE_FACTORS`, every photo's perceptual features
    #: after that change (what the fit keeps the prediction steady under)
    exposed: tuple[list[dict[str, float]], ...] = ()

    @property
    def features(self) -> list[dict[str, float]]:
        return [s.perceptual for s in self.stats]

    @property
    def hand_set(self) -> list[tuple[float, float]]:
        """What the hand-set formula (the colour reader before the fit, still CLIP's colour
        share) reads."""
        return [valence_arousal(s) for s in self.stats]


def measure(
    images: Path, photos: Sequence[RatedPhoto], run: TrainingRun, face_reader: FaceReader | None
) -> Measured:
    """Decode every photo as a request does (short side 256) and measure it, also after each
    exposure change."""
    stats: list[ColourStats] = []
    faces: list[list[Face]] = []
    sizes: list[tuple[int, int]] = []
    exposed: tuple[list[dict[str, float]], ...] = tuple([] for _ in EXPOSURE_FACTORS)
    for i, photo in enumerate(photos):
        path = images / photo.file
        try:
            image: LoadedImage = load_image(path, settings=run.settings, work_side=FAST_WORK_SIDE)
        except TunelensError as error:
            raise InvalidRequest(
                f"cannot read the rated photo {path}: {error.message}", code=ERROR_CODE
            ) from None
        stats.append(colour_stats(thumbnail(image)))
        for features, factor in zip(exposed, EXPOSURE_FACTORS, strict=True):
            features.append(perceptual_features(thumbnail(shifted_exposure(image, factor))))
        height, width = image.pixels.shape[:2]
        sizes.append((width, height))
        if face_reader is not None:
            faces.append(face_reader.detect(image.pixels))
        if (i + 1) % 100 == 0:
            run.say(f"measured {i + 1}/{len(photos)} photos")
    return Measured(stats, faces if face_reader is not None else None, sizes, exposed)
