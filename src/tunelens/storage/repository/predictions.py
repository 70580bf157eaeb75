"""Answered pictures: one ``predictions`` row per answer and its ranked songs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tunelens.core.types import Recommendation
from tunelens.storage.db import Database, Prediction, PredictionTrack, new_id
from tunelens.storage.repository.checks import check_client_id, check_prediction_id, clip

__all__ = ["get_prediction", "record_prediction"]


def _track_rows(rec: Recommendation) -> list[PredictionTrack]:
    return [
        PredictionTrack(
            rank=item.rank,
            track_id=item.track.id[:255],
            title=item.track.title[:512],
            artist=item.track.artist[:512],
            genre=clip(item.track.genre, 64),
            score=float(item.score),
        )
        for item in rec.tracks
    ]


def record_prediction(  # noqa: PLR0913 - keywords of one row; the web data loop names them
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
    if prediction_id is not None:
        check_prediction_id(prediction_id)
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
        tracks=_track_rows(rec),
    )
    with db.write() as session:
        session.add(prediction)
        session.flush()
        return prediction.id


def get_prediction(db: Database, prediction_id: str) -> Prediction | None:
    """The prediction with its ranked songs loaded, or None."""
    with db.read() as session:
        return session.scalars(
            select(Prediction)
            .where(Prediction.id == prediction_id)
            .options(selectinload(Prediction.tracks))
        ).first()
