"""Small functions over the database: each write commits before it returns; reads are figures.

A function that returns has made its row durable (SQLite WAL with ``synchronous=FULL``, or a
PostgreSQL commit), so the API may answer 2xx as soon as it returns. User mistakes (unknown
kind, unknown prediction, an over-long comment) raise :class:`~tunelens.core.errors.TunelensError`
subclasses with stable codes, before anything is written.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import String, cast, delete, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from tunelens.core.errors import InvalidRequest, NotFound
from tunelens.core.types import Recommendation
from tunelens.storage.db import (
    FEEDBACK_KINDS,
    UPLOAD_STATUSES,
    Database,
    Feedback,
    FeedbackKind,
    Prediction,
    PredictionTrack,
    Upload,
    UploadStatus,
    new_id,
    utcnow,
)

#: feedback kinds that say something about the song (``played`` is engagement, not opinion)
OPINION_KINDS: tuple[FeedbackKind, ...] = ("like", "dislike", "not_interested")
MAX_COMMENT_CHARS = 1000
MAX_CLIENT_ID_CHARS = 64
_CLIENT_ID_CHARS = frozenset(string.ascii_letters + string.digits + "-_.:")
_HEX = frozenset("0123456789abcdef")


# --------------------------------------------------------------------------- validation


def check_client_id(client_id: str | None) -> str | None:
    """An anonymous client/session id: up to 64 of ``A-Za-z0-9-_.:``; empty means none."""
    if client_id is None or not client_id.strip():
        return None
    value = client_id.strip()
    if len(value) > MAX_CLIENT_ID_CHARS or not set(value) <= _CLIENT_ID_CHARS:
        raise InvalidRequest(
            f"client_id must be 1–{MAX_CLIENT_ID_CHARS} letters, digits or '-_.:'.",
            code="invalid_client_id",
            details={"limit": MAX_CLIENT_ID_CHARS},
        )
    return value


def check_sha256(value: str) -> str:
    lowered = value.strip().lower()
    if len(lowered) != 64 or not set(lowered) <= _HEX:
        raise InvalidRequest(
            f"{value!r} is not a sha256 hex digest (64 hex digits).",
            code="invalid_sha256",
        )
    return lowered


def _check_kind(kind: str) -> FeedbackKind:
    for known in FEEDBACK_KINDS:
        if kind == known:
            return known
    raise InvalidRequest(
        f"feedback kind must be one of {', '.join(FEEDBACK_KINDS)}; got {kind!r}.",
        code="invalid_feedback_kind",
        details={"allowed": list(FEEDBACK_KINDS), "actual": kind},
    )


def _check_track_id(track_id: str) -> str:
    value = track_id.strip()
    if not value or len(value) > 255:
        raise InvalidRequest(
            "track_id must be 1–255 characters.", code="invalid_track_id", details={"limit": 255}
        )
    return value


# --------------------------------------------------------------------------- writes


def _clip(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else None


def record_prediction(
    db: Database,
    rec: Recommendation,
    *,
    client_id: str | None = None,
    latency_ms: float | None = None,
    source: str = "web",
    prediction_id: str | None = None,
) -> str:
    """Store one answered picture and its ranked songs; returns the prediction id.

    ``prediction_id`` lets a caller that already handed out an id (32 hex digits, e.g.
    ``uuid4().hex``) keep it; by default a new one is made. ``latency_ms`` defaults to the
    sum of ``rec.timings_ms`` (decode + read + rank).
    """
    client = check_client_id(client_id)
    if prediction_id is not None and (len(prediction_id) != 32 or not set(prediction_id) <= _HEX):
        raise InvalidRequest(
            "prediction_id must be 32 lower-case hex digits.", code="invalid_prediction_id"
        )
    reading = rec.reading
    top_genre = max(reading.genres, key=lambda g: reading.genres[g]) if reading.genres else None
    if latency_ms is None and rec.timings_ms:
        latency_ms = float(sum(rec.timings_ms.values()))
    prediction = Prediction(
        id=prediction_id or new_id(),
        client_id=client,
        image_sha256=rec.image_sha256 or None,
        source=source[:16],
        encoder=reading.encoder.name[:64],
        top_emotion=reading.top_emotion[:32],
        top_genre=top_genre[:32] if top_genre else None,
        valence=float(reading.valence),
        arousal=float(reading.arousal),
        reading=reading.model_dump(mode="json"),
        latency_ms=latency_ms,
        tracks=[
            PredictionTrack(
                rank=item.rank,
                track_id=item.track.id[:255],
                title=item.track.title[:512],
                artist=item.track.artist[:512],
                genre=_clip(item.track.genre, 64),
                score=float(item.score),
            )
            for item in rec.tracks
        ],
    )
    with db.write() as session:
        session.add(prediction)
        session.flush()
        return prediction.id


def record_feedback(
    db: Database,
    *,
    track_id: str,
    kind: str,
    prediction_id: str | None = None,
    client_id: str | None = None,
    comment: str | None = None,
    artist: str | None = None,
    genre: str | None = None,
) -> int:
    """Store one piece of feedback on one song; returns its id once committed.

    With ``prediction_id`` the prediction must exist (else ``NotFound``, code
    ``prediction_not_found``); its client id is used when none is given, and the song's
    artist and genre are copied from the prediction's list when the song was in it.
    """
    checked_kind = _check_kind(kind)
    track = _check_track_id(track_id)
    client = check_client_id(client_id)
    text = (comment or "").strip() or None
    if text is not None and len(text) > MAX_COMMENT_CHARS:
        raise InvalidRequest(
            f"The comment is {len(text)} characters long; the limit is {MAX_COMMENT_CHARS}.",
            code="comment_too_long",
            details={"limit": MAX_COMMENT_CHARS, "actual": len(text)},
        )
    with db.write() as session:
        if prediction_id is not None:
            prediction = session.get(Prediction, prediction_id)
            if prediction is None:
                raise NotFound(
                    f"No prediction with id {prediction_id!r}.",
                    code="prediction_not_found",
                    details={"prediction_id": prediction_id},
                )
            client = client or prediction.client_id
            shown = session.scalars(
                select(PredictionTrack)
                .where(PredictionTrack.prediction_id == prediction_id)
                .where(PredictionTrack.track_id == track)
                .limit(1)
            ).first()
            if shown is not None:
                artist = artist or shown.artist
                genre = genre or shown.genre
        row = Feedback(
            prediction_id=prediction_id,
            client_id=client,
            track_id=track,
            artist=_clip(artist, 512),
            genre=_clip(genre, 64),
            kind=checked_kind,
            comment=text,
        )
        session.add(row)
        session.flush()
        return row.id


def record_upload(
    db: Database,
    *,
    sha256: str,
    consent: bool,
    status: UploadStatus,
    location: str | None = None,
    stored_sha256: str | None = None,
    size_bytes: int | None = None,
    content_type: str | None = None,
    client_id: str | None = None,
    prediction_id: str | None = None,
) -> None:
    """Insert or update the row of one offered picture (idempotent per ``sha256``).

    A later call never downgrades a row: once a picture is ``stored`` it stays stored, and a
    declined offer does not overwrite an earlier consented one.
    """
    if status not in UPLOAD_STATUSES:
        raise ValueError(f"unknown upload status {status!r}")
    digest = check_sha256(sha256)
    client = check_client_id(client_id)
    rank = {"declined": 0, "pending": 1, "stored": 2}
    for attempt in range(2):
        try:
            with db.write() as session:
                row = session.get(Upload, digest)
                if row is None:
                    row = Upload(sha256=digest, consent=consent, status=status)
                    session.add(row)
                elif rank[status] < rank[row.status]:
                    return
                row.consent = consent
                row.status = status
                row.location = location
                row.stored_sha256 = stored_sha256
                row.size_bytes = size_bytes
                row.content_type = content_type
                row.client_id = client or row.client_id
                row.prediction_id = prediction_id or row.prediction_id
                row.stored_at = utcnow() if status == "stored" else None
            return
        except IntegrityError:
            # another writer inserted the same sha256 between our read and insert: retry once,
            # now as an update; a second failure is a real constraint problem.
            if attempt:
                raise


def mark_upload_stored(db: Database, sha256: str, location: str) -> bool:
    """Flip a pending upload to stored (after the outbox delivered it); False if no row."""
    with db.write() as session:
        result = session.execute(
            update(Upload)
            .where(Upload.sha256 == sha256)
            .values(status="stored", location=location, stored_at=utcnow())
        )
        return bool(getattr(result, "rowcount", 0))


def delete_upload_rows(db: Database, sha256s: Collection[str]) -> int:
    """Forget pictures: delete their upload rows and blank their hash on predictions.

    Predictions and feedback stay (they hold no picture), but no longer name the picture.
    Returns the number of upload rows deleted.
    """
    digests = sorted({check_sha256(s) for s in sha256s})
    if not digests:
        return 0
    deleted = 0
    with db.write() as session:
        for start in range(0, len(digests), 500):
            chunk = digests[start : start + 500]
            result = session.execute(delete(Upload).where(Upload.sha256.in_(chunk)))
            deleted += int(getattr(result, "rowcount", 0) or 0)
            session.execute(
                update(Prediction)
                .where(Prediction.image_sha256.in_(chunk))
                .values(image_sha256=None)
            )
    return deleted


# --------------------------------------------------------------------------- reads


def get_prediction(db: Database, prediction_id: str) -> Prediction | None:
    with db.read() as session:
        return session.scalars(
            select(Prediction)
            .where(Prediction.id == prediction_id)
            .options(selectinload(Prediction.tracks))
        ).first()


def get_upload(db: Database, sha256: str) -> Upload | None:
    with db.read() as session:
        return session.get(Upload, check_sha256(sha256))


def uploads_by_hash(db: Database, digest: str) -> list[Upload]:
    """Upload rows whose original or stored (stripped) bytes have this sha256."""
    value = check_sha256(digest)
    with db.read() as session:
        return list(
            session.scalars(
                select(Upload).where((Upload.sha256 == value) | (Upload.stored_sha256 == value))
            )
        )


def uploads_created_before(db: Database, cutoff: datetime) -> list[Upload]:
    with db.read() as session:
        return list(session.scalars(select(Upload).where(Upload.created_at < cutoff)))


@dataclass(frozen=True)
class Opinion:
    """A client's latest opinion on one song."""

    track_id: str
    kind: FeedbackKind
    artist: str | None
    at: datetime


