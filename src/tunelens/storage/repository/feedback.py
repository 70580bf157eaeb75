"""Feedback on songs: recording it, and the opinions and votes the recommender reads back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, func, literal, select
from sqlalchemy.orm import Session

from tunelens.core.errors import InvalidRequest, NotFound
from tunelens.storage.db import Database, Feedback, FeedbackKind, Prediction, PredictionTrack
from tunelens.storage.repository.checks import check_client_id, check_kind, check_track_id, clip

__all__ = [
    "MAX_COMMENT_CHARS",
    "OPINION_KINDS",
    "Opinion",
    "Votes",
    "client_opinions",
    "record_feedback",
    "track_votes",
]

#: feedback kinds that say something about the song (``played`` is engagement, not opinion)
OPINION_KINDS: tuple[FeedbackKind, ...] = ("like", "dislike", "not_interested")
MAX_COMMENT_CHARS = 1000


def _check_comment(comment: str | None) -> str | None:
    text = (comment or "").strip() or None
    if text is not None and len(text) > MAX_COMMENT_CHARS:
        raise InvalidRequest(
            f"The comment is {len(text)} characters long; the limit is {MAX_COMMENT_CHARS}.",
            code="comment_too_long",
            details={"limit": MAX_COMMENT_CHARS, "actual": len(text)},
        )
    return text


def _shown_in(
    session: Session, prediction_id: str, track_id: str, client: str | None
) -> tuple[Prediction, PredictionTrack | None]:
    """The prediction (NotFound if none, or if it is another client's: the same answer, so
    the caller learns nothing about ids that are not theirs) and, when the song was in its
    list, that list entry."""
    prediction = session.get(Prediction, prediction_id)
    if prediction is None or (prediction.client_id is not None and prediction.client_id != client):
        raise NotFound(
            f"No prediction with id {prediction_id!r}.",
            code="prediction_not_found",
            details={"prediction_id": prediction_id},
        )
    shown = session.scalars(
        select(PredictionTrack)
        .where(PredictionTrack.prediction_id == prediction_id)
        .where(PredictionTrack.track_id == track_id)
        .limit(1)
    ).first()
    return prediction, shown


def record_feedback(  # noqa: PLR0913 - keyword per feedback column; the web API names them
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

    With ``prediction_id`` the prediction must exist and be the same client's (else
    ``NotFound``, code ``prediction_not_found``: a prediction made for a client is theirs
    alone, so nobody else — nor an anonymous caller — can attach feedback to it, and its
    client id is never taken over); the song's artist and genre are copied from the
    prediction's list when the song was in it.
    """
    checked_kind = check_kind(kind)
    track = check_track_id(track_id)
    client = check_client_id(client_id)
    text = _check_comment(comment)
    with db.write() as session:
        if prediction_id is not None:
            _, shown = _shown_in(session, prediction_id, track, client)
            if shown is not None:
                artist = artist or shown.artist
                genre = genre or shown.genre
        row = Feedback(
            prediction_id=prediction_id,
            client_id=client,
            track_id=track,
            artist=clip(artist, 512),
            genre=clip(genre, 64),
            kind=checked_kind,
            comment=text,
        )
        session.add(row)
        session.flush()
        return row.id


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
        latest[track_id] = Opinion(track_id, check_kind(kind), artist, at)
    return list(reversed(latest.values()))


@dataclass(frozen=True)
class Votes:
    """How many voters' latest opinion on one song is each kind."""

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
