"""Paired picture ↔ music data for the learned audio-feature head.

A pair says "this picture goes with this music": either a catalogue track (its audio features
are the target) or explicit feature values. Two sources:

* **a pairs CSV** (``tunelens train features --pairs PAIRS.csv``) with a header row and the
  columns ``image`` (required: a path relative to the CSV's folder or absolute, a ``file://``
  URL, an ``s3://bucket/key`` URL read with the configured S3 endpoint and credentials, or
  ``blob:<sha256>`` for a kept upload in the configured blob store), ``track_id`` (a catalogue
  id), any of the mood features by name (``valence``, ``energy``, … — explicit values override
  the track's), ``weight`` (default 1) and ``emotion`` (default: DyLuMo's rule applied to the
  target features, which is how DyLuMo labelled its songs);
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np
from numpy.typing import NDArray

from tunelens.catalogue.models import Catalogue, Track
from tunelens.core.audio import MOOD_FEATURES
from tunelens.core.errors import InvalidRequest, TunelensError
from tunelens.core.settings import Settings
from tunelens.vision.base import Encoder, FloatArray
from tunelens.vision.colour import ColourStats, colour_stats
from tunelens.vision.imaging import LoadedImage, load_image, thumbnail

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
#: pictures embedded per encoder call
EMBED_BATCH = 16
MAX_WEIGHT = 100.0

Progress = Callable[[str], None]


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
    from tunelens.core import vocab

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


class ImageFetcher:
    """Reads a pair's picture from a path, ``file://``, ``s3://`` or ``blob:<sha256>``."""

    def __init__(self, settings: Settings, base_dir: Path | None = None) -> None:
        self.settings = settings
        self.base_dir = base_dir
        self._s3: Any = None
        self._blobs: Any = None

    def _s3_client(self) -> Any:
        if self._s3 is None:
            from tunelens.storage.blobs import S3BlobStore

            self._s3 = S3BlobStore.from_settings(self.settings).client
        return self._s3

    def fetch(self, source: str) -> bytes | Path:
        """The picture's bytes or local path; :class:`InvalidRequest` (``image_missing``) when
        there is nothing there."""
        if source.startswith("s3://"):
            parsed = urlparse(source)
            try:
                answer = self._s3_client().get_object(
                    Bucket=parsed.netloc, Key=unquote(parsed.path.lstrip("/"))
                )
                data: bytes = answer["Body"].read()
            except TunelensError:
                raise
            except Exception as exc:  # botocore's errors: missing key, no bucket, no endpoint
                raise InvalidRequest(f"cannot read {source}: {exc}", code="image_missing") from None
            return data
        if source.startswith("blob:"):
            from tunelens.storage.blobs import blob_key, store_from_settings

            if self._blobs is None:
                self._blobs = store_from_settings(self.settings)
            try:
                key = blob_key(source.removeprefix("blob:"))
            except ValueError:
                raise InvalidRequest(
                    f"{source!r} is not blob:<sha256>", code="image_missing"
                ) from None
            blob = self._blobs.get(key)
            if blob is None:
                raise InvalidRequest(f"no kept upload {source}", code="image_missing")
            return bytes(blob)
        if source.startswith("file://"):
            path = Path(unquote(urlparse(source).path))
        elif "://" in source:
            raise InvalidRequest(
                f"{source}: only local paths, file://, s3:// and blob: sources are read "
                "(tunelens does not download pictures from the web)",
                code="image_missing",
            )
        else:
            path = Path(source)
            if not path.is_absolute() and self.base_dir is not None:
                path = self.base_dir / path
        if not path.is_file():
            raise InvalidRequest(f"no picture at {path}", code="image_missing")
        return path


