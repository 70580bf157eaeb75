"""Bodies of ``POST /api/v1/similar`` ("more like this")."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tunelens.core.types import AudioTarget, Reading, RecommendedTrack, TrackOut


class SimilarRequest(BaseModel):
    """More like this: a song plus (optionally) the picture's reading or target."""

    track_id: str = Field(description="the song to find more like")
    reading: Reading | None = Field(
        default=None, description="the picture's reading (from a recommend answer)"
    )
    target: AudioTarget | None = Field(
        default=None, description="the picture's target profile (from a recommend answer)"
    )
    exclude: list[str] = Field(default_factory=list, description="ids already shown")
    top_k: int | None = Field(default=None, description="songs to return (default 10)")
    lang: str | None = Field(
        default=None, description="language of the reasons (default: Accept-Language, English)"
    )
    client_id: str | None = Field(
        default=None,
        description="client token whose feedback applies (from `POST /api/v1/clients`; "
        "default: `Authorization: Bearer`, the `X-Client-Id` header or the page's cookie)",
    )


class SimilarResponse(BaseModel):
    seed: TrackOut
    reading: Reading = Field(description="the reading steered towards the seed song")
    target: AudioTarget = Field(description="the target steered towards the seed song")
    tracks: list[RecommendedTrack]
    lang: str = Field(default="en", description="language of the reasons")
    lang_fallback: bool = False
    lang_notice: str | None = None
