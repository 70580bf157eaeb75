"""``tunelens db upgrade|downgrade|current``: the database schema's migrations (Alembic)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from tunelens.cli.common import fail, out
from tunelens.core.errors import TunelensError
from tunelens.core.settings import get_settings
from tunelens.storage.migrate import current, downgrade, head_revision, upgrade, upgrade_sql

db_app = typer.Typer(help="Create, upgrade and inspect the database.", no_args_is_help=True)

Url = Annotated[str | None, typer.Option(help="Database URL (default: settings).")]


def database_url(url: str | None) -> str:
    """``--url``, or the configured database."""
    return url or get_settings().database_url


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    url: Url = None,
    sql: Annotated[
        bool, typer.Option("--sql", help="Print the SQL instead of running it.")
    ] = False,
) -> None:
    """Create the database or bring it up to date (safe to run again)."""
    target = database_url(url)
    try:
        if sql:
            sys.stdout.write(upgrade_sql(target, revision))
            return
        upgrade(target, revision)
        out.print(f"database at revision {current(target)}", highlight=False)
    except TunelensError as error:
        raise fail(error) from None


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision: 'base' drops every table.")],
    url: Url = None,
) -> None:
    """Take the database down to an older revision."""
    target = database_url(url)
    try:
        downgrade(target, revision)
        out.print(f"database at revision {current(target) or 'base (empty)'}", highlight=False)
    except TunelensError as error:
        raise fail(error) from None


@db_app.command("current")
def db_current(url: Url = None) -> None:
    """Show the database's revision and the newest one this tunelens knows."""
    target = database_url(url)
    try:
        revision = current(target)
    except TunelensError as error:
        raise fail(error) from None
    head = head_revision()
    state = "up to date" if revision == head else "needs `tunelens db upgrade`"
    out.print(
        f"database: {make_url(target).render_as_string(hide_password=True)}\n"
        f"revision: {revision or 'none (empty)'}\nhead: {head} ({state})",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
