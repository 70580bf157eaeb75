"""Routes around a recommendation: LLM commentary, regional playlists, playlist export.

Kept apart from :mod:`tunelens.web.api` (the recommend routes) so each module stays small."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, Field

from tunelens import i18n
from tunelens.core import vocab
from tunelens.core.errors import InvalidRequest, NotFound
from tunelens.explain.llm import LlmConfig, commentary
from tunelens.i18n.labels import region_label
from tunelens.playlists.export import FORMATS, export_playlist
from tunelens.playlists.regional import MOODS, PlaylistStore, groups
from tunelens.recommend.ranking import track_out
from tunelens.web.models import ErrorResponse
from tunelens.web.state import ServiceState, get_state

router = APIRouter(prefix="/api/v1")
StateDep = Annotated[ServiceState, Depends(get_state)]


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorResponse} for s in statuses}


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


@router.get(
    "/predictions/{prediction_id}/commentary",
    response_model=CommentaryOut,
    responses=_errors(404),
    tags=["explain"],
    summary="LLM commentary on a recent recommendation",
)
async def get_commentary(state: StateDep, prediction_id: str) -> CommentaryOut:
    """A few sentences from the configured OpenAI-compatible model about why the photo suits
    its mood, given the photo and its heatmap (as the recommend answer had it). Recent answers
    are kept in memory (`TUNELENS_PREDICTION_CACHE_SIZE`, default 128; with several workers also
    in `TUNELENS_PREDICTION_CACHE_DIR`); an older or unknown id is 404 `not_found`. Without an LLM, or when it fails (timeout, error, unreadable reply,
    after one retry), the answer is the template explanation with a `notice` saying why."""
    entry = state.predictions.get(prediction_id)
    if entry is None:
        raise NotFound(
            "That prediction is not in memory any more (or never was); analyse the photo again.",
            details={"prediction_id": prediction_id},
        )
    async with entry.lock:  # one model call per prediction, however many ask at once
        result = entry.commentary
        if result is None:
            result = await commentary(
                LlmConfig.from_settings(state.settings),
                entry.reading,
                fallback_text=entry.text,
                photo_url=entry.photo_url,
                heatmap_url=entry.heatmap_url,
                regions=entry.regions,
                lang=entry.lang,
            )
            if result.source == "llm":  # failures are not kept: asking again may succeed
                entry.commentary = result
    return CommentaryOut(
        prediction_id=prediction_id,
        source=result.source,
        text=result.text,
        notice=result.notice,
        model=result.model,
        lang=entry.lang,
    )


# --- regional playlists -----------------------------------------------------------------------


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


def playlist_store(request: Request) -> PlaylistStore:
    store = request.app.state.playlists
    assert isinstance(store, PlaylistStore)
    return store


@router.get(
    "/playlists",
    response_model=PlaylistsOut,
    responses=_errors(404, 422, 503),
    tags=["explain"],
    summary="Regional playlists by vibe genre and mood",
)
async def get_playlists(
    store: Annotated[PlaylistStore, Depends(playlist_store)],
    region: Annotated[str | None, Query(description="region id, e.g. `global`, `khaleeji`")] = None,
    genre: Annotated[str | None, Query(description="only this vibe genre, e.g. `rock`")] = None,
    mood: Annotated[
        str | None, Query(description="only this mood: happy, energetic, calm, sad, intense")
    ] = None,
    lang: Annotated[
        str | None, Query(description="language of the region labels (default: Accept-Language)")
    ] = None,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> PlaylistsOut:
    """Playlists of one region (default: the file's `default_region`), grouped by vibe genre
    and mood; with `genre` and/or `mood`, only those groups (empty when the region has none).
    A recommend answer's `explanation.mood` and top `reading.genres` are the natural values."""
    config = store.get()
    region_id = (region or config.default_region).strip().lower()
    if region_id not in config.regions:
        raise NotFound(
            f"There is no playlist region {region_id!r}; try {', '.join(config.regions)}.",
            details={"region": region_id, "known": list(config.regions)},
        )
    genres = vocab.genres().names
    if genre is not None and genre not in genres:
        raise InvalidRequest(
            f"genre must be one of {', '.join(genres)}, got {genre!r}.",
            details={"genre": genre, "known": genres},
        )
    if mood is not None and mood not in MOODS:
        raise InvalidRequest(
            f"mood must be one of {', '.join(MOODS)}, got {mood!r}.",
            details={"mood": mood, "known": list(MOODS)},
        )
    chosen = config.regions[region_id]
    tr = i18n.translator(i18n.negotiate(lang, accept_language=accept_language).lang)
    return PlaylistsOut(
        region=RegionOut(id=region_id, label=region_label(tr, region_id, chosen.label)),
        regions=[
            RegionOut(id=k, label=region_label(tr, k, r.label)) for k, r in config.regions.items()
        ],
        genres=list(chosen.genre),
        moods=list(chosen.mood),
        groups=[
            PlaylistGroupOut(
                kind=group.kind,
                name=group.name,
                entries=[
                    PlaylistEntryOut(
                        title=e.title,
                        provider=e.provider,
                        kind=e.kind,
                        playlist_id=e.playlist_id,
                        query=e.query,
                        url=e.url,
                        embed_url=e.embed_url,
                    )
                    for e in group.entries
                ],
            )
            for group in groups(config, region_id, genre=genre, mood=mood)
        ],
    )


# --- playlist export ------------------------------------------------------------------------------

MAX_EXPORT_TRACKS = 500


class ExportRequest(BaseModel):
    track_ids: list[str] = Field(
        min_length=1, max_length=MAX_EXPORT_TRACKS, description="the songs, in playlist order"
    )
    title: str | None = Field(default=None, max_length=200, description="the playlist's title")


@router.post(
    "/export",
    response_class=Response,
    responses={
        200: {
            "description": "the playlist file (an attachment)",
            "content": {"audio/x-mpegurl": {}, "application/jspf+json": {}},
        },
        **_errors(404, 422, 503),
    },
    tags=["explain"],
    summary="The songs as an M3U8 or JSPF playlist",
)
async def export_playlist_route(
    state: StateDep,
    body: ExportRequest,
    fmt: Annotated[str, Query(alias="format", description="`m3u8` or `jspf`")] = "m3u8",
) -> Response:
    """M3U8 (`#EXTM3U`, `#EXTINF:<seconds>,<artist> - <title>`, Spotify URL) or JSPF
    (`playlist.track[]` with `title`, `creator`, `album`, `location`, `identifier`,
    `duration` in ms) for catalogue track ids; duplicates are dropped, unknown ids are 404."""
    if fmt not in FORMATS:
        raise InvalidRequest(
            f"format must be m3u8 or jspf, got {fmt!r}.",
            code="invalid_export_format",
            details={"actual": fmt, "known": list(FORMATS)},
        )
    engine = state.require_engine()
    rows = [engine.recommender.id_to_row.get(track_id) for track_id in body.track_ids]
    unknown = [t for t, row in zip(body.track_ids, rows, strict=True) if row is None]
    if unknown:
        raise NotFound(
            f"{len(unknown)} of the track ids are not in the catalogue: {', '.join(unknown[:5])}"
            + (" …" if len(unknown) > 5 else "")
            + ".",
            details={"unknown": unknown[:50]},
        )
    tracks = [track_out(engine.recommender.tracks[row]) for row in rows if row is not None]
    title = body.title or "tunelens"
    exported = export_playlist(tracks, fmt, title=title)
    filename = f"tunelens-playlist.{fmt}"
    return Response(
        content=exported.text.encode("utf-8"),
        media_type=exported.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
