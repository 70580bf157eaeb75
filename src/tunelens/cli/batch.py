"""``tunelens batch``: readings and songs for a whole photo library, one JSON line per photo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunelens.batch.job import BatchJob, BatchSummary, run_batch
from tunelens.cli.common import (
    CatalogOption,
    EncoderOption,
    encoder_choice,
    err,
    fail,
    notice,
    usage_error,
)
from tunelens.core.errors import TunelensError

ENGINES = ("local", "ray")

PhotosDir = Annotated[
    str,
    typer.Argument(
        help="A local folder of photos (searched recursively) or s3://bucket/prefix "
        "(endpoint and credentials from TUNELENS_S3_*)."
    ),
]
Out = Annotated[Path, typer.Option("--out", "-o", help="JSON Lines output (resumed if present).")]
Workers = Annotated[int, typer.Option(help="Worker processes (local) or Ray actors.")]
EngineName = Annotated[str, typer.Option(help="local (process pool) or ray (Ray Data).")]
Top = Annotated[int, typer.Option("--top", "-k", help="Songs per photo (1–50).")]
AlbumSize = Annotated[int, typer.Option(help="Songs in the album playlist.")]
BatchSize = Annotated[int, typer.Option(help="Photos per encoder batch.")]
Limit = Annotated[int | None, typer.Option(help="Process at most this many new photos this run.")]
Progress = Annotated[bool, typer.Option("--progress/--no-progress")]


def batch(
    photos_dir: PhotosDir,
    out: Out,
    workers: Workers = 1,
    engine: EngineName = "local",
    encoder: EncoderOption = None,
    catalog: CatalogOption = None,
    top: Top = 10,
    album_size: AlbumSize = 20,
    batch_size: BatchSize = 8,
    limit: Limit = None,
    progress: Progress = True,
) -> None:
    """Readings and songs for every photo in a folder or S3 prefix, one JSON line each, plus an
    album line."""
    if engine not in ENGINES:
        raise usage_error(f"unknown engine {engine!r}; use local or ray")
    job = BatchJob(
        source=photos_dir,  # text, not Path: Path() would fold "s3://" into "s3:/"
        out=out,
        workers=workers,
        engine="ray" if engine == "ray" else "local",
        encoder=encoder_choice(encoder),
        catalog_dir=catalog,
        k=top,
        batch_size=batch_size,
        album_size=album_size,
        limit=limit,
    )
    try:
        summary = run_batch(job, progress=progress, console=err)
    except TunelensError as error:
        raise fail(error) from None
    for text in summary.notices:
        notice(text)
    report(summary)


def report(summary: BatchSummary) -> None:
    """The run in one line on stderr (stdout is free for piping the output file)."""
    songs = len(summary.album["tracks"]) if summary.album else 0
    err.print(
        f"{summary.processed} photos in {summary.seconds:.1f}s ({summary.rate:.1f}/s): "
        f"{summary.ok} ok, {summary.errors} unreadable, {summary.skipped} already done; "
        f"album playlist of {songs} songs → {summary.out}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command()(batch)
