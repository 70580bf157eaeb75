"""``POST /api/v1/feedback``: like / dislike / not interested / played on one song.

The row is committed before the answer (201), so a client that got its 2xx never loses the
feedback, even if the server dies right after. The listener is the request's verified client
identity (:mod:`tunelens.web.services.identity`: the page's cookie, or a token from
``POST /api/v1/clients``); without one, the feedback still counts in the per-song priors and
the analytics, anonymously. A ``prediction_id`` must be the caller's own (or an anonymous
one): another client's is answered like an unknown id, and nobody else's id is ever echoed.
"""

from __future__ import annotations

from fastapi import APIRouter

from tunelens.core.errors import NotFound
from tunelens.storage import repository as repo
from tunelens.web.deps import ServingDep
from tunelens.web.schemas.errors import error_responses
from tunelens.web.schemas.feedback import FeedbackIn, FeedbackOut
from tunelens.web.services.identity import client_from
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
    responses=error_responses(401, 404, 413, 422, 503),
    summary="Like, dislike, not interested or played",
)
async def post_feedback(serving: ServingDep, body: FeedbackIn) -> FeedbackOut:
    """Record one piece of feedback. `dislike` and `not_interested` take the song out of this
    listener's following results (and, after repeated dislikes, the artist); `like` lifts
    similar songs; every opinion moves the song's prior for everyone a little. Errors:
    `invalid_feedback_kind`, `invalid_track_id`, `comment_too_long` (422),
    `invalid_client_token` (401), `prediction_not_found`, `track_not_found` (404),
    `database_unavailable` (503)."""
    loop = serving.loop
    db = loop.require_db()
    client = client_from(serving.request, body.client_id)
    artist, genre = _artist_and_genre(serving.state, body.track_id)
    feedback_id = await loop.run(
        repo.record_feedback,
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
        client_id=client,  # the caller's own id (from their token), never another's
    )
