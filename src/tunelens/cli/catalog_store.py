"""``tunelens catalog upgrade|add|remove|compact``: change a built catalogue in place.

Each command writes one new catalogue version (see :mod:`tunelens.catalogue.store`); a running
``tunelens serve`` notices it within a few seconds and switches to it without a restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunelens.catalogue.changes import ChangeResult, add_tracks, compact, remove_tracks
from tunelens.catalogue.load_report import RowProblem
from tunelens.catalogue.loaders import load_source
from tunelens.catalogue.upgrade import upgrade_catalogue
from tunelens.cli.catalog import SHOWN_PROBLEMS, catalog_app
from tunelens.cli.common import err, fail, out, print_json
from tunelens.core.errors import TunelensError

Directory = Annotated[Path, typer.Argument(help="The catalogue directory.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _skipped(problems: list[RowProblem]) -> None:
    for problem in problems[:SHOWN_PROBLEMS]:
        err.print(f"  skipped line {problem.line}: {problem.reason}", highlight=False)
    if len(problems) > SHOWN_PROBLEMS:
        err.print(f"  … and {len(problems) - SHOWN_PROBLEMS} more skipped rows", highlight=False)


def _say(result: ChangeResult, as_json: bool, what: str) -> None:
    if as_json:
        print_json(result.to_dict())
        return
    line = f"{what}; catalogue version {result.version}, {result.tracks:,} songs"
    if result.compacted:
        line += " (compacted)"
    out.print(line, highlight=False)


@catalog_app.command("upgrade")
def catalog_upgrade(directory: Directory) -> None:
    """Convert a catalogue of an older tunelens (tracks.jsonl) to the current format."""
    try:
        meta = upgrade_catalogue(directory)
    except TunelensError as error:
        raise fail(error) from None
    if meta is None:
        out.print(f"{directory} is already in the current format", highlight=False)
        return
    out.print(
        f"upgraded {directory}: {meta['track_count']:,} songs, catalogue version {meta['version']}",
        highlight=False,
    )


@catalog_app.command("add")
def catalog_add(
    directory: Directory,
    source: Annotated[Path, typer.Argument(help="CSV/JSONL file or audio folder of new songs.")],
    as_json: AsJson = False,
) -> None:
    """Add songs to a catalogue without rebuilding it (same id: the song is replaced)."""
    try:
        report = load_source(source)
        _skipped(report.problems)
        result = add_tracks(directory, report.catalogue)
    except TunelensError as error:
        raise fail(error) from None
    _say(result, as_json, f"added {_songs(result.added)} ({result.replaced:,} replaced)")


@catalog_app.command("remove")
def catalog_remove(
    directory: Directory,
    ids: Annotated[list[str], typer.Argument(help="Track ids to remove.")],
    as_json: AsJson = False,
) -> None:
    """Remove songs from a catalogue by id (they stop being recommended at once)."""
    try:
        result = remove_tracks(directory, ids)
    except TunelensError as error:
        raise fail(error) from None
    what = f"removed {_songs(result.removed)}"
    if result.unknown:
        what += f" ({len(result.unknown)} unknown ids: {', '.join(result.unknown[:5])})"
    _say(result, as_json, what)


@catalog_app.command("compact")
def catalog_compact(directory: Directory, as_json: AsJson = False) -> None:
    """Rewrite a catalogue's live songs as one segment (removed songs dropped for good)."""
    try:
        result = compact(directory)
    except TunelensError as error:
        raise fail(error) from None
    _say(result, as_json, "compacted")


def register(app: typer.Typer) -> None:
    """The commands join the ``catalog`` group, which :mod:`tunelens.cli.catalog` registers."""


def _songs(count: int) -> str:
    """The count with its noun in number (1 song, 1,000 songs), as the operator reads it."""
    return f"{count:,} song" if count == 1 else f"{count:,} songs"
