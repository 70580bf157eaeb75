"""Body of ``GET /api/v1/predictions/{id}``: a recent answer worded in another language."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tunelens.core.types import Explanation, Labels, RecommendedTrack


class RewordedOut(BaseModel):
    """The same songs, order, scores and regions as the answer had, in `lang`'s words."""

    prediction_id: str
    lang: str = Field(description="language of the texts in this answer")
    lang_fallback: bool = False
    lang_notice: str | None = None
    tracks: list[RecommendedTrack] = Field(description="the answer's songs, reasons in `lang`")
    explanation: Explanation | None = Field(
        default=None, description="the explanation in `lang` (`heatmap` is null: keep yours)"
    )
    labels: Labels | None = None
    notices: list[str] = Field(default_factory=list, description="short lines for the visitor")
    notice_codes: list[str] = Field(default_factory=list)