def _embed(
    rows: Sequence[_Row],
    fetcher: ImageFetcher,
    encoder: Encoder,
    settings: Settings,
    problems: list[dict[str, Any]],
    progress: Progress | None,
) -> tuple[list[_Row], list[int], FloatArray, list[ColourStats], list[str]]:
    """Read and embed each distinct picture once; rows whose picture fails are reported."""
    by_source: dict[str, int | TunelensError] = {}
    by_sha: dict[str, int] = {}
    pending: list[LoadedImage] = []
    chunks: list[FloatArray] = []
    stats: list[ColourStats] = []
    shas: list[str] = []
    kept: list[_Row] = []
    index: list[int] = []

    def flush() -> None:
        if pending:
            chunks.append(encoder.embed_images(pending))
            pending.clear()

    for n, row in enumerate(rows, start=1):
        found = by_source.get(row.image)
        if found is None:
            try:
                image = load_image(fetcher.fetch(row.image), settings=settings)
            except TunelensError as exc:
                found = exc
            else:
                if image.sha256 in by_sha:  # the same picture under another name
                    found = by_sha[image.sha256]
                else:
                    found = len(shas)
                    by_sha[image.sha256] = found
                    shas.append(image.sha256)
                    stats.append(colour_stats(thumbnail(image)))
                    pending.append(image)
                    if len(pending) >= EMBED_BATCH:
                        flush()
            by_source[row.image] = found
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
        if progress is not None and n % 200 == 0:
            progress(f"read {n}/{len(rows)} rows, {len(shas)} distinct pictures")
    flush()
    embeddings = (
        np.concatenate(chunks).astype(np.float32)
        if chunks
        else np.zeros((0, encoder.dim), dtype=np.float32)
    )
    return kept, index, embeddings, stats, shas


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
    db: Any, *, weight: float, since: datetime | None = None
) -> tuple[list[_Row], list[dict[str, Any]]]:
    """Likes of songs shown for a kept (consented, stored) picture, as pair rows."""
    from sqlalchemy import select

    from tunelens.storage.db import Feedback, Prediction, Upload

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


def count_feedback_pairs(db: Any, since: datetime | None = None) -> int:
    """Likes on kept pictures after ``since``: the new data the retrain scheduler waits for."""
    rows, _ = feedback_rows(db, weight=1.0, since=since)
    return len(rows)


def build_pairs(
    *,
    encoder: Encoder,
    settings: Settings,
    catalogue: Catalogue | None,
    pairs_csv: Path | None = None,
    db: Any = None,
    feedback_weight: float = 0.5,
    progress: Progress | None = None,
) -> PairSet:
    """Read, validate and embed the pairs from a CSV and/or the stored feedback."""
    if pairs_csv is None and db is None:
        raise InvalidRequest(
            "Give a pairs CSV (--pairs) and/or use the stored feedback (--from-feedback).",
            code="pairs_missing",
        )
    if not 0 < feedback_weight <= MAX_WEIGHT:
        raise InvalidRequest(
            f"the feedback weight must be in (0, {MAX_WEIGHT:g}], got {feedback_weight}",
            code="bad_value",
        )
    rows: list[_Row] = []
    problems: list[dict[str, Any]] = []
    sources: dict[str, int] = {}
    if pairs_csv is not None:
        csv_rows, csv_problems, ignored = read_pairs_csv(pairs_csv)
        rows.extend(csv_rows)
        problems.extend(csv_problems)
        sources["csv_rows"] = len(csv_rows) + len(csv_problems)
        if ignored:
            sources["ignored_columns"] = len(ignored)
            if progress is not None:
                progress(f"notice: ignoring unknown columns {', '.join(ignored)}")
    if db is not None:
        fb_rows, fb_problems = feedback_rows(db, weight=feedback_weight)
        rows.extend(fb_rows)
        problems.extend(fb_problems)
        sources["feedback_likes"] = len(fb_rows) + len(fb_problems)
    fetcher = ImageFetcher(settings, pairs_csv.parent if pairs_csv is not None else None)
    # targets first: a row with an unknown track never costs a picture read
    targeted: list[tuple[_Row, list[float], str]] = []
    for row in rows:
        target = _target(row, catalogue, problems)
        if target is not None:
            targeted.append((row, *target))
    kept, index, embeddings, stats, shas = _embed(
        [t[0] for t in targeted], fetcher, encoder, settings, problems, progress
    )
    by_row = {t[0].row: t for t in targeted}
    targets = [by_row[r.row][1] for r in kept]
    data_until = max((r.created_at for r in kept if r.created_at is not None), default=None)
    problems.sort(key=_problem_order)
    return PairSet(
        embeddings=embeddings,
        stats=stats,
        image_sha256=shas,
        image_index=np.asarray(index, dtype=np.int64),
        targets=np.asarray(targets, dtype=np.float32).reshape(len(kept), len(HEAD_FEATURES)),
        emotions=[by_row[r.row][2] for r in kept],
        weights=np.asarray([r.weight for r in kept], dtype=np.float32),
        track_ids=[r.track_id for r in kept],
        rows=[r.row for r in kept],
        problems=problems,
        sources=sources,
        data_until=data_until,
    )


def _problem_order(problem: dict[str, Any]) -> tuple[int, int, str]:
    """CSV lines in file order, then feedback ids in order."""
    name = str(problem["row"])
    if name.startswith("line ") and name[5:].isdigit():
        return 0, int(name[5:]), ""
    if name.startswith("feedback:") and name[9:].isdigit():
        return 1, int(name[9:]), ""
    return 2, 0, name