def client_opinions(db: Database, client_id: str) -> list[Opinion]:
    """The latest like/dislike/not_interested per song for one client, newest first."""
    client = check_client_id(client_id)
    if client is None:
        return []
    with db.read() as session:
        rows = session.execute(
            select(Feedback.track_id, Feedback.kind, Feedback.artist, Feedback.created_at)
            .where(Feedback.client_id == client)
            .where(Feedback.kind.in_(OPINION_KINDS))
            .order_by(Feedback.id)
        ).all()
    latest: dict[str, Opinion] = {}
    for track_id, kind, artist, at in rows:
        latest.pop(track_id, None)  # re-insert so dict order is "last opinion last"
        latest[track_id] = Opinion(track_id, _check_kind(kind), artist, at)
    return list(reversed(latest.values()))


@dataclass(frozen=True)
class Votes:
    likes: int = 0
    dislikes: int = 0
    not_interested: int = 0


def track_votes(db: Database, track_ids: Iterable[str] | None = None) -> dict[str, Votes]:
    """Per song, how many voters' latest opinion is like / dislike / not_interested.

    A voter is a client id; feedback without one counts as its own voter. Counting only each
    voter's latest opinion means one listener clicking "dislike" ten times is one dislike.
    """
    voter = func.coalesce(Feedback.client_id, literal("#") + cast(Feedback.id, String))
    ranked_query = select(
        Feedback.track_id,
        Feedback.kind,
        func.row_number()
        .over(partition_by=(voter, Feedback.track_id), order_by=Feedback.id.desc())
        .label("rn"),
    ).where(Feedback.kind.in_(OPINION_KINDS))
    wanted = sorted(set(track_ids)) if track_ids is not None else None
    if wanted is not None:
        if not wanted:
            return {}
        ranked_query = ranked_query.where(Feedback.track_id.in_(wanted))
    ranked = ranked_query.subquery()
    query = (
        select(ranked.c.track_id, ranked.c.kind, func.count())
        .where(ranked.c.rn == 1)
        .group_by(ranked.c.track_id, ranked.c.kind)
    )
    counts: dict[str, dict[str, int]] = {}
    with db.read() as session:
        for track_id, kind, n in session.execute(query):
            counts.setdefault(track_id, {})[kind] = int(n)
    return {
        track: Votes(c.get("like", 0), c.get("dislike", 0), c.get("not_interested", 0))
        for track, c in counts.items()
    }


