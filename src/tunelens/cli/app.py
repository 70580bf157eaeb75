"""The ``tunelens`` command line: the root app, ``--version``, and how every way out of a command
becomes an exit code.

Each command group lives in its own module with a ``register(app)`` function; this module
imports them and registers them in :data:`COMMAND_MODULES`' order, which is the order
``tunelens --help`` lists them in (commands first, then groups, each in registration order).

Exit codes: 0 success; 1 a user error (bad files, missing catalogue or weights — one line on
stderr); 2 a usage error (typer's convention); 70 an internal error; 130 interrupted. Nothing
prints a traceback unless ``TUNELENS_DEBUG=1`` is set.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Protocol

import click
import typer
from rich.markup import escape
from typer.exceptions import Abort as TyperAbort
from typer.exceptions import TyperException

from tunelens import __version__
from tunelens.cli import (
    batch,
    catalog,
    catalog_store,
    db,
    evaluate,
    heads,
    models,
    playlists,
    recommend,
    serve,
    stats,
    train,
    uploads,
)
from tunelens.cli.common import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_USER_ERROR,
    CliFailure,
    err,
    out,
    say_error,
)
from tunelens.core.errors import TunelensError


class CommandModule(Protocol):
    """A module of commands: adds its commands or its group to the root app."""

    def register(self, app: typer.Typer) -> None: ...


#: registration order = ``--help`` order; groups (catalog … heads) are listed after commands
COMMAND_MODULES: tuple[CommandModule, ...] = (
    catalog,
    catalog_store,
    models,
    db,
    uploads,
    recommend,
    playlists,
    serve,
    batch,
    stats,
    train,
    evaluate,
    heads,
)


def _version_callback(value: bool) -> None:
    if value:
        out.print(f"tunelens {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show version."),
    ] = False,
) -> None:
    """tunelens reads a photo's mood and vibe and recommends songs that feel the same."""


def build_app() -> typer.Typer:
    """The root app with ``--version`` and every command module registered."""
    root = typer.Typer(
        name="tunelens",
        help="Turn a picture into a soundtrack: read a photo's mood and recommend songs.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    root.callback()(_root)
    for module in COMMAND_MODULES:
        module.register(root)
    return root


app = build_app()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the app and turn failures into exit codes."""
    try:
        app(args=argv, standalone_mode=False)
    except CliFailure as failure:
        return failure.exit_code
    except TunelensError as error:
        say_error(error.message, highlight=False)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        err.print("interrupted")
        return EXIT_INTERRUPTED
    except typer.Exit as done:
        return int(done.exit_code or EXIT_OK)
    except Exception as error:
        return unexpected(error)
    return EXIT_OK


def unexpected(error: Exception) -> int:
    """Usage errors and aborts raised by click/typer keep their codes; anything else is a bug:
    one line (or the traceback with ``TUNELENS_DEBUG=1``) and exit 70."""
    # Typer ≥ 0.29 raises its own vendored copies of click's usage errors
    # (TyperException subclasses with click's show()/exit_code), not click's classes
    usage = isinstance(error, click.exceptions.ClickException) or (
        isinstance(error, TyperException) and hasattr(error, "show")
    )
    if usage:
        error.show()  # type: ignore[attr-defined]
        return int(getattr(error, "exit_code", EXIT_USAGE))
    if isinstance(error, click.exceptions.Abort | TyperAbort):
        return EXIT_USER_ERROR
    if os.environ.get("TUNELENS_DEBUG") == "1":
        raise error
    err.print(
        f"[bold red]internal error:[/] {type(error).__name__}: {escape(str(error))} "
        "(set TUNELENS_DEBUG=1 for a traceback and please report it)",
        highlight=False,
    )
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
