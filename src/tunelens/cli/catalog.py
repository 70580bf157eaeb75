"""``tunelens catalog build|info|fetch|push|pull``: make a song catalogue and its search index,
look inside one, or share one through S3-compatible storage."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tunelens.catalogue.build import BuildOptions, BuildResult, build_catalog, catalog_info
from tunelens.catalogue.fetch import fetch_source
from tunelens.catalogue.remote import RemoteCatalogue, local_catalogue_dir
from tunelens.cli.common import encoder_choice, err, fail, notice, out, print_json, usage_error
from tunelens.core.errors import TunelensError
from tunelens.core.settings import Settings, get_settings
from tunelens.modelhub.loader import load_encoder
from tunelens.vision.base import Encoder

#: skipped rows listed one by one before the rest is summed up
SHOWN_PROBLEMS = 20

catalog_app = typer.Typer(help="Build, fetch and inspect song catalogues.", no_args_is_help=True)

Output = Annotated[Path | None, typer.Option("--output", "-o", help="Where to write the index.")]


@catalog_app.command("build")
def catalog_build(
    source: Annotated[
        str, typer.Argument(help="CSV/JSONL file, audio folder, URL or a known name (spotify-30k).")
    ],
    output: Output = None,
    encoder: Annotated[
        str, typer.Option(help="none, auto or clip: also store song-text embeddings.")
    ] = "none",
    engine: Annotated[
        str,
        typer.Option(
            help="local, or ray: Ray Data reads and validates big or many CSV/Parquet files "
            "(SOURCE may be a folder of them) in parallel."
        ),
    ] = "local",
    workers: Annotated[
        int, typer.Option(min=1, help="CPUs of the local Ray instance (--engine ray).")
    ] = 2,
) -> None:
    """Load a song catalogue, validate and merge it, and build its search index."""
    settings = get_settings()
    out_dir = output or settings.default_catalog_dir
    if engine not in ("local", "ray"):
        raise usage_error(f"unknown engine {engine!r}; use local or ray")
    options = BuildOptions(engine="ray" if engine == "ray" else "local", workers=workers)
    try:
        model = text_encoder(encoder, settings)
        started = time.perf_counter()
        result = build_catalog(
            source, out_dir, encoder=model, progress=lambda m: err.print(m), options=options
        )
    except TunelensError as error:
        raise fail(error) from None
    report_problems(result)
    out.print(
        f"built {result.out_dir}: {result.tracks} songs from {result.rows_read} rows "
        f"({result.duplicates_merged} duplicates merged, {len(result.problems)} rows skipped) "
        f"in {time.perf_counter() - started:.1f}s",
        highlight=False,
    )


def text_encoder(value: str, settings: Settings) -> Encoder | None:
    """The encoder whose text tower embeds each song's words, or ``None`` (``--encoder none``,
    or an encoder without a text tower, which a notice says)."""
    if value == "none":
        return None
    choice = encoder_choice(value)
    assert choice is not None
    model, notices = load_encoder(choice, settings)
    for text in notices:
        notice(text)
    if not model.supports_text:
        notice("no CLIP text tower available: building without song-text embeddings")
        return None
    return model


def report_problems(result: BuildResult) -> None:
    """The first skipped rows with their reasons, then how many more."""
    for problem in result.problems[:SHOWN_PROBLEMS]:
        err.print(f"  skipped line {problem.line}: {problem.reason}", highlight=False)
    if len(result.problems) > SHOWN_PROBLEMS:
        more = len(result.problems) - SHOWN_PROBLEMS
        err.print(f"  … and {more} more skipped rows", highlight=False)


@catalog_app.command("info")
def catalog_info_cmd(
    directory: Annotated[
        Path | None, typer.Argument(help="Catalogue directory or s3://bucket/prefix.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show what a built catalogue holds."""
    settings = get_settings()
    try:
        info = catalog_info(local_catalogue_dir(directory or settings.catalog_location, settings))
    except TunelensError as error:
        raise fail(error) from None
    if as_json:
        print_json(info, indent=2, default=str)
        return
    for key, value in info.items():
        out.print(f"{key.replace('_', ' ')}: {escape(readable(key, value))}", highlight=False)


def readable(key: str, value: object) -> str:
    """One ``catalog info`` value as a person reads it: counts with thousands separators,
    ``name count`` pairs and lists joined on one line, sizes in MB, nothing as ``none`` —
    not a Python dict (``--json`` has the raw structure)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and key.endswith("_bytes"):
        return f"{value / 1e6:.1f} MB"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        pairs = (f"{str(k).replace('_', ' ')} {readable(str(k), v)}" for k, v in value.items())
        return ", ".join(pairs) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(readable(key, v) for v in value) or "none"
    return str(value)


@catalog_app.command("fetch")
def catalog_fetch(
    name: Annotated[
        str, typer.Argument(help="A known catalogue name, e.g. spotify-30k.")
    ] = "spotify-30k",
    output: Output = None,
    url: Annotated[
        str | None, typer.Option(help="Download from this mirror instead (checksum still checked).")
    ] = None,
) -> None:
    """Download a public catalogue, check its sha256, and build its index."""
    settings = get_settings()
    out_dir = output or settings.default_catalog_dir
    try:
        downloads = settings.data_dir / "downloads"
        path = fetch_source(name, downloads, url_override=url)
        result = build_catalog(path, out_dir)
    except TunelensError as error:
        raise fail(error) from None
    out.print(
        f"fetched {name} → {path}; built {result.out_dir}: {result.tracks} songs", highlight=False
    )


@catalog_app.command("push")
def catalog_push(
    directory: Annotated[Path, typer.Argument(help="A built catalogue directory.")],
    url: Annotated[str, typer.Argument(help="Where servers read it: s3://bucket/prefix.")],
) -> None:
    """Publish a catalogue version to S3-compatible storage (files first, meta.json last)."""
    try:
        result = RemoteCatalogue.from_settings(url, get_settings()).push(directory)
    except TunelensError as error:
        raise fail(error) from None
    out.print(
        f"pushed {directory} → {result.url}: version {result.version} "
        f"({result.files} files, {result.uploaded} uploaded, the rest already there)",
        highlight=False,
    )


@catalog_app.command("pull")
def catalog_pull(
    url: Annotated[str, typer.Argument(help="s3://bucket/prefix of a pushed catalogue.")],
) -> None:
    """Download the current version of a shared catalogue into the local cache (servers do
    this at start-up; run it to warm a machine or to check the bucket)."""
    try:
        local = RemoteCatalogue.from_settings(url, get_settings()).sync()
    except TunelensError as error:
        raise fail(error) from None
    out.print(f"{url}: version {local.name} in {local}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app, name="catalog")
