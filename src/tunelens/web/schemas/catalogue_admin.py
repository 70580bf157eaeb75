"""Bodies of the admin routes that change the catalogue (``/api/v1/admin/catalogue/…``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

#: most songs one request may add or remove (bigger changes: ``tunelens catalog add``)
MAX_CHANGE = 10_000


class CatalogueAdd(BaseModel):
    """Songs to add, each one object as a line of a JSON Lines catalogue source (``id``,
    ``title``, ``artist``, audio features at top level or under ``features``, …)."""

    tracks: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_CHANGE)


class CatalogueRemove(BaseModel):
    """Ids of the songs to remove."""

    ids: list[str] = Field(min_length=1, max_length=MAX_CHANGE)


class CatalogueChange(BaseModel):
    """What a change did and the version now served."""

    version: int
    added: int
    replaced: int
    removed: int
    unknown: list[str]
    compacted: bool
    tracks: int
    skipped: list[str] = Field(default_factory=list, description="rows refused, with reasons")
