"""``tunelens playlists``: list the regional playlists and check a playlists file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tunelens.cli.common import EXIT_USAGE, EXIT_USER_ERROR, CliFailure, fail, out, say_error
from tunelens.core.errors import TunelensError
from tunelens.core.settings import get_settings
from tunelens.playlists.regional import check_filters, groups, load_playlists


def playlists(
    region: Annotated[str | None, typer.Option(help="Region id (default: the file's).")] = None,
    genre: Annotated[str | None, typer.Option(help="Only this vibe genre.")] = None,
    mood: Annotated[str | None, typer.Option(help="Only this mood.")] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", help="A playlists TOML to check (default: TUNELENS_PLAYLISTS_FILE)."
        ),
    ] = None,
) -> None:
    """List regional playlists, and check a playlists file (errors name the line)."""
    try:
        check_filters(genre, mood)  # an unknown genre or mood is a usage error, as the API's 422
    except TunelensError as error:
        raise fail(error, EXIT_USAGE) from None
    try:
        config = load_playlists(file or get_settings().playlists_file)
    except TunelensError as error:
        raise fail(error) from None
    region_id = region or config.default_region
    if region_id not in config.regions:
        say_error(f"no region {region_id!r}; known: {', '.join(config.regions)}")
        raise CliFailure(EXIT_USER_ERROR)
    out.print(f"regions: {', '.join(config.regions)}", highlight=False)
    chosen = groups(config, region_id, genre=genre, mood=mood)
    if not chosen:
        wanted = " and ".join(f"{k} {v}" for k, v in (("genre", genre), ("mood", mood)) if v)
        out.print(f"no playlists for {wanted} in {region_id}", highlight=False)
    for group in chosen:
        label = escape(f"{config.regions[region_id].label} · {group.kind} {group.name}")
        out.print(f"[bold]{label}[/]")
        for entry in group.entries:
            out.print(
                f"  {entry.title} ({entry.provider}, {entry.kind}): {entry.url}", highlight=False
            )


def register(app: typer.Typer) -> None:
    app.command()(playlists)
