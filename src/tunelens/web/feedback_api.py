"""``POST /api/v1/feedback``: like / dislike / not interested / played on one song.

The row is committed before the answer (201), so a client that got its 2xx never loses the
feedback, even if the server dies right after. The listener is named by the body's
``client_id``, the ``X-Client-Id`` header or the page's ``tunelens_client`` cookie (in that
order); without one, the feedback still counts in the per-song priors and the analytics, and
it takes the client of the prediction it names.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from tunelens.core.errors import NotFound
from tunelens.storage import repository as repo
from tunelens.storage.db import Database, Feedback
from tunelens.web.data_loop import DataLoop, client_id_from, get_data_loop
from tunelens.web.models import ErrorResponse
from tunelens.web.state import ServiceState, get_state

router = APIRouter(prefix="/api/v1", tags=["feedback"])


class FeedbackIn(BaseModel):
    """One listener's opinion on (or play of) one song."""

    track_id: str = Field(description="the song, as in the recommend answer's `track.id`")
    kind: str = Field(description="`like`, `dislike`, `not_interested` or `played`")
    prediction_id: str | None = Field(
        default=None, description="the answer the song was shown in (`prediction_id`)"
    )
    comment: str | None = Field(default=None, description="optional, up to 1000 characters")
    client_id: str | None = Field(
        default=None,
        description="anonymous listener id; default: the `X-Client-Id` header or the "
        "`tunelens_client` cookie",
    )


class FeedbackOut(BaseModel):
    status: str = "recorded"
    id: int = Field(description="the feedback row's id")
    track_id: str
    kind: str
    prediction_id: str | None = None
    client_id: str | None = None


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorResponse} for s in statuses}


@router.post(
    "/feedback",
    status_code=201,
    response_model=FeedbackOut,
    responses=_errors(404, 413, 422, 503),
    summary="Like, dislike, not interested or played",
)
async def post_feedback(
    request: Request,
    body: FeedbackIn,
    state: Annotated[ServiceState, Depends(get_state)],
    loop: Annotated[DataLoop, Depends(get_data_loop)],
) -> FeedbackOut:
    """Record one piece of feedback. `dislike` and `not_interested` take the song out of this
    listener's following results (and, after repeated dislikes, the artist); `like` lifts
    similar songs; every opinion moves the song's prior for everyone a little. Errors:
    `invalid_feedback_kind`, `invalid_track_id`, `invalid_client_id`, `comment_too_long`
    (422), `prediction_not_found`, `track_not_found` (404), `database_unavailable` (503)."""
    db = loop.require_db()
    client = client_id_from(request, body.client_id)
    artist = genre = None
    engine = state.engine
    if engine is not None:  # the catalogue names the artist, so "more like this" songs count too
        row = engine.recommender.id_to_row.get(body.track_id.strip())
        if row is None:
            raise NotFound(
                f"There is no track with id {body.track_id!r} in the catalogue.",
                code="track_not_found",
                details={"track_id": body.track_id},
            )
        track = engine.recommender.tracks[row]
        artist, genre = track.artist, track.genre
    feedback_id, stored_client = await loop.run(
        _record,
        db,
        track_id=body.track_id,
        kind=body.kind,
        prediction_id=body.prediction_id,
        client_id=client,
        comment=body.comment,
        artist=artist,
        genre=genre,
    )
    return FeedbackOut(
        id=feedback_id,
        track_id=body.track_id.strip(),
        kind=body.kind,
        prediction_id=body.prediction_id,
        client_id=stored_client,
    )


def _record(db: Database, **fields: Any) -> tuple[int, str | None]:
    """Record (committed on return) and read back the client id the row was stored with
    (the prediction's, when the request named none)."""
    feedback_id = repo.record_feedback(db, **fields)
    with db.read() as session:
        row = session.get(Feedback, feedback_id)
        return feedback_id, row.client_id if row is not None else None