# --------------------------------------------------------------------------- analytics


@dataclass(frozen=True)
class RateCount:
    likes: int
    dislikes: int

    @property
    def rate(self) -> float | None:
        total = self.likes + self.dislikes
        return round(self.likes / total, 4) if total else None


@dataclass
class StatsSummary:
    """Figures for ``tunelens stats``, ``/stats`` and the admin page (JSON-ready via to_dict)."""

    predictions: int = 0
    latency_ms: dict[str, float | int | None] = field(default_factory=dict)
    predictions_by_emotion: dict[str, int] = field(default_factory=dict)
    emotion_by_day: list[dict[str, Any]] = field(default_factory=list)
    feedback: dict[str, int] = field(default_factory=dict)
    like_rate: float | None = None
    like_rate_by_emotion: dict[str, dict[str, Any]] = field(default_factory=dict)
    like_rate_by_genre: dict[str, dict[str, Any]] = field(default_factory=dict)
    most_recommended: list[dict[str, Any]] = field(default_factory=list)
    most_liked: list[dict[str, Any]] = field(default_factory=list)
    uploads: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rates(rows: Sequence[Any]) -> dict[str, dict[str, Any]]:
    grouped: dict[str, dict[str, int]] = {}
    for key, kind, n in rows:
        grouped.setdefault(key or "unknown", {})[kind] = int(n)
    out: dict[str, dict[str, Any]] = {}
    for key, counts in sorted(grouped.items()):
        rc = RateCount(counts.get("like", 0), counts.get("dislike", 0))
        out[key] = {"likes": rc.likes, "dislikes": rc.dislikes, "rate": rc.rate}
    return out


