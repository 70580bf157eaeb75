"""Bodies and query of the regional playlists (``/api/v1/playlists``) and the playlist export
(``POST /api/v1/export``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Header, Query
from pydantic import BaseModel, Field

#: the most songs one exported playlist may hold
MAX_EXPORT_TRACKS = 500


@dataclass(frozen=True)
class PlaylistQuery:
    """The query of ``GET /api/v1/playlists`` (FastAPI fills it in as one dependency, so the
    route takes one parameter instead of five)."""

    region: Annotated[str | None, Query(description="region id, e.g. `global`, `khaleeji`")] = None
    genre: Annotated[str | None, Query(description="only this vibe genre, e.g. `rock`")] = None
    mood: Annotated[
        str | None, Query(description="only this mood: happy, energetic, calm, sad, intense")
    ] = None
    lang: Annotated[
        str | None, Query(description="language of the region labels (default: Accept-Language)")
    ] = None
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None


class PlaylistEntryOut(BaseModel):
    title: str
    provider: Literal["youtube", "spotify"]
    kind: Literal["playlist", "search"] = Field(
        description="`playlist`: a verified id, played in an embed; `search`: a search link"
    )
    playlist_id: str | None = None
    query: str | None = None
    url: str = Field(description="the playlist or search page on YouTube / Spotify")
    embed_url: str | None = Field(
        default=None,
        description="player URL (youtube-nocookie.com or open.spotify.com) for id entries",
    )


class PlaylistGroupOut(BaseModel):
    kind: Literal["genre", "mood"]
    name: str
    entries: list[PlaylistEntryOut]


class RegionOut(BaseModel):
    id: str
    label: str


class PlaylistsOut(BaseModel):
    region: RegionOut
    regions: list[RegionOut] = Field(description="every region, for a region selector")
    genres: list[str] = Field(description="vibe genres this region has playlists for")
    moods: list[str] = Field(description="moods this region has playlists for")
    groups: list[PlaylistGroupOut]


class ExportRequest(BaseModel):
    track_ids: list[str] = Field(
        min_length=1, max_length=MAX_EXPORT_TRACKS, description="the songs, in playlist order"
    )
    title: str | None = Field(default=None, max_length=200, description="the playlist's title")
