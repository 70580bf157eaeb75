"""The ``tunelens`` command line: typer commands over the engine, catalogue and model tools.

User errors (bad files, missing catalogue, missing weights) print one line on stderr and exit
with status 1; usage errors exit 2 (typer's convention); nothing prints a traceback unless
``TUNELENS_DEBUG=1`` is set.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from tunelens import __version__
from tunelens.config import EncoderChoice, get_settings
from tunelens.errors import TunelensError
from tunelens.schemas import Recommendation

app = typer.Typer(
    name="tunelens",
    help="Turn a picture into a soundtrack: read a photo's mood and recommend songs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
catalog_app = typer.Typer(help="Build, fetch and inspect song catalogues.", no_args_is_help=True)
models_app = typer.Typer(help="Export and inspect CLIP models.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(models_app, name="models")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

EXIT_USER_ERROR = 1
EXIT_INTERNAL = 70


class CliFailure(Exception):
    """Carries an exit code out of a command after its message was printed."""

    def __init__(self, exit_code: int) -> None:
        super().__init__(exit_code)
        self.exit_code = exit_code


def _fail(error: TunelensError, prefix: str = "error") -> CliFailure:
    err.print(f"[bold red]{prefix}:[/] {error.message}", highlight=False, markup=True)
    return CliFailure(EXIT_USER_ERROR)


def _notice(text: str) -> None:
    err.print(f"[bold yellow]notice:[/] {text}", highlight=False)


def _version_callback(value: bool) -> None:
    if value:
        out.print(f"tunelens {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show version."),
    ] = False,
) -> None:
    """tunelens reads a photo's mood and vibe and recommends songs that feel the same."""


def _print_recommendation(rec: Recommendation) -> None:
    reading = rec.reading
    top_genres = sorted(reading.genres.items(), key=lambda kv: -kv[1])[:3]
    out.print(f"[bold]{rec.image or 'picture'}[/]", highlight=False)
    out.print(
        f"  mood: [bold]{reading.top_emotion}[/] ({reading.emotions[reading.top_emotion]:.0%})"
        f"  valence {reading.valence:+.2f}  arousal {reading.arousal:+.2f}"
        f"  · encoder {reading.encoder.name}",
        highlight=False,
    )
    out.print("  vibe: " + ", ".join(f"{g} {p:.0%}" for g, p in top_genres), highlight=False)
    if reading.scenes:
        out.print("  scene: " + ", ".join(s.name for s in reading.scenes), highlight=False)
    table = Table(box=box.SIMPLE_HEAD, show_lines=False, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("song")
    table.add_column("artist")
    table.add_column("genre")
    table.add_column("score", justify="right")
    table.add_column("why")
    for item in rec.tracks:
        table.add_row(
            str(item.rank),
            item.track.title,
            item.track.artist,
            item.track.genre or "",
            f"{item.score:.2f}",
            "; ".join(item.reasons),
        )
    out.print(table)


@app.command()
def recommend(
    images: Annotated[
        list[Path], typer.Argument(help="Photo files (JPEG, PNG, WebP, GIF, BMP, TIFF).")
    ],
    top: Annotated[int, typer.Option("--top", "-k", help="Songs per photo (1–50).")] = 10,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (one object per photo; a list for several).")
    ] = False,
    catalog: Annotated[
        Path | None, typer.Option(help="Catalogue directory (default: the built-in data dir).")
    ] = None,
    encoder: Annotated[
        str | None, typer.Option(help="auto, clip or colour (default: settings).")
    ] = None,
    context: Annotated[
        str | None, typer.Option(help="Free text about the moment, e.g. 'late-night drive'.")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="Track ids to leave out (repeatable).")
    ] = None,
) -> None:
    """Read each photo's mood and print the songs that fit it."""
    from tunelens.engine import Engine

    choice = _encoder_choice(encoder)
    try:
        engine = Engine.load(encoder=choice, catalog_dir=catalog)
    except TunelensError as error:
        raise _fail(error) from None
    if not as_json:
        for text in engine.notices:
            _notice(text)
    results: list[dict[str, Any]] = []
    failures = 0
    for path in images:
        try:
            rec = engine.recommend(path, k=top, context=context, exclude=exclude or ())
        except TunelensError as error:
            failures += 1
            err.print(f"[bold red]error:[/] {path}: {error.message}", highlight=False)
            continue
        if as_json:
            results.append(rec.model_dump(mode="json"))
        else:
            _print_recommendation(rec)
    if as_json and results:
        payload: Any = results[0] if len(images) == 1 else results
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    if failures:
        raise CliFailure(EXIT_USER_ERROR)


def _encoder_choice(value: str | None) -> EncoderChoice | None:
    if value is None:
        return None
    normalised = {"color": "colour"}.get(value.lower(), value.lower())
    if normalised not in ("auto", "clip", "colour"):
        err.print(f"[bold red]error:[/] unknown encoder {value!r}; use auto, clip or colour")
        raise CliFailure(2)
    return normalised  # type: ignore[return-value]


