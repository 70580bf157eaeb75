"""``tunelens playlists``: list the regional playlists and check a playlists file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunelens.cli.common import EXIT_USER_ERROR, CliFailure, fail, out, say_error
from tunelens.core.errors import TunelensError
from tunelens.core.settings import get_settings
from tunelens.playlists.regional import groups, load_playlists


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
        config = load_playlists(file or get_settings().playlists_file)
    except TunelensError as error:
        raise fail(error) from None
    region_id = region or config.default_region
    if region_id not in config.regions:
        say_error(f"no region {region_id!r}; known: {', '.join(config.regions)}")
        raise CliFailure(EXIT_USER_ERROR)
    out.print(f"regions: {', '.join(config.regions)}", highlight=False)
    for group in groups(config, region_id, genre=genre, mood=mood):
        out.print(f"[bold]{config.regions[region_id].label} · {group.kind} {group.name}[/]")
        for entry in group.entries:
            out.print(
                f"  {entry.title} ({entry.provider}, {entry.kind}): {entry.url}", highlight=False
            )


def register(app: typer.Typer) -> None:
    app.command()(playlists)
