"""Paired picture ↔ music data for the learned audio-feature head.

A pair says "this picture goes with this music": either a catalogue track (its audio features
are the target) or explicit feature values. Two sources (:class:`PairSources`):

* **a pairs CSV** (``tunelens train features --pairs PAIRS.csv``) with a header row and the
  columns ``image`` (required: where the picture is, see :mod:`tunelens.training.pictures`),
  ``track_id`` (a catalogue id), any of the mood features by name (``valence``, ``energy``, …
  — explicit values override the track's), ``weight`` (default 1) and ``emotion`` (default:
  DyLuMo's rule applied to the target features, which is how DyLuMo labelled its songs);
* **feedback** (``--from-feedback``): every *like* of a song shown for a picture the listener
  agreed to keep is a positive pair with weight ``feedback_weight`` (a like is weaker evidence
  than a curated pair). Dislikes are not pairs: "not this song" gives no target to regress to.

Nothing is silently dropped: every row that cannot be used — a missing or unreadable picture,
an unknown track id, a value that is not a number in its feature's range, a row with no target —
is reported with its row number (the CSV line, header = line 1, or ``feedback:<id>``) and a
stable code, and skipped. Each distinct picture is read and embedded once, however many rows
name it; the split into training and held-out pictures is by picture (sha256), never by row.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select

from tunelens.catalogue.models import Catalogue, Track
from tunelens.core import vocab
from tunelens.core.audio import MOOD_FEATURES
from tunelens.core.errors import InvalidRequest, TunelensError
from tunelens.storage.db import Database, Feedback, Prediction, Upload
from tunelens.training.pictures import DistinctPictures, ImageFetcher
from tunelens.training.run import TrainingRun
from tunelens.vision.base import Encoder, FloatArray
from tunelens.vision.colour import ColourStats

#: the features a feature head predicts: the ones the mapping targets and the index searches
#: (key, duration and time signature carry no mood and are not part of a target profile)
HEAD_FEATURES: tuple[str, ...] = MOOD_FEATURES

#: the values a pair may give for each feature (Spotify's ranges; tempo and loudness generous)
VALUE_RANGES: dict[str, tuple[float, float]] = {
    **{
        name: (0.0, 1.0)
        for name in (
            "valence",
            "energy",
            "danceability",
            "acousticness",
            "instrumentalness",
            "mode",
            "speechiness",
            "liveness",
        )
    },
    "tempo": (30.0, 250.0),
    "loudness": (-60.0, 5.0),
}
MAX_WEIGHT = 100.0


@dataclass
class PairSet:
    """Usable pairs (one row each) over distinct, embedded pictures, and what was skipped."""

    #: (n_images, dim) embeddings of the distinct readable pictures
    embeddings: FloatArray
    #: colour statistics of each picture (what the documented mapping's reader needs)
    stats: list[ColourStats]
    #: sha256 of each picture: the unit of the held-out split
    image_sha256: list[str]
    #: per pair: the row of its picture in ``embeddings``
    image_index: NDArray[np.int64]
    #: (n_pairs, len(HEAD_FEATURES)) target features in Spotify units
    targets: NDArray[np.float32]
    emotions: list[str]
    weights: NDArray[np.float32]
    track_ids: list[str | None]
    rows: list[str]
    problems: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)
    #: newest feedback used (the retrain scheduler counts feedback after it)
    data_until: datetime | None = None

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class _Row:
    row: str
    image: str
    track_id: str | None
    features: dict[str, float]
    weight: float
    emotion: str | None
    created_at: datetime | None = None


def _problem(row: str, code: str, message: str) -> dict[str, Any]:
    return {"row": row, "code": code, "message": message}


def _parse_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_pairs_csv(path: Path) -> tuple[list[_Row], list[dict[str, Any]], list[str]]:
    """(rows that parsed, problems, ignored column names) of a pairs CSV; pictures and track
    ids are checked later, against the store and the catalogue."""
    if not path.is_file():
        raise InvalidRequest(
            f"{path} is not a pairs CSV file.", code="pairs_missing", details={"path": str(path)}
        )
    emotions = {name.casefold(): name for name in vocab.emotions().names}
    rows: list[_Row] = []
    problems: list[dict[str, Any]] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in reader.fieldnames or []]
            if "image" not in header:
                raise InvalidRequest(
                    f"{path} needs a header row with an 'image' column (and 'track_id' and/or "
                    f"feature columns: {', '.join(HEAD_FEATURES)}); found "
                    f"{', '.join(header) or 'no header'}.",
                    code="pairs_invalid",
                    details={"columns": header},
                )
            known = {"image", "track_id", "weight", "emotion", *HEAD_FEATURES}
            ignored = [h for h in header if h not in known]
            for raw in reader:
                line = f"line {reader.line_num}"
                record = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k}
                parsed = _parse_row(line, record, emotions, problems)
                if parsed is not None:
                    rows.append(parsed)
    except UnicodeDecodeError as exc:
        raise InvalidRequest(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}).", code="pairs_invalid"
        ) from None
    except csv.Error as exc:
        raise InvalidRequest(
            f"{path} is not a readable CSV: {exc}.", code="pairs_invalid"
        ) from None
    return rows, problems, ignored


def _parse_row(
    line: str,
    record: dict[str, str],
    emotions: dict[str, str],
    problems: list[dict[str, Any]],
) -> _Row | None:
    image = record.get("image", "")
    if not image:
        problems.append(_problem(line, "image_missing", "the image column is empty"))
        return None
    features: dict[str, float] = {}
    bad: list[str] = []
    for name in HEAD_FEATURES:
        text = record.get(name, "")
        if not text:
            continue
        value = _parse_float(text)
        low, high = VALUE_RANGES[name]
        if value is None or not low <= value <= high:
            bad.append(f"{name}={text!r} (expected a number in [{low:g}, {high:g}])")
        else:
            features[name] = value
    weight = 1.0
    if record.get("weight"):
        parsed = _parse_float(record["weight"])
        if parsed is None or not 0 < parsed <= MAX_WEIGHT:
            bad.append(f"weight={record['weight']!r} (expected a number in (0, {MAX_WEIGHT:g}])")
        else:
            weight = parsed
    emotion: str | None = None
    if record.get("emotion"):
        emotion = emotions.get(record["emotion"].casefold())
        if emotion is None:
            bad.append(
                f"emotion={record['emotion']!r} (expected one of {', '.join(emotions.values())})"
            )
    if bad:
        problems.append(_problem(line, "bad_value", "; ".join(bad)))
        return None
    track_id = record.get("track_id") or None
    if track_id is None and not features:
        problems.append(
            _problem(line, "no_target", "the row names neither a track_id nor feature values")
        )
        return None
    return _Row(line, image, track_id, features, weight, emotion)


# --------------------------------------------------------------------------- pictures


def _embed(
    rows: Sequence[_Row],
    pictures: DistinctPictures,
    problems: list[dict[str, Any]],
    run: TrainingRun,
) -> tuple[list[_Row], list[int]]:
    """(rows whose picture could be read, each one's picture row); the others are reported."""
    kept: list[_Row] = []
    index: list[int] = []
    for n, row in enumerate(rows, start=1):
        found = pictures.index_of(row.image)
        if isinstance(found, TunelensError):
            code = (
                "image_missing"
                if found.code in ("image_missing", "file_not_found")
                else ("image_invalid")
            )
            problems.append(_problem(row.row, code, f"{row.image}: {found.message}"))
            continue
        kept.append(row)
        index.append(found)
        if n % 200 == 0:
            run.say(f"read {n}/{len(rows)} rows, {len(pictures.shas)} distinct pictures")
    pictures.flush()
    return kept, index


def _target(
    row: _Row, catalogue: Catalogue | None, problems: list[dict[str, Any]]
) -> tuple[list[float], str] | None:
    """(feature vector, emotion) of a row, or None (reported) when it has no full target."""
    features: dict[str, float] = {}
    if row.track_id is not None:
        track = catalogue.get(row.track_id) if catalogue is not None else None
        if track is None:
            where = "the catalogue" if catalogue is not None else "any catalogue (none loaded)"
            problems.append(
                _problem(row.row, "unknown_track", f"track id {row.track_id!r} is not in {where}")
            )
            return None
        features.update({k: v for k, v in track.features.items() if k in HEAD_FEATURES})
    features.update(row.features)
    missing = [name for name in HEAD_FEATURES if name not in features]
    if missing:
        problems.append(
            _problem(
                row.row,
                "missing_features",
                "no value for " + ", ".join(missing) + " (give them as columns or a track_id)",
            )
        )
        return None
    emotion = row.emotion
    if emotion is None:
        emotion = Track(id="pair", title="", artist="", features=features).dylumo_emotion()
    assert emotion is not None  # valence, energy, danceability, acousticness are all present
    return [features[name] for name in HEAD_FEATURES], emotion


def feedback_rows(
    db: Database, *, weight: float, since: datetime | None = None
) -> tuple[list[_Row], list[dict[str, Any]]]:
    """Likes of songs shown for a kept (consented, stored) picture, as pair rows."""
    rows: list[_Row] = []
    problems: list[dict[str, Any]] = []
    query = (
        select(Feedback.id, Feedback.track_id, Feedback.created_at, Upload.sha256, Upload.status)
        .join(Prediction, Prediction.id == Feedback.prediction_id)
        .join(Upload, Upload.sha256 == Prediction.image_sha256)
        .where(Feedback.kind == "like", Upload.consent.is_(True))
        .order_by(Feedback.id)
    )
    if since is not None:
        query = query.where(Feedback.created_at > since)
    with db.read() as session:
        found = session.execute(query).all()
    for feedback_id, track_id, created_at, sha256, status in found:
        name = f"feedback:{feedback_id}"
        if status != "stored":
            problems.append(
                _problem(name, "image_missing", "the kept picture still waits in the outbox")
            )
            continue
        rows.append(_Row(name, f"blob:{sha256}", track_id, {}, weight, None, created_at))
    return rows, problems


def count_feedback_pairs(db: Database, since: datetime | None = None) -> int:
    """Likes on kept pictures after ``since``: the new data the retrain scheduler waits for."""
    rows, _ = feedback_rows(db, weight=1.0, since=since)
    return len(rows)


@dataclass(frozen=True)
class PairSources:
    """Where a run's pairs come from: a pairs CSV and/or the stored feedback (its likes
    weighing ``feedback_weight`` each), and the catalogue their track ids name (None: the
    settings' catalogue)."""

    pairs_csv: Path | None = None
    db: Database | None = None
    feedback_weight: float = 0.5
    catalog_dir: Path | None = None


def _read_rows(
    sources: PairSources, run: TrainingRun
) -> tuple[list[_Row], list[dict[str, Any]], dict[str, int]]:
    """(rows, problems, counts per source) of every source, before any picture is read."""
    if sources.pairs_csv is None and sources.db is None:
        raise InvalidRequest(
            "Give a pairs CSV (--pairs) and/or use the stored feedback (--from-feedback).",
            code="pairs_missing",
        )
    if not 0 < sources.feedback_weight <= MAX_WEIGHT:
        raise InvalidRequest(
            f"the feedback weight must be in (0, {MAX_WEIGHT:g}], got {sources.feedback_weight}",
            code="bad_value",
        )
    rows: list[_Row] = []
    problems: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    if sources.pairs_csv is not None:
        csv_rows, csv_problems, ignored = read_pairs_csv(sources.pairs_csv)
        rows.extend(csv_rows)
        problems.extend(csv_problems)
        counts["csv_rows"] = len(csv_rows) + len(csv_problems)
        if ignored:
            counts["ignored_columns"] = len(ignored)
            run.say(f"notice: ignoring unknown columns {', '.join(ignored)}")
    if sources.db is not None:
        fb_rows, fb_problems = feedback_rows(sources.db, weight=sources.feedback_weight)
        rows.extend(fb_rows)
        problems.extend(fb_problems)
        counts["feedback_likes"] = len(fb_rows) + len(fb_problems)
    return rows, problems, counts


def build_pairs(
    sources: PairSources, *, encoder: Encoder, catalogue: Catalogue | None, run: TrainingRun
) -> PairSet:
    """Read, validate and embed the pairs from a CSV and/or the stored feedback."""
    rows, problems, counts = _read_rows(sources, run)
    base_dir = sources.pairs_csv.parent if sources.pairs_csv is not None else None
    pictures = DistinctPictures(ImageFetcher(run.settings, base_dir), encoder)
    # targets first: a row with an unknown track never costs a picture read
    targeted: dict[str, tuple[list[float], str]] = {}
    for row in rows:
        target = _target(row, catalogue, problems)
        if target is not None:
            targeted[row.row] = target
    candidates = [row for row in rows if row.row in targeted]
    kept, index = _embed(candidates, pictures, problems, run)
    problems.sort(key=_problem_order)
    return PairSet(
        embeddings=pictures.embeddings(),
        stats=pictures.stats,
        image_sha256=pictures.shas,
        image_index=np.asarray(index, dtype=np.int64),
        targets=np.asarray([targeted[r.row][0] for r in kept], dtype=np.float32).reshape(
            len(kept), len(HEAD_FEATURES)
        ),
        emotions=[targeted[r.row][1] for r in kept],
        weights=np.asarray([r.weight for r in kept], dtype=np.float32),
        track_ids=[r.track_id for r in kept],
        rows=[r.row for r in kept],
        problems=problems,
        sources=counts,
        data_until=max((r.created_at for r in kept if r.created_at is not None), default=None),
    )


def _problem_order(problem: dict[str, Any]) -> tuple[int, int, str]:
    """CSV lines in file order, then feedback ids in order."""
    name = str(problem["row"])
    if name.startswith("line ") and name[5:].isdigit():
        return 0, int(name[5:]), ""
    if name.startswith("feedback:") and name[9:].isdigit():
        return 1, int(name[9:]), ""
    return 2, 0, name
