"""Body of ``GET /api/v1/vocab/{kind}``: an emotion, genre or scene vocabulary."""

from __future__ import annotations

from pydantic import BaseModel, Field


class VocabTermOut(BaseModel):
    name: str
    valence: float | None = None
    arousal: float | None = None
    phrases: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)


class VocabResponse(BaseModel):
    kind: str = Field(description="`emotions`, `genres` or `scenes`")
    names: list[str]
    terms: list[VocabTermOut]
