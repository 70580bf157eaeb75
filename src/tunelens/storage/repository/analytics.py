"""The figures the dashboards show (``tunelens stats``, ``/stats``, the admin page), in SQL.

Every figure is an aggregate query, so the dashboards stay cheap however many predictions and
votes there are; only the latency percentiles read rows (the latest ``latency_window``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tunelens.storage.db import (
    FEEDBACK_KINDS,
    UPLOAD_STATUSES,
    Database,
    Feedback,
    Prediction,
    PredictionTrack,
    Upload,
    utcnow,
)

__all__ = [
    "RateCount",
    "StatsSummary",
    "feedback_counts",
    "latency_percentiles",
    "stats_summary",
]


@dataclass(frozen=True)
class RateCount:
    """Likes and dislikes, and the like rate among them (None before the first vote)."""

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
    """p50 and p95 (ms, two decimals) and how many values they came from."""
    if not values:
        return {"p50": None, "p95": None, "n": 0}
    array = np.asarray(values, dtype=np.float64)
    return {
        "p50": round(float(np.percentile(array, 50)), 2),
        "p95": round(float(np.percentile(array, 95)), 2),
        "n": len(values),
    }


def _utc_day(db: Database) -> Any:
    """The UTC calendar day of a prediction, as SQL (PostgreSQL stores time zones)."""
    if db.backend == "postgresql":
        return func.date(func.timezone("UTC", Prediction.created_at))
    return func.date(Prediction.created_at)


def _prediction_figures(
    session: Session, summary: StatsSummary, *, day: Any, since: datetime, latency_window: int
) -> None:
    """How many pictures were answered, how fast, and with which emotion (per ``day`` too)."""
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


def _feedback_figures(session: Session, summary: StatsSummary) -> None:
    """Feedback per kind and like rates, overall, per emotion read and per genre."""
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


def _top_songs(session: Session, summary: StatsSummary, *, top: int) -> None:
    """The most recommended and the most liked songs, with their titles and artists."""
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
    summary.most_liked = [{"track_id": t, **names.get(t, {}), "likes": int(n)} for t, n in liked]


def _upload_figures(session: Session, summary: StatsSummary) -> None:
    """Offered pictures per status, and the bytes kept."""
    summary.uploads = {status: 0 for status in UPLOAD_STATUSES}
    for status, n in session.execute(select(Upload.status, func.count()).group_by(Upload.status)):
        summary.uploads[status] = int(n)
    summary.uploads["stored_bytes"] = int(
        session.scalar(
            select(func.coalesce(func.sum(Upload.size_bytes), 0)).where(Upload.status == "stored")
        )
        or 0
    )


def stats_summary(
    db: Database, *, days: int = 30, top: int = 10, latency_window: int = 1000
) -> StatsSummary:
    """Everything the dashboards show, in a handful of aggregate queries."""
    since = utcnow() - timedelta(days=days)
    summary = StatsSummary()
    with db.read() as session:
        _prediction_figures(
            session, summary, day=_utc_day(db), since=since, latency_window=latency_window
        )
        _feedback_figures(session, summary)
        _top_songs(session, summary, top=top)
        _upload_figures(session, summary)
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


def _track_names(session: Session, track_ids: Collection[str]) -> dict[str, dict[str, Any]]:
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
