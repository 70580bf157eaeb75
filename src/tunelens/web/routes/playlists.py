"""Regional playlists (``GET /api/v1/playlists``) and the playlist export
(``POST /api/v1/export``): where a recommendation can be listened to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from tunelens import i18n
from tunelens.catalogue.models import track_out
from tunelens.core.errors import InvalidRequest, NotFound
from tunelens.i18n.labels import region_label
from tunelens.playlists.export import FORMATS, export_playlist
from tunelens.playlists.regional import PlaylistGroup, check_filters, groups
from tunelens.web.deps import PlaylistsDep, StateDep
from tunelens.web.schemas.errors import error_responses
from tunelens.web.schemas.playlists import (
    ExportRequest,
    PlaylistEntryOut,
    PlaylistGroupOut,
    PlaylistQuery,
    PlaylistsOut,
    RegionOut,
)

router = APIRouter(prefix="/api/v1")


def _check_filters(query: PlaylistQuery) -> None:
    """422 for a genre or mood that no playlist can be filed under."""
    check_filters(query.genre, query.mood)


def _group_out(group: PlaylistGroup) -> PlaylistGroupOut:
    return PlaylistGroupOut(
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


@router.get(
    "/playlists",
    response_model=PlaylistsOut,
    responses=error_responses(404, 422, 503),
    tags=["explain"],
    summary="Regional playlists by vibe genre and mood",
)
async def get_playlists(
    store: PlaylistsDep, query: Annotated[PlaylistQuery, Depends()]
) -> PlaylistsOut:
    """Playlists of one region (default: the file's `default_region`), grouped by vibe genre
    and mood; with `genre` and/or `mood`, only those groups (empty when the region has none).
    A recommend answer's `explanation.mood` and top `reading.genres` are the natural values."""
    config = store.get()
    region_id = (query.region or config.default_region).strip().lower()
    if region_id not in config.regions:
        raise NotFound(
            f"There is no playlist region {region_id!r}; try {', '.join(config.regions)}.",
            details={"region": region_id, "known": list(config.regions)},
        )
    _check_filters(query)
    chosen = config.regions[region_id]
    tr = i18n.translator(i18n.negotiate(query.lang, accept_language=query.accept_language).lang)
    return PlaylistsOut(
        region=RegionOut(id=region_id, label=region_label(tr, region_id, chosen.label)),
        regions=[
            RegionOut(id=k, label=region_label(tr, k, r.label)) for k, r in config.regions.items()
        ],
        genres=list(chosen.genre),
        moods=list(chosen.mood),
        groups=[
            _group_out(group)
            for group in groups(config, region_id, genre=query.genre, mood=query.mood)
        ],
    )


@router.post(
    "/export",
    response_class=Response,
    responses={
        200: {
            "description": "the playlist file (an attachment)",
            "content": {"audio/x-mpegurl": {}, "application/jspf+json": {}},
        },
        **error_responses(404, 422, 503),
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
    found = [engine.track(track_id) for track_id in body.track_ids]
    unknown = [t for t, track in zip(body.track_ids, found, strict=True) if track is None]
    if unknown:
        raise NotFound(
            f"{len(unknown)} of the track ids are not in the catalogue: {', '.join(unknown[:5])}"
            + (" …" if len(unknown) > 5 else "")
            + ".",
            details={"unknown": unknown[:50]},
        )
    tracks = [track_out(track) for track in found if track is not None]
    title = body.title or "tunelens"
    exported = export_playlist(tracks, fmt, title=title)
    filename = f"tunelens-playlist.{fmt}"
    return Response(
        content=exported.text.encode("utf-8"),
        media_type=exported.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
