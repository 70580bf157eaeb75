"""``POST /api/v1/feedback``: like / dislike / not interested / played on one song.

The row is committed before the answer (201), so a client that got its 2xx never loses the
feedback, even if the server dies right after. The listener is named by the body's
``client_id``, the ``X-Client-Id`` header or the page's ``tunelens_client`` cookie (in that
order); without one, the feedback still counts in the per-song priors and the analytics, and
it takes the client of the prediction it names.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tunelens.core.errors import NotFound
from tunelens.storage import repository as repo
from tunelens.storage.db import Database, Feedback
from tunelens.web.deps import ServingDep
from tunelens.web.schemas.errors import error_responses
from tunelens.web.schemas.feedback import FeedbackIn, FeedbackOut
from tunelens.web.services.listener import client_id_from
from tunelens.web.services.state import ServiceState

router = APIRouter(prefix="/api/v1", tags=["feedback"])


def _artist_and_genre(state: ServiceState, track_id: str) -> tuple[str | None, str | None]:
    """The song's artist and genre from the catalogue (so "more like this" songs count too);
    404 ``track_not_found`` for an id the loaded catalogue lacks, (None, None) without one."""
    engine = state.engine
    if engine is None:
        return None, None
    track = engine.track(track_id.strip())
    if track is None:
        raise NotFound(
            f"There is no track with id {track_id!r} in the catalogue.",
            code="track_not_found",
            details={"track_id": track_id},
        )
    return track.artist, track.genre


@router.post(
    "/feedback",
    status_code=201,
    response_model=FeedbackOut,
    responses=error_responses(404, 413, 422, 503),
    summary="Like, dislike, not interested or played",
)
async def post_feedback(serving: ServingDep, body: FeedbackIn) -> FeedbackOut:
    """Record one piece of feedback. `dislike` and `not_interested` take the song out of this
    listener's following results (and, after repeated dislikes, the artist); `like` lifts
    similar songs; every opinion moves the song's prior for everyone a little. Errors:
    `invalid_feedback_kind`, `invalid_track_id`, `invalid_client_id`, `comment_too_long`
    (422), `prediction_not_found`, `track_not_found` (404), `database_unavailable` (503)."""
    loop = serving.loop
    db = loop.require_db()
    client = client_id_from(serving.request, body.client_id)
    artist, genre = _artist_and_genre(serving.state, body.track_id)
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