@catalog_app.command("build")
def catalog_build(
    source: Annotated[
        str, typer.Argument(help="CSV/JSONL file, audio folder, URL or a known name (spotify-30k).")
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write the index.")
    ] = None,
    encoder: Annotated[
        str, typer.Option(help="none, auto or clip: also store song-text embeddings.")
    ] = "none",
) -> None:
    """Load a song catalogue, validate and merge it, and build its search index."""
    from tunelens.catalogue.build import build_catalog
    from tunelens.encoders.base import Encoder
    from tunelens.encoders.factory import load_encoder

    settings = get_settings()
    out_dir = output or settings.default_catalog_dir
    model: Encoder | None = None
    try:
        if encoder != "none":
            choice = _encoder_choice(encoder)
            assert choice is not None
            model, notices = load_encoder(choice, settings)
            for text in notices:
                _notice(text)
            if not model.supports_text:
                _notice("no CLIP text tower available: building without song-text embeddings")
                model = None
        started = time.perf_counter()
        result = build_catalog(source, out_dir, encoder=model, progress=lambda m: err.print(m))
    except TunelensError as error:
        raise _fail(error) from None
    for problem in result.problems[:20]:
        err.print(f"  skipped line {problem.line}: {problem.reason}", highlight=False)
    if len(result.problems) > 20:
        err.print(f"  … and {len(result.problems) - 20} more skipped rows", highlight=False)
    out.print(
        f"built {result.out_dir}: {result.tracks} songs from {result.rows_read} rows "
        f"({result.duplicates_merged} duplicates merged, {len(result.problems)} rows skipped) "
        f"in {time.perf_counter() - started:.1f}s",
        highlight=False,
    )


@catalog_app.command("info")
def catalog_info_cmd(
    directory: Annotated[Path | None, typer.Argument(help="Catalogue directory.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show what a built catalogue holds."""
    from tunelens.catalogue.build import catalog_info

    try:
        info = catalog_info(directory or get_settings().default_catalog_dir)
    except TunelensError as error:
        raise _fail(error) from None
    if as_json:
        sys.stdout.write(json.dumps(info, indent=2, default=str) + "\n")
        return
    for key, value in info.items():
        out.print(f"{key}: {value}", highlight=False)


@catalog_app.command("fetch")
def catalog_fetch(
    name: Annotated[
        str, typer.Argument(help="A known catalogue name, e.g. spotify-30k.")
    ] = "spotify-30k",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write the index.")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="Download from this mirror instead (checksum still checked).")
    ] = None,
) -> None:
    """Download a public catalogue, check its sha256, and build its index."""
    from tunelens.catalogue.build import build_catalog
    from tunelens.catalogue.fetch import fetch_source

    settings = get_settings()
    out_dir = output or settings.default_catalog_dir
    try:
        downloads = settings.data_dir / "downloads"
        path = fetch_source(name, downloads, url_override=url)
        result = build_catalog(path, out_dir)
    except TunelensError as error:
        raise _fail(error) from None
    out.print(
        f"fetched {name} → {path}; built {result.out_dir}: {result.tracks} songs", highlight=False
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    catalog: Annotated[Path | None, typer.Option(help="Catalogue directory.")] = None,
    encoder: Annotated[str | None, typer.Option(help="auto, clip or colour.")] = None,
) -> None:
    """Serve the web page and the REST API (uvicorn)."""
    from tunelens.web.server import run

    run(host=host, port=port, catalog_dir=catalog, encoder=_encoder_choice(encoder))


@models_app.command("export")
def models_export(
    checkpoint: Annotated[
        str, typer.Argument(help="transformers CLIP checkpoint: local dir or hub id.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory for the ONNX files.")],
    int8: Annotated[
        bool, typer.Option("--int8/--no-int8", help="Also write dynamic-int8 models.")
    ] = True,
    random_weights: Annotated[
        bool, typer.Option("--random-weights", help="Mark the export as not pretrained.")
    ] = False,
) -> None:
    """Export a CLIP checkpoint to the ONNX files the default encoder loads (needs tunelens[torch])."""
    from tunelens.encoders.export import export_clip

    try:
        manifest = export_clip(checkpoint, output, int8=int8, pretrained=not random_weights)
    except TunelensError as error:
        raise _fail(error) from None
    out.print(f"exported {checkpoint} → {output} (model id {manifest.model_id})", highlight=False)


@models_app.command("info")
def models_info(
    encoder: Annotated[str, typer.Option(help="auto, clip or colour.")] = "auto",
) -> None:
    """Say which encoder tunelens would use, and why."""
    from tunelens.encoders.factory import load_encoder

    choice = _encoder_choice(encoder)
    assert choice is not None
    try:
        model, notices = load_encoder(choice, get_settings())
    except TunelensError as error:
        raise _fail(error) from None
    for text in notices:
        _notice(text)
    out.print(
        f"encoder: {model.name}\nmodel id: {model.model_id}\ndim: {model.dim}\n"
        f"pretrained: {model.is_pretrained}\ntext tower: {model.supports_text}",
        highlight=False,
    )


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the app and turn failures into exit codes."""
    debug = os.environ.get("TUNELENS_DEBUG") == "1"
    try:
        app(args=argv, standalone_mode=False)
    except CliFailure as failure:
        return failure.exit_code
    except TunelensError as error:
        err.print(f"[bold red]error:[/] {error.message}", highlight=False)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except typer.Exit as done:
        return int(done.exit_code or 0)
    except Exception as error:
        import click

        if isinstance(error, click.exceptions.ClickException):
            error.show()
            return error.exit_code
        if isinstance(error, click.exceptions.Abort):
            return 1
        if debug:
            raise
        err.print(
            f"[bold red]internal error:[/] {type(error).__name__}: {error} "
            "(set TUNELENS_DEBUG=1 for a traceback and please report it)",
            highlight=False,
        )
        return EXIT_INTERNAL
    return 0


if __name__ == "__main__":
    sys.exit(main())
