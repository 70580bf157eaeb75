"""What every command module shares: the two consoles, the exit codes, the ways a command
reports a problem, and the options several commands spell the same way.

Command modules import this module and never each other (nor :mod:`tunelens.cli.app`), so the
app can be assembled from them without import cycles.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from tunelens.core.errors import TunelensError
from tunelens.core.settings import EncoderChoice, get_settings
from tunelens.storage.db import Database

#: answers (tables, JSON, one-line results) go to stdout; notices, progress and errors to stderr
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

EXIT_OK = 0
EXIT_USER_ERROR = 1
EXIT_USAGE = 2  # typer's convention for a bad command line
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug, not the user's doing
EXIT_INTERRUPTED = 130

ENCODERS: tuple[EncoderChoice, ...] = ("auto", "clip", "colour")

# Options spelled and explained the same way by several commands.
EncoderOption = Annotated[str | None, typer.Option("--encoder", help="auto, clip or colour.")]
EncoderOrSettingsOption = Annotated[
    str | None, typer.Option("--encoder", help="auto, clip or colour (default: settings).")
]
CatalogOption = Annotated[Path | None, typer.Option("--catalog", help="Catalogue directory.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ReportJsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


class CliFailure(Exception):
    """Carries an exit code out of a command after its message was printed."""

    def __init__(self, exit_code: int) -> None:
        super().__init__(exit_code)
        self.exit_code = exit_code


def say_error(message: str, *, highlight: bool | None = None) -> None:
    """One ``error: …`` line on stderr (``highlight=None``: the console's default).

    The message is text, never markup: rich would read ``'tunelens[torch]'`` in an install
    hint (or ``[1]`` in a file name) as a style tag and print ``'tunelens'``."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=highlight)


def fail(error: TunelensError, exit_code: int = EXIT_USER_ERROR) -> CliFailure:
    """Print a user error's message and return the failure to raise (``raise fail(e)``)."""
    say_error(error.message, highlight=False)
    return CliFailure(exit_code)


def usage_error(message: str) -> CliFailure:
    """Print a command-line mistake typer cannot see (a bad combination or choice); exit 2."""
    say_error(message)
    return CliFailure(EXIT_USAGE)


def notice(text: str) -> None:
    """Something the operator should know that is not an error (e.g. a fallback encoder)."""
    err.print(f"[bold yellow]notice:[/] {escape(text)}", highlight=False)


def progress(message: str) -> None:
    """Progress lines of long commands: stderr, so stdout stays the answer."""
    err.print(escape(message), highlight=False)


def print_json(payload: Any, **dumps: Any) -> None:
    """Write ``payload`` as JSON on stdout, bypassing rich (no wrapping, no markup)."""
    sys.stdout.write(json.dumps(payload, **dumps) + "\n")


def encoder_choice(value: str | None) -> EncoderChoice | None:
    """``--encoder`` as a settings choice (``color`` accepted); ``None`` leaves it to settings."""
    if value is None:
        return None
    normalised = {"color": "colour"}.get(value.lower(), value.lower())
    for choice in ENCODERS:
        if normalised == choice:
            return choice
    raise usage_error(f"unknown encoder {value!r}; use auto, clip or colour")


def open_database() -> Database:
    """The configured database, brought up to date first (data-loop commands need its tables)."""
    return Database.from_settings(get_settings(), migrate=True)