def latency_percentiles(values: Sequence[float]) -> dict[str, float | int | None]:
    if not values:
        return {"p50": None, "p95": None, "n": 0}
    array = np.asarray(values, dtype=np.float64)
    return {
        "p50": round(float(np.percentile(array, 50)), 2),
        "p95": round(float(np.percentile(array, 95)), 2),
        "n": len(values),
    }


def stats_summary(
    db: Database, *, days: int = 30, top: int = 10, latency_window: int = 1000
) -> StatsSummary:
    """Everything the dashboards show, in a handful of aggregate queries."""
    since = utcnow() - timedelta(days=days)
    summary = StatsSummary()
    day = func.date(Prediction.created_at)
    if db.backend == "postgresql":
        day = func.date(func.timezone("UTC", Prediction.created_at))
    with db.read() as session:
        summary.predictions = int(session.scalar(select(func.count(Prediction.id))) or 0)
        latencies = session.scalars(
            select(Prediction.latency_ms)
            .where(Prediction.latency_ms.is_not(None))
            .order_by(Prediction.created_at.desc())
            .limit(latency_window)
        ).all()
        summary.latency_ms = latency_percentiles([float(v) for v in latencies if v is not None])
        summary.predictions_by_emotion = {
            emotion: int(n)
            for emotion, n in session.execute(
                select(Prediction.top_emotion, func.count())
                .group_by(Prediction.top_emotion)
                .order_by(func.count().desc(), Prediction.top_emotion)
            )
        }
        per_day: dict[str, dict[str, int]] = {}
        for when, emotion, n in session.execute(
            select(day, Prediction.top_emotion, func.count())
            .where(Prediction.created_at >= since)
            .group_by(day, Prediction.top_emotion)
        ):
            per_day.setdefault(str(when), {})[emotion] = int(n)
        summary.emotion_by_day = [{"day": d, "counts": per_day[d]} for d in sorted(per_day)]

        summary.feedback = {kind: 0 for kind in FEEDBACK_KINDS}
        for kind, n in session.execute(select(Feedback.kind, func.count()).group_by(Feedback.kind)):
            summary.feedback[kind] = int(n)
        summary.like_rate = RateCount(summary.feedback["like"], summary.feedback["dislike"]).rate
        votes = Feedback.kind.in_(("like", "dislike"))
        summary.like_rate_by_emotion = _rates(
            session.execute(
                select(Prediction.top_emotion, Feedback.kind, func.count())
                .join(Prediction, Feedback.prediction_id == Prediction.id)
                .where(votes)
                .group_by(Prediction.top_emotion, Feedback.kind)
            ).all()
        )
        summary.like_rate_by_genre = _rates(
            session.execute(
                select(Feedback.genre, Feedback.kind, func.count())
                .where(votes)
                .group_by(Feedback.genre, Feedback.kind)
            ).all()
        )
        recommended = session.execute(
            select(PredictionTrack.track_id, func.count().label("n"))
            .group_by(PredictionTrack.track_id)
            .order_by(func.count().desc(), PredictionTrack.track_id)
            .limit(top)
        ).all()
        liked = session.execute(
            select(Feedback.track_id, func.count().label("n"))
            .where(Feedback.kind == "like")
            .group_by(Feedback.track_id)
            .order_by(func.count().desc(), Feedback.track_id)
            .limit(top)
        ).all()
        names = _track_names(session, {t for t, _ in recommended} | {t for t, _ in liked})
        summary.most_recommended = [
            {"track_id": t, **names.get(t, {}), "count": int(n)} for t, n in recommended
        ]
        summary.most_liked = [
            {"track_id": t, **names.get(t, {}), "likes": int(n)} for t, n in liked
        ]

        summary.uploads = {status: 0 for status in UPLOAD_STATUSES}
        for status, n in session.execute(
            select(Upload.status, func.count()).group_by(Upload.status)
        ):
            summary.uploads[status] = int(n)
        summary.uploads["stored_bytes"] = int(
            session.scalar(
                select(func.coalesce(func.sum(Upload.size_bytes), 0)).where(
                    Upload.status == "stored"
                )
            )
            or 0
        )
    return summary


