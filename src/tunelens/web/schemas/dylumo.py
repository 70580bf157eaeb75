"""Bodies of DyLuMo's routes (``/health``, ``/stats``, ``/emotions``, ``POST /recommend``).

They keep DyLuMo's field names exactly; tunelens's additions are extra keys, which never break
a DyLuMo client.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from tunelens.core.types import EncoderInfo, Explanation, Labels, Reading
from tunelens.web.schemas.errors import ErrorBody
from tunelens.web.schemas.recommend import UploadOut


class DylumoEmotion(BaseModel):
    predicted_emotion: str = Field(description="one of DyLuMo's 7 emotions")
    confidence: float
    all_probabilities: dict[str, float] = Field(
        description="DyLuMo's 7 emotions (Mikels without disgust), renormalised to sum to 1"
    )


class DylumoTrack(BaseModel):
    rank: int
    track_id: str
    track_name: str
    artist_name: str
    emotion: str = Field(description="the song's emotion by DyLuMo's rule ('unknown' if unsure)")
    similarity_score: float = Field(description="tunelens's overall score in [0, 1]")
    # tunelens extras
    album: str | None = None
    genre: str | None = None
    subgenre: str | None = None
    popularity: float | None = None
    reasons: list[str] = Field(default_factory=list)
    score_parts: dict[str, float] = Field(default_factory=dict)
    links: dict[str, str] = Field(default_factory=dict)
    embed_url: str | None = Field(default=None, description="Spotify embed player URL")


class DylumoMetadata(BaseModel):
    top_k: int
    total_songs_in_db: int
    device: str
    encoder: str
    lang: str


class DylumoRecommendResponse(BaseModel):
    status: Literal["success"] = "success"
    emotion: DylumoEmotion
    recommendations: list[DylumoTrack]
    inference_time: str = Field(description='seconds with an "s", e.g. "0.06s"')
    metadata: DylumoMetadata
    # tunelens extras
    reading: Reading
    encoder: EncoderInfo
    prediction_id: str
    notices: list[str] = Field(
        default_factory=list, description="short lines for the visitor, in `lang`"
    )
    notice_codes: list[str] = Field(
        default_factory=list,
        description="stable codes of the lines in `notices` (e.g. `colour_fallback`): "
        "`/health` has the operator's full notices",
    )
    timings_ms: dict[str, float] = Field(default_factory=dict)
    explanation: Explanation | None = None
    labels: Labels | None = None
    upload: UploadOut | None = None
    lang: str = Field(default="en", description="language of the texts (also `metadata.lang`)")
    lang_fallback: bool = Field(
        default=False, description="true when the requested `lang` is not available (English)"
    )
    lang_notice: str | None = Field(
        default=None, description="says that the requested language is not available"
    )


class DylumoEmotions(BaseModel):
    status: Literal["success"] = "success"
    emotions: list[str] = Field(description="DyLuMo's 7 emotions, in its model order")
    all_emotions: list[str] = Field(description="tunelens's 8 Mikels emotions")


class FeedbackFigures(BaseModel):
    predictions_recorded: int
    feedback: dict[str, int] = Field(description="feedback rows per kind")
    like_rate: float | None = Field(description="likes / (likes + dislikes)")


class LatencySummary(BaseModel):
    p50: float
    p95: float
    window: int = Field(description="how many recent recommend requests the percentiles cover")


class ServiceStatsOut(BaseModel):
    """DyLuMo's stats object plus tunelens's counters (DyLuMo keys are absent until loaded)."""

    status: Literal["loaded", "not_loaded"]
    device: str | None = None
    model_parameters: str | None = None
    songs_indexed: int | None = None
    emotions: list[str] | None = None
    visual_model: str | None = None
    # tunelens extras
    requests_served: int
    responses_by_status: dict[str, int]
    recommendations_served: int
    images_read: int
    emotion_distribution: dict[str, int]
    latency_ms: LatencySummary
    catalogue_size: int | None = None
    uptime_s: float
    feedback: FeedbackFigures | None = Field(
        default=None, description="from the database (`/stats` only; null when unavailable)"
    )


class HealthResponse(BaseModel):
    status: Literal["healthy", "degraded", "starting"]
    model_loaded: bool
    stats: ServiceStatsOut
    # tunelens extras
    version: str
    encoder: EncoderInfo | None = None
    pretrained: bool | None = Field(default=None, description="False for colour or random weights")
    fallback: bool | None = Field(default=None, description="True when auto fell back to colour")
    catalogue_size: int | None = None
    catalogue_version: int | None = Field(
        default=None,
        description="the catalogue version served (it grows with every `catalog add`/`remove`)",
    )
    catalogue_hash: str | None = Field(
        default=None,
        description="the served catalogue's hash: servers behind one balancer that answer "
        "alike show the same one",
    )
    uptime_s: float
    load_seconds: float | None = None
    notices: list[str] = Field(default_factory=list)
    error: ErrorBody | None = Field(default=None, description="why the engine is not loaded")
    database: dict[str, Any] | None = Field(
        default=None,
        description="`status` (`ok`/`unavailable`/`starting`), `backend`, `error`, `uploads` "
        "(blob backend), `outbox_pending`, `prior_strength`",
    )
    heads: dict[str, dict[str, Any]] | None = Field(
        default=None,
        description="per task (`emotion`, `genre`): `kind` `trained` (with `version`, "
        "`accuracy`, `baseline_accuracy`), `zero-shot` or `colour`; `features`: `kind` "
        "`learned` (with `active` version, `model`, `blend` and the report's key `figures`) "
        "or `mapping`",
    )
