"""``tunelens eval moods``: do the songs suit the photos, and does the ranking spread them?

On the shared photos, every photo is answered by :meth:`tunelens.pipeline.Pipeline.recommend`
(decoded as the CLI decodes, read, mapped and ranked as a visitor's photo is):

* **mood agreement** — on a catalogue whose tracks carry a mood label (built from
  ``spotify_moods``: Sad, Calm, Energetic, Happy), the labels of each photo's top songs, per
  group of photos (:mod:`tunelens.quality.photos` groups them by their descriptions): the share
  of Happy + Energetic for bright and happy photos, Calm + Sad for dark and sombre ones, Calm
  for serene ones, and Calm among all slots. The catalogue's own label shares are printed
  beside them: that is what songs drawn at random would score;
* **diversity** — on the default catalogue: distinct songs in all the top-k slots and the most
  times one song fills a slot;
* **exposure stability** — each photo brightened and darkened by 10 % (PIL's
  ``ImageEnhance.Brightness`` at 1.1 and 0.9, applied to the decoded pixels so that nothing
  else differs) and answered again: how many of its top songs stay;
* **readings** — each photo's top emotion, valence and arousal, and which calm, bright or warm
  photos read as fear or anger.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tunelens.catalogue.models import Track
from tunelens.core.errors import InvalidRequest
from tunelens.core.settings import EncoderChoice, Settings
from tunelens.core.types import Recommendation
from tunelens.pipeline import Pipeline, RecommendOptions, build_pipeline
from tunelens.quality.photos import BRIGHT, GROUPS, SERENE, SOMBRE, SharedPhoto, read_shared_photos
from tunelens.quality.stats import top_overlap
from tunelens.vision.exposure import EXPOSURE_FACTORS, shifted_exposure
from tunelens.vision.imaging import FAST_WORK_SIDE, LoadedImage, load_image

#: receives one line of progress at a time (the CLI prints them to stderr)
Progress = Callable[[str], None]

#: the mood labels that suit each group of photos
SUITED_MOODS: dict[str, tuple[str, ...]] = {
    BRIGHT: ("Happy", "Energetic"),
    SOMBRE: ("Calm", "Sad"),
    SERENE: ("Calm",),
}
#: the labels of the spotify_moods catalogue, in report order
MOODS: tuple[str, ...] = ("Happy", "Energetic", "Calm", "Sad")
#: the exposure changes tried on every photo (PIL brightness factors, the reader fit's own)
EXPOSURES: dict[str, float] = {"darker": EXPOSURE_FACTORS[0], "brighter": EXPOSURE_FACTORS[1]}
#: readings that must not be given to a calm, bright or warm photo
ALARMED = frozenset({"fear", "anger"})
#: photos answered per pipeline call
CHUNK = 16


@dataclass(frozen=True)
class MoodsJob:
    """What ``tunelens eval moods`` measures and how."""

    photos: Path
    #: a catalogue whose tracks carry mood labels (``tunelens catalog build data_moods.csv``)
    catalog_dir: Path
    #: the catalogue for diversity and exposure (None: the settings' default, when built)
    songs_catalog: Path | None = None
    #: measure diversity and exposure at all
    songs: bool = True
    encoder: EncoderChoice | None = None
    top: int = 10
    progress: Progress | None = None

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)


def decode_photos(
    photos: Sequence[SharedPhoto], photos_dir: Path, settings: Settings
) -> list[LoadedImage]:
    """Every listed photo decoded as the CLI decodes one for a reading; a missing or broken
    photo stops the run (the figures are over the whole listed set, or not at all)."""
    return [
        load_image(photos_dir / photo.file, settings=settings, work_side=FAST_WORK_SIDE)
        for photo in photos
    ]


def answer(pipeline: Pipeline, images: Sequence[LoadedImage], top: int) -> list[Recommendation]:
    """The product's answers (reading and top songs) for every picture, a chunk at a time."""
    options = RecommendOptions(k=top)
    answers: list[Recommendation] = []
    for start in range(0, len(images), CHUNK):
        answers.extend(pipeline.recommend(images[start : start + CHUNK], options))
    return answers


def top_ids(answers: Sequence[Recommendation]) -> list[list[str]]:
    return [[item.track.id for item in rec.tracks] for rec in answers]


def mood_labels(pipeline: Pipeline, ids: Sequence[Sequence[str]]) -> list[list[str | None]]:
    """The mood label of every recommended song (None when the track has none)."""
    labels: list[list[str | None]] = []
    for row in ids:
        tracks = [pipeline.track(track_id) for track_id in row]
        labels.append([t.mood if t is not None else None for t in tracks])
    return labels


def share(labels: Sequence[Sequence[str | None]], wanted: Sequence[str]) -> float | None:
    """Share of slots whose label is in ``wanted`` (None when there are no slots)."""
    slots = [label for row in labels for label in row]
    if not slots:
        return None
    return round(sum(1 for label in slots if label in wanted) / len(slots), 4)


def mood_agreement(
    photos: Sequence[SharedPhoto], labels: Sequence[Sequence[str | None]]
) -> dict[str, Any]:
    """Per group: its photos, the share of suited labels, and every label's share."""
    groups: dict[str, Any] = {}
    for group in GROUPS:
        rows = [labels[i] for i, photo in enumerate(photos) if photo.group == group]
        groups[group] = {
            "photos": [photo.file for photo in photos if photo.group == group],
            "suited_moods": list(SUITED_MOODS[group]),
            "suited_share": share(rows, SUITED_MOODS[group]),
            "mood_shares": {mood: share(rows, (mood,)) for mood in MOODS},
        }
    return {
        "groups": groups,
        "calm_share_all": share(labels, ("Calm",)),
        "mood_shares_all": {mood: share(labels, (mood,)) for mood in MOODS},
        "ungrouped": [photo.file for photo in photos if photo.group is None],
    }


