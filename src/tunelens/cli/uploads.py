"""``tunelens uploads flush|purge|delete``: deliver, age out and erase the pictures people
agreed to let tunelens keep."""

from __future__ import annotations

from typing import Annotated

import typer

from tunelens.cli.common import (
    EXIT_USER_ERROR,
    CliFailure,
    fail,
    notice,
    open_database,
    out,
    say_error,
)
from tunelens.core.errors import TunelensError
from tunelens.core.settings import get_settings
from tunelens.storage.uploads import UploadService, parse_duration

uploads_app = typer.Typer(help="Deliver, purge and delete kept uploads.", no_args_is_help=True)


def upload_service() -> UploadService:
    """The configured blob store and outbox over the (migrated) database."""
    return UploadService.from_settings(get_settings(), db=open_database())


@uploads_app.command("flush")
def uploads_flush() -> None:
    """Deliver uploads waiting in the outbox to the blob store."""
    try:
        report = upload_service().flush()
    except TunelensError as error:
        raise fail(error) from None
    out.print(
        f"delivered {report.delivered}, already stored {report.already_stored}, "
        f"failed {report.failed}, still waiting {report.remaining}",
        highlight=False,
    )
    if report.busy:
        notice("another flush is running; try again when it has finished")
    if report.error and report.remaining:
        say_error(report.error, highlight=False)
        raise CliFailure(EXIT_USER_ERROR)


@uploads_app.command("purge")
def uploads_purge(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Age, e.g. 30d, 12h, 2w (a bare number is days).")
    ],
    yes: Annotated[
        bool, typer.Option("--yes", help="Really delete (the pictures cannot be brought back).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be deleted.")
    ] = False,
) -> None:
    """Delete kept uploads (store, outbox and rows) offered longer ago than --older-than.

    Deleting needs --yes (``--older-than 0d`` is every picture ever kept); --dry-run counts
    what would go first."""
    try:
        age = parse_duration(older_than)
        service = upload_service()
        if dry_run or not yes:
            plan = service.purge(age, dry_run=True)
            if not dry_run:
                say_error(
                    f"this would delete {plan.rows} rows, {plan.blobs} stored pictures and "
                    f"{plan.outbox} outbox entries older than {older_than}: add --yes to delete "
                    "them (nothing was deleted)",
                    highlight=False,
                )
                raise CliFailure(EXIT_USER_ERROR)
            out.print(
                f"would purge uploads older than {older_than}: {plan.rows} rows, {plan.blobs} "
                f"stored pictures, {plan.outbox} outbox entries (dry run: nothing deleted)",
                highlight=False,
            )
            return
        report = service.purge(age)
    except TunelensError as error:
        raise fail(error) from None
    out.print(
        f"purged uploads older than {older_than}: {report.rows} rows, {report.blobs} stored "
        f"pictures, {report.outbox} outbox entries",
        highlight=False,
    )


@uploads_app.command("delete")
def uploads_delete(
    sha256: Annotated[str, typer.Argument(help="The picture's sha256 (as uploaded or stored).")],
) -> None:
    """Delete one picture everywhere it is kept (a privacy request)."""
    try:
        report = upload_service().delete(sha256)
    except TunelensError as error:
        raise fail(error) from None
    if not report.found:
        out.print(f"nothing kept for {report.sha256}", highlight=False)
        return
    out.print(
        f"deleted {report.sha256}: {report.rows} rows, "
        f"stored picture {'deleted' if report.blob else 'not found'}, "
        f"outbox entry {'deleted' if report.outbox else 'not found'}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(uploads_app, name="uploads")
