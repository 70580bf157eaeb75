"""Bodies of ``POST /api/v1/feedback``."""

from __future__ import annotations

from pydantic import BaseModel, Field


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
        description="your client token from `POST /api/v1/clients` (default: "
        "`Authorization: Bearer`, the `X-Client-Id` header or the page's cookie); an id that "
        "the server did not sign is refused (401 `invalid_client_token`)",
    )


class FeedbackOut(BaseModel):
    status: str = "recorded"
    id: int = Field(description="the feedback row's id")
    track_id: str
    kind: str
    prediction_id: str | None = None
    client_id: str | None = Field(
        default=None, description="your own client id (null when the feedback is anonymous)"
    )