def catalogue_moods(pipeline: Pipeline) -> dict[str, float]:
    """The catalogue's own label shares: what songs drawn at random would score."""
    counts = Counter(track.mood for track in pipeline.index.catalogue.tracks if track.mood)
    total = sum(counts.values())
    if total == 0:
        raise InvalidRequest(
            "the --catalog catalogue has no mood labels; build it from spotify_moods "
            "(tunelens catalog build data_moods.csv -o DIR)",
            code="no_mood_labels",
        )
    return {mood: round(counts[mood] / total, 4) for mood in MOODS}


def diversity(
    ids: Sequence[Sequence[str]], track_of: Callable[[str], Track | None]
) -> dict[str, Any]:
    """Distinct songs over all slots, and the songs that fill the most slots (``track_of``
    names them: the pipeline's :meth:`~tunelens.pipeline.Pipeline.track`)."""
    counts = Counter(track_id for row in ids for track_id in row)
    most = []
    for track_id, count in counts.most_common(5):
        track = track_of(track_id)
        most.append(
            {
                "id": track_id,
                "title": track.title if track else None,
                "artist": track.artist if track else None,
                "times": count,
            }
        )
    return {
        "slots": sum(counts.values()),
        "distinct": len(counts),
        "max_times": max(counts.values(), default=0),
        "most_repeated": most,
    }


def exposure_stability(
    pipeline: Pipeline, images: Sequence[LoadedImage], base: Sequence[Sequence[str]], top: int
) -> dict[str, Any]:
    """Mean number of each photo's top songs kept when its exposure moves by ±10 %."""
    kept: dict[str, list[int]] = {}
    for name, factor in EXPOSURES.items():
        changed = [shifted_exposure(image, factor) for image in images]
        moved = top_ids(answer(pipeline, changed, top))
        kept[name] = [top_overlap(a, b) for a, b in zip(base, moved, strict=True)]
    everything = [n for counts in kept.values() for n in counts]
    return {
        "top": top,
        "factors": dict(EXPOSURES),
        "mean_kept": round(float(np.mean(everything)), 3),
        "mean_kept_by_change": {name: round(float(np.mean(v)), 3) for name, v in kept.items()},
        "min_kept": int(min(everything)),
    }


def readings_table(
    photos: Sequence[SharedPhoto],
    answers: Sequence[Recommendation],
    labels: Sequence[Sequence[str | None]],
) -> list[dict[str, Any]]:
    """Per photo: its group, the reading, and the mood labels of its songs."""
    rows = []
    for photo, rec, row in zip(photos, answers, labels, strict=True):
        reading = rec.reading
        alarmed = photo.calm_bright_or_warm and reading.top_emotion in ALARMED
        rows.append(
            {
                "file": photo.file,
                "group": photo.group,
                "calm_bright_or_warm": photo.calm_bright_or_warm,
                "top_emotion": reading.top_emotion,
                "top_emotion_p": round(reading.emotions.get(reading.top_emotion, 0.0), 3),
                "valence": round(reading.valence, 3),
                "arousal": round(reading.arousal, 3),
                "faces": len(reading.faces or []),
                "moods": dict(Counter(label or "none" for label in row)),
                "alarmed": alarmed,
            }
        )
    return rows


def songs_part(settings: Settings, job: MoodsJob, images: Sequence[LoadedImage]) -> dict[str, Any]:
    """Diversity and exposure stability on the songs catalogue."""
    catalog = job.songs_catalog or settings.default_catalog_dir
    pipeline = build_pipeline(settings, encoder=job.encoder, catalog_dir=catalog)
    job.say(f"answering {len(images)} photos on {catalog} ({pipeline.catalogue_size} songs)")
    base = top_ids(answer(pipeline, images, job.top))
    job.say("answering them again brightened and darkened by 10 %")
    return {
        "catalog": str(catalog),
        "catalogue_size": pipeline.catalogue_size,
        "diversity": diversity(base, pipeline.track),
        "exposure": exposure_stability(pipeline, images, base, job.top),
    }


def evaluate_moods(settings: Settings, job: MoodsJob) -> dict[str, Any]:
    """The ``tunelens eval moods`` report (a JSON-ready dict)."""
    photos = read_shared_photos(job.photos)
    images = decode_photos(photos, job.photos, settings)
    pipeline = build_pipeline(settings, encoder=job.encoder, catalog_dir=job.catalog_dir)
    chance = catalogue_moods(pipeline)
    job.say(
        f"answering {len(images)} photos on {job.catalog_dir} ({pipeline.catalogue_size} songs)"
    )
    answers = answer(pipeline, images, job.top)
    labels = mood_labels(pipeline, top_ids(answers))
    table = readings_table(photos, answers, labels)
    report: dict[str, Any] = {
        "kind": "moods-evaluation",
        "photos_dir": str(job.photos),
        "photos": len(photos),
        "top": job.top,
        "encoder": pipeline.info.model_dump(),
        "faces": pipeline.faces is not None,
        "moods_catalog": str(job.catalog_dir),
        "catalogue_moods": chance,
        "agreement": mood_agreement(photos, labels),
        "alarmed": [row["file"] for row in table if row["alarmed"]],
        "readings": table,
        "songs": songs_part(settings, job, images) if job.songs else None,
        "notices": list(pipeline.notices),
    }
    return report