def feedback_counts(db: Database) -> dict[str, Any]:
    """The cheap figures for ``/stats``: predictions recorded, feedback per kind, like rate."""
    with db.read() as session:
        predictions = int(session.scalar(select(func.count(Prediction.id))) or 0)
        counts: dict[str, int] = {kind: 0 for kind in FEEDBACK_KINDS}
        for kind, n in session.execute(select(Feedback.kind, func.count()).group_by(Feedback.kind)):
            counts[kind] = int(n)
    return {
        "predictions_recorded": predictions,
        "feedback": counts,
        "like_rate": RateCount(counts["like"], counts["dislike"]).rate,
    }


def _track_names(session: Any, track_ids: Collection[str]) -> dict[str, dict[str, Any]]:
    """Title and artist of songs as last shown (feedback rows carry the artist only)."""
    if not track_ids:
        return {}
    names: dict[str, dict[str, Any]] = {}
    rows = session.execute(
        select(PredictionTrack.track_id, PredictionTrack.title, PredictionTrack.artist)
        .where(PredictionTrack.track_id.in_(sorted(track_ids)))
        .distinct()
    ).all()
    for track_id, title, artist in rows:
        names[track_id] = {"title": title, "artist": artist}
    missing = set(track_ids) - names.keys()
    if missing:
        for track_id, artist in session.execute(
            select(Feedback.track_id, Feedback.artist)
            .where(Feedback.track_id.in_(sorted(missing)))
            .distinct()
        ):
            names.setdefault(track_id, {"title": None, "artist": artist})
    return names
