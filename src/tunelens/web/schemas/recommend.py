"""Bodies of ``/api/v1/recommend`` and its batch form (the shared reading and songs come from
:mod:`tunelens.core.types`, so the CLI's ``--json`` and the API describe a picture alike)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tunelens.core.types import Recommendation
from tunelens.web.schemas.errors import ErrorBody


class UploadOut(BaseModel):
    """What happened to the picture after the answer: kept (with consent) or not."""

    status: Literal["stored", "pending", "declined", "not_kept"] = Field(
        description="`stored`: kept; `pending`: kept, waiting in the outbox for the store; "
        "`declined`: no consent, not kept; `not_kept`: consent given but storage is "
        "unavailable, so nothing was kept"
    )
    kept: bool
    sha256: str = Field(description="the picture's fingerprint, to ask for its deletion")
    message: str | None = None


class RecommendationOut(Recommendation):
    """One picture's answer. Its `notices` are short lines for the visitor in `lang`."""

    prediction_id: str = Field(description="id of this answer (send it with feedback)")
    notice_codes: list[str] = Field(
        default_factory=list,
        description="stable codes of the lines in `notices` (e.g. `colour_fallback`): "
        "`/health` has the operator's full notices",
    )
    lang: str = Field(description="language of the texts in this answer")
    lang_fallback: bool = Field(
        default=False, description="true when the requested `lang` is not available (English)"
    )
    lang_notice: str | None = Field(
        default=None, description="says that the requested language is not available"
    )
    upload: UploadOut | None = Field(
        default=None, description="what happened to the picture (consent field); null: not asked"
    )


class BatchItem(BaseModel):
    index: int = Field(description="position of the part in the request, from 0")
    filename: str | None = None
    ok: bool
    recommendation: RecommendationOut | None = None
    error: ErrorBody | None = None


class BatchResponse(BaseModel):
    count: int
    succeeded: int
    failed: int
    results: list[BatchItem]
