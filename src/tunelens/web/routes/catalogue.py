"""``GET /api/v1/tracks/{track_id}``: one song of the loaded catalogue."""

from __future__ import annotations

from fastapi import APIRouter

from tunelens.catalogue.models import track_out
from tunelens.core.errors import NotFound
from tunelens.core.types import TrackOut
from tunelens.web.deps import StateDep
from tunelens.web.schemas.errors import error_responses

router = APIRouter(prefix="/api/v1")


@router.get(
    "/tracks/{track_id}",
    response_model=TrackOut,
    responses=error_responses(404, 503),
    tags=["catalogue"],
    summary="One song of the catalogue",
)
async def get_track(state: StateDep, track_id: str) -> TrackOut:
    engine = state.require_engine()
    track = engine.track(track_id)
    if track is None:
        raise NotFound(
            f"There is no track with id {track_id!r} in the catalogue.",
            details={"track_id": track_id},
        )
    return track_out(track)
