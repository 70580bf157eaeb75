"""Body of ``GET /api/v1/predictions/{id}/commentary``: the LLM's words on a recent answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class CommentaryOut(BaseModel):
    prediction_id: str
    source: Literal["llm", "template"] = Field(
        description="`llm` when the model answered; `template` for tunelens's own text"
    )
    text: str
    notice: str | None = Field(
        default=None, description="why the template text is shown instead (in `lang`)"
    )
    model: str | None = None
    lang: str
