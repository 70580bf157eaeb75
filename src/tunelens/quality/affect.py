"""``tunelens eval affect``: how well the reader's valence and arousal agree with people's.

Every rated photo is decoded by :func:`tunelens.vision.imaging.load_image` at the size the CLI
and the web decode a picture for a reading (``FAST_WORK_SIDE``) and read by
:meth:`tunelens.pipeline.Pipeline.read` of a pipeline built by
:func:`~tunelens.pipeline.build_pipeline` — the encoder, reader, trained heads and faces a
visitor's photo meets. The same pipeline with its face reader taken out (what
``TUNELENS_FACES=0`` builds) is measured beside it, so the face blend's worth is on the table.

Beside the reader, in the same run and on the same decoded pixels, sits the textbook baseline
the reader has to beat: Valdez & Mehrabian (1994), "Effects of color on emotions", J. Exp.
Psychol. Gen. 123(4), 394–409, regressions of pleasure and arousal on HSV brightness and
saturation: P = 0.69·V + 0.22·S, A = −0.31·V + 0.60·S, with V and S the means over the
picture resized to 224 × 224 (bicubic), both in [0, 1].

Agreement is Spearman's ρ against people's mean ratings, overall and per category, with a
seeded percentile bootstrap over photos (:mod:`tunelens.quality.stats`). Photos of one theme
are near-duplicates in mood, so resampling single photos makes the interval somewhat narrower
than resampling themes would; the interval says how much the figure moves with the photos
drawn, not how it would do on other themes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from tunelens.core.errors import InvalidImage, InvalidRequest
from tunelens.core.settings import EncoderChoice, Settings
from tunelens.core.types import Reading
from tunelens.pipeline import Pipeline, build_pipeline
from tunelens.quality.stats import (
    COVERAGE,
    IndexArray,
    bootstrap_difference,
    bootstrap_spearman,
    resample_indices,
)
from tunelens.reading.ratings import RatedPhoto, read_ratings
from tunelens.vision.imaging import FAST_WORK_SIDE, LoadedImage, load_image

#: receives one line of progress at a time (the CLI prints them to stderr)
Progress = Callable[[str], None]

#: photos decoded and read at a time: bounds memory on large rating sets
CHUNK = 32
#: the side the baseline measures HSV on, as the 1994 formula is applied to a model-size picture
BASELINE_SIDE = 224

READER = "tunelens"
READER_NO_FACES = "tunelens-no-faces"
BASELINE = "valdez-mehrabian-1994"
LABELS = {
    READER: "tunelens",
    READER_NO_FACES: "tunelens, faces off",
    BASELINE: "Valdez & Mehrabian 1994",
}


@dataclass(frozen=True)
class AffectJob:
    """What ``tunelens eval affect`` measures and how."""

    images: Path
    ratings: Path
    encoder: EncoderChoice | None = None
    #: the catalogue the pipeline is built with (None: the settings' default); the reading
    #: does not depend on it, but the product's pipeline cannot be built without one
    catalog_dir: Path | None = None
    bootstrap: int = 1000
    seed: int = 0
    progress: Progress | None = None


@dataclass
class Measured:
    """Per photo read: people's ratings and each reader's valence/arousal, in one order."""

    photos: list[RatedPhoto] = field(default_factory=list)
    scores: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    with_faces: int = 0

    def column(self, reader: str, dimension: int) -> NDArray[np.float64]:
        return np.array([pair[dimension] for pair in self.scores[reader]], dtype=np.float64)


def valdez_mehrabian(pixels: NDArray[np.uint8]) -> tuple[float, float]:
    """Pleasure and arousal of a picture by Valdez & Mehrabian's 1994 regressions on the mean
    HSV value and saturation of the picture resized to 224 × 224 (see the module docstring)."""
    small = Image.fromarray(pixels).resize((BASELINE_SIDE, BASELINE_SIDE), Image.Resampling.BICUBIC)
    hsv = np.asarray(small.convert("HSV"), dtype=np.float64) / 255.0
    value = float(hsv[..., 2].mean())
    saturation = float(hsv[..., 1].mean())
    return 0.69 * value + 0.22 * saturation, -0.31 * value + 0.60 * saturation


def _decode(
    pipeline: Pipeline, images_dir: Path, chunk: Sequence[RatedPhoto], measured: Measured
) -> tuple[list[RatedPhoto], list[LoadedImage]]:
    """Decode a chunk the way the product does; unreadable photos are recorded, not fatal."""
    kept: list[RatedPhoto] = []
    images: list[LoadedImage] = []
    for photo in chunk:
        path = images_dir / photo.file
        try:
            images.append(load_image(path, settings=pipeline.settings, work_side=FAST_WORK_SIDE))
        except InvalidImage as error:
            measured.skipped.append({"file": photo.file, "reason": error.message})
            continue
        kept.append(photo)
    return kept, images


def _pairs(readings: Sequence[Reading]) -> list[tuple[float, float]]:
    return [(r.valence, r.arousal) for r in readings]


def measure(pipeline: Pipeline, photos: Sequence[RatedPhoto], job: AffectJob) -> Measured:
    """Read every photo with the pipeline (faces on and off) and with the baseline formula."""
    without_faces = dataclasses.replace(pipeline, faces=None) if pipeline.faces else None
    readers = [READER] + ([READER_NO_FACES] if without_faces else []) + [BASELINE]
    measured = Measured(scores={name: [] for name in readers})
    for start in range(0, len(photos), CHUNK):
        kept, images = _decode(pipeline, job.images, photos[start : start + CHUNK], measured)
        if not images:
            continue
        readings = pipeline.read(images)
        measured.photos.extend(kept)
        measured.scores[READER].extend(_pairs(readings))
        measured.with_faces += sum(1 for r in readings if r.faces)
        if without_faces is not None:
            measured.scores[READER_NO_FACES].extend(_pairs(without_faces.read(images)))
        measured.scores[BASELINE].extend(valdez_mehrabian(i.pixels) for i in images)
        if job.progress is not None:
            job.progress(f"read {min(start + CHUNK, len(photos))}/{len(photos)} photos")
    if not measured.photos:
        raise InvalidRequest(
            f"none of the {len(photos)} rated photos in {job.images} could be read"
        )
    return measured


def _agreement(
    measured: Measured, reader: str, rows: NDArray[np.intp], indices: IndexArray
) -> dict[str, Any]:
    """ρ for valence and arousal of one reader on the photos in ``rows``."""
    people = [
        np.array([measured.photos[i].valence for i in rows]),
        np.array([measured.photos[i].arousal for i in rows]),
    ]
    block: dict[str, Any] = {"n": len(rows)}
    for dim, name in enumerate(("valence", "arousal")):
        ours = measured.column(reader, dim)[rows]
        block[name] = bootstrap_spearman(ours, people[dim], indices).to_dict()
    return block


def _versus_baseline(measured: Measured, reader: str, indices: IndexArray) -> dict[str, Any]:
    """ρ(reader) − ρ(baseline) over all photos, paired on the same resamples."""
    block: dict[str, Any] = {}
    people = (
        np.array([p.valence for p in measured.photos]),
        np.array([p.arousal for p in measured.photos]),
    )
    for dim, name in enumerate(("valence", "arousal")):
        block[name] = bootstrap_difference(
            measured.column(reader, dim), measured.column(BASELINE, dim), people[dim], indices
        ).to_dict()
    return block


def agreement_report(measured: Measured, rounds: int, seed: int) -> list[dict[str, Any]]:
    """Each reader's agreement with people: overall, per category, and (for tunelens's
    readers) the difference from the baseline with its interval."""
    everyone = np.arange(len(measured.photos), dtype=np.intp)
    overall_draws = resample_indices(len(everyone), rounds, seed)
    categories = sorted({p.category for p in measured.photos})
    members = {
        c: np.array([i for i, p in enumerate(measured.photos) if p.category == c], dtype=np.intp)
        for c in categories
    }
    draws = {c: resample_indices(len(rows), rounds, seed) for c, rows in members.items()}
    report = []
    for reader in measured.scores:
        entry: dict[str, Any] = {
            "name": reader,
            "label": LABELS[reader],
            "overall": _agreement(measured, reader, everyone, overall_draws),
            "categories": {
                c: _agreement(measured, reader, rows, draws[c]) for c, rows in members.items()
            },
        }
        if reader != BASELINE:
            entry["minus_baseline"] = _versus_baseline(measured, reader, overall_draws)
        report.append(entry)
    return report


def evaluate_affect(settings: Settings, job: AffectJob) -> dict[str, Any]:
    """The ``tunelens eval affect`` report (a JSON-ready dict)."""
    if job.bootstrap < 0:
        raise InvalidRequest(f"--bootstrap must be 0 or more, got {job.bootstrap}")
    photos = read_ratings(job.ratings)
    pipeline = build_pipeline(settings, encoder=job.encoder, catalog_dir=job.catalog_dir)
    measured = measure(pipeline, photos, job)
    return {
        "kind": "affect-evaluation",
        "images_dir": str(job.images),
        "ratings": str(job.ratings),
        "photos": len(measured.photos),
        "themes": len({p.theme for p in measured.photos if p.theme}),
        "skipped": measured.skipped,
        "encoder": pipeline.info.model_dump(),
        "reading_heads": pipeline.reading_heads(),
        "faces": {"on": pipeline.faces is not None, "photos_with_faces": measured.with_faces},
        "bootstrap": {"rounds": job.bootstrap, "seed": job.seed, "coverage": COVERAGE},
        "readers": agreement_report(measured, job.bootstrap, job.seed),
        "notices": list(pipeline.notices),
    }
