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

from tunelens import __version__, i18n
from tunelens.core.errors import TunelensError
from tunelens.core.settings import EncoderChoice, get_settings
from tunelens.core.types import Recommendation

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
db_app = typer.Typer(help="Create, upgrade and inspect the database.", no_args_is_help=True)
uploads_app = typer.Typer(help="Deliver, purge and delete kept uploads.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(uploads_app, name="uploads")

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


def _print_recommendation(rec: Recommendation, tr: i18n.Translator) -> None:
    """The reading, the explanation and the songs as a table, in ``tr``'s language (titles
    and artists as written)."""
    reading = rec.reading
    top_genres = sorted(reading.genres.items(), key=lambda kv: -kv[1])[:3]
    out.print(f"[bold]{rec.image or tr.gettext('picture')}[/]", highlight=False)
    mood = tr.gettext(
        "mood: %(emotion)s (%(percent)s)  valence %(valence)s  arousal %(arousal)s"
        "  · encoder %(encoder)s",
        emotion=f"[bold]{tr.label('emotion', reading.top_emotion)}[/]",
        percent=tr.percent(reading.emotions[reading.top_emotion]),
        valence=tr.signed(reading.valence),
        arousal=tr.signed(reading.arousal),
        encoder=reading.encoder.name,
    )
    out.print("  " + mood, highlight=False)
    vibe = tr.join([f"{tr.label('genre', g)} {tr.percent(p)}" for g, p in top_genres])
    out.print("  " + tr.gettext("vibe: %(genres)s", genres=vibe), highlight=False)
    if reading.scenes:
        scenes = tr.join([tr.label("scene", s.name) for s in reading.scenes])
        out.print("  " + tr.gettext("scene: %(scenes)s", scenes=scenes), highlight=False)
    if rec.explanation is not None:
        if rec.explanation.hot_regions:
            labels = ", ".join(r.label for r in rec.explanation.hot_regions)
            out.print(
                "  " + tr.gettext("mattered most: %(regions)s", regions=labels), highlight=False
            )
        out.print("  " + tr.gettext("why: %(text)s", text=rec.explanation.text), highlight=False)
    table = Table(box=box.SIMPLE_HEAD, show_lines=False, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column(tr.pgettext("table heading", "song"))
    table.add_column(tr.pgettext("table heading", "artist"))
    table.add_column(tr.pgettext("table heading", "genre"))
    table.add_column(tr.pgettext("table heading", "score"), justify="right")
    table.add_column(tr.pgettext("table heading", "why"))
    for item in rec.tracks:
        table.add_row(
            str(item.rank),
            item.track.title,
            item.track.artist,
            item.track.genre or "",
            tr.decimal(item.score),
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
    heatmap: Annotated[
        Path | None,
        typer.Option(
            help="Write the heatmap overlay PNG here (several photos: out-1.png, out-2.png …; "
            "a directory: DIR/<photo>.heatmap.png)."
        ),
    ] = None,
    lang: Annotated[
        str,
        typer.Option(
            envvar="TUNELENS_LANG",
            help="Language of the reading, the reasons and the explanation (en, ar, es, fr, hi; "
            "other languages fall back to English with a notice).",
        ),
    ] = "en",
    export: Annotated[
        Path | None,
        typer.Option(
            help="Write the songs as a playlist: .m3u8 (or .m3u) or .jspf (or .json); several "
            "photos make one playlist."
        ),
    ] = None,
) -> None:
    """Read each photo's mood and print the songs that fit it."""
    from tunelens.cli.outputs import heatmap_paths, write_data_url
    from tunelens.pipeline import Engine
    from tunelens.playlists.export import format_for_path, write_playlist

    if export is not None:
        try:
            format_for_path(export)
        except TunelensError as error:
            err.print(f"[bold red]error:[/] {error.message}", highlight=False)
            raise CliFailure(2) from None
    try:
        lang_choice = i18n.negotiate(lang)
    except TunelensError as error:
        err.print(f"[bold red]error:[/] {error.message}", highlight=False)
        raise CliFailure(2) from None
    if lang_choice.notice:
        _notice(lang_choice.notice)
    tr = i18n.translator(lang_choice.lang)
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
    heatmap_files = heatmap_paths(heatmap, images) if heatmap is not None else None
    recs: list[Recommendation] = []
    for i, path in enumerate(images):
        try:
            rec = engine.recommend(
                path,
                k=top,
                context=context,
                exclude=exclude or (),
                heatmap=heatmap_files is not None,
                lang=tr.lang,
            )
            if heatmap_files is not None and rec.explanation and rec.explanation.heatmap:
                written = write_data_url(rec.explanation.heatmap, heatmap_files[i])
                rec.explanation.heatmap = written.resolve().as_uri()
                err.print(f"heatmap: {written}", highlight=False)
        except TunelensError as error:
            failures += 1
            err.print(f"[bold red]error:[/] {path}: {error.message}", highlight=False)
            continue
        recs.append(rec)
        if as_json:
            results.append(rec.model_dump(mode="json"))
        else:
            _print_recommendation(rec, tr)
    if as_json and results:
        payload: Any = results[0] if len(images) == 1 else results
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    if export is not None and recs:
        names = ", ".join(r.image or "picture" for r in recs)
        try:
            playlist = write_playlist(
                export,
                [item.track for r in recs for item in r.tracks],
                title=f"tunelens — {names}",
                annotation=f"Songs tunelens picked for {names}.",
            )
        except TunelensError as error:
            raise _fail(error) from None
        err.print(
            f"playlist: {export} ({playlist.tracks} songs, {playlist.format})", highlight=False
        )
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
    from tunelens.vision.base import Encoder
    from tunelens.vision.registry import load_encoder

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
    from tunelens.playlists.regional import groups, load_playlists

    try:
        config = load_playlists(file or get_settings().playlists_file)
    except TunelensError as error:
        raise _fail(error) from None
    region_id = region or config.default_region
    if region_id not in config.regions:
        err.print(
            f"[bold red]error:[/] no region {region_id!r}; known: {', '.join(config.regions)}"
        )
        raise CliFailure(EXIT_USER_ERROR)
    out.print(f"regions: {', '.join(config.regions)}", highlight=False)
    for group in groups(config, region_id, genre=genre, mood=mood):
        out.print(f"[bold]{config.regions[region_id].label} · {group.kind} {group.name}[/]")
        for entry in group.entries:
            out.print(
                f"  {entry.title} ({entry.provider}, {entry.kind}): {entry.url}", highlight=False
            )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    catalog: Annotated[Path | None, typer.Option(help="Catalogue directory.")] = None,
    encoder: Annotated[str | None, typer.Option(help="auto, clip or colour.")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Production mode: N supervised worker processes (each loads the models once; "
            "SIGHUP reloads them one by one). Default: one in-process server.",
        ),
    ] = None,
) -> None:
    """Serve the web page and the REST API (uvicorn)."""
    from tunelens.web.server import run

    run(
        host=host,
        port=port,
        catalog_dir=catalog,
        encoder=_encoder_choice(encoder),
        workers=workers,
    )


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
    """Export a CLIP checkpoint to the ONNX files the default encoder loads (needs the torch extra)."""
    from tunelens.modelhub.export import export_clip

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
    from tunelens.vision.registry import load_encoder

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


@app.command()
def batch(
    photos_dir: Annotated[
        str,
        typer.Argument(
            help="A local folder of photos (searched recursively) or s3://bucket/prefix "
            "(endpoint and credentials from TUNELENS_S3_*)."
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="JSON Lines output (resumed if present).")
    ],
    workers: Annotated[int, typer.Option(help="Worker processes (local) or Ray actors.")] = 1,
    engine: Annotated[str, typer.Option(help="local (process pool) or ray (Ray Data).")] = "local",
    encoder: Annotated[str | None, typer.Option(help="auto, clip or colour.")] = None,
    catalog: Annotated[Path | None, typer.Option(help="Catalogue directory.")] = None,
    top: Annotated[int, typer.Option("--top", "-k", help="Songs per photo (1–50).")] = 10,
    album_size: Annotated[int, typer.Option(help="Songs in the album playlist.")] = 20,
    batch_size: Annotated[int, typer.Option(help="Photos per encoder batch.")] = 8,
    limit: Annotated[
        int | None, typer.Option(help="Process at most this many new photos this run.")
    ] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
) -> None:
    """Readings and songs for every photo in a folder or S3 prefix, one JSON line each, plus an
    album line."""
    from tunelens.batch.job import BatchJob, run_batch

    if engine not in ("local", "ray"):
        err.print(f"[bold red]error:[/] unknown engine {engine!r}; use local or ray")
        raise CliFailure(2)
    job = BatchJob(
        source=photos_dir,  # text, not Path: Path() would fold "s3://" into "s3:/"
        out=out,
        workers=workers,
        engine=engine,  # type: ignore[arg-type]
        encoder=_encoder_choice(encoder),
        catalog_dir=catalog,
        k=top,
        batch_size=batch_size,
        album_size=album_size,
        limit=limit,
    )
    try:
        summary = run_batch(job, progress=progress, console=err)
    except TunelensError as error:
        raise _fail(error) from None
    for text in summary.notices:
        _notice(text)
    err.print(
        f"{summary.processed} photos in {summary.seconds:.1f}s ({summary.rate:.1f}/s): "
        f"{summary.ok} ok, {summary.errors} unreadable, {summary.skipped} already done; "
        f"album playlist of {len(summary.album['tracks']) if summary.album else 0} songs "
        f"→ {summary.out}",
        highlight=False,
    )


@app.command()
def bench(
    quick: Annotated[
        bool, typer.Option("--quick", help="Fewer photos and passes (< 3 min).")
    ] = False,
    work_dir: Annotated[
        Path | None,
        typer.Option(help="Model, photos and catalogue cache (default benchmarks/.work)."),
    ] = None,
    photos: Annotated[Path | None, typer.Option(help="Folder of JPEGs to resize from.")] = None,
    csv: Annotated[Path | None, typer.Option(help="Spotify-style CSV for the catalogue.")] = None,
    name: Annotated[str | None, typer.Option(help="Results name (results/<name>.json).")] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait (≤ 10 min) for 1-min load ≤ 1.0 first.")
    ] = False,
) -> None:
    """Benchmark photo → reading → top-10 against a naive PyTorch pipeline (needs the torch extra)."""
    from benchmarks.e2e import BenchConfig, run, summary_rows

    config = BenchConfig.default(quick=quick)
    if work_dir is not None:
        config.work_dir = work_dir
    if photos is not None:
        config.photos_dir = photos
    if csv is not None:
        config.csv = csv
    if name is not None:
        config.name = name
    try:
        results = run(config, progress=lambda m: err.print(m, highlight=False), wait=wait)
    except TunelensError as error:
        raise _fail(error) from None
    table = Table(box=box.SIMPLE_HEAD, title=f"tunelens bench ({config.name})")
    for column in ("metric", "naive (PyTorch fp32)", "tunelens fp32", "tunelens int8", "ratio"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for row in summary_rows(results):
        table.add_row(*row)
    out.print(table)
    agree = results["int8_vs_fp32"]
    out.print(
        f"int8 vs fp32 embedding cosine: mean {agree['cosine_mean']}, min {agree['cosine_min']}; "
        f"results in {config.results_dir / (config.name + '.json')}",
        highlight=False,
    )


# --------------------------------------------------------------------------- data loop


def _database_url(url: str | None) -> str:
    return url or get_settings().database_url


def _open_database() -> Any:
    from tunelens.storage.db import Database

    return Database.from_settings(get_settings(), migrate=True)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    url: Annotated[str | None, typer.Option(help="Database URL (default: settings).")] = None,
    sql: Annotated[
        bool, typer.Option("--sql", help="Print the SQL instead of running it.")
    ] = False,
) -> None:
    """Create the database or bring it up to date (safe to run again)."""
    from tunelens.storage.migrate import current, upgrade, upgrade_sql

    target = _database_url(url)
    try:
        if sql:
            sys.stdout.write(upgrade_sql(target, revision))
            return
        upgrade(target, revision)
        out.print(f"database at revision {current(target)}", highlight=False)
    except TunelensError as error:
        raise _fail(error) from None


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision: 'base' drops every table.")],
    url: Annotated[str | None, typer.Option(help="Database URL (default: settings).")] = None,
) -> None:
    """Take the database down to an older revision."""
    from tunelens.storage.migrate import current, downgrade

    target = _database_url(url)
    try:
        downgrade(target, revision)
        out.print(f"database at revision {current(target) or 'base (empty)'}", highlight=False)
    except TunelensError as error:
        raise _fail(error) from None


@db_app.command("current")
def db_current(
    url: Annotated[str | None, typer.Option(help="Database URL (default: settings).")] = None,
) -> None:
    """Show the database's revision and the newest one this tunelens knows."""
    from sqlalchemy.engine import make_url

    from tunelens.storage.migrate import current, head_revision

    target = _database_url(url)
    try:
        revision = current(target)
    except TunelensError as error:
        raise _fail(error) from None
    head = head_revision()
    state = "up to date" if revision == head else "needs `tunelens db upgrade`"
    out.print(
        f"database: {make_url(target).render_as_string(hide_password=True)}\n"
        f"revision: {revision or 'none (empty)'}\nhead: {head} ({state})",
        highlight=False,
    )


@uploads_app.command("flush")
def uploads_flush() -> None:
    """Deliver uploads waiting in the outbox to the blob store."""
    from tunelens.storage.uploads import UploadService

    try:
        service = UploadService.from_settings(get_settings(), db=_open_database())
        report = service.flush()
    except TunelensError as error:
        raise _fail(error) from None
    out.print(
        f"delivered {report.delivered}, already stored {report.already_stored}, "
        f"failed {report.failed}, still waiting {report.remaining}",
        highlight=False,
    )
    if report.busy:
        _notice("another flush is running; try again when it has finished")
    if report.error and report.remaining:
        err.print(f"[bold red]error:[/] {report.error}", highlight=False)
        raise CliFailure(EXIT_USER_ERROR)


@uploads_app.command("purge")
def uploads_purge(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Age, e.g. 30d, 12h, 2w (a bare number is days).")
    ],
) -> None:
    """Delete kept uploads (store, outbox and rows) offered longer ago than --older-than."""
    from tunelens.storage.uploads import UploadService, parse_duration

    try:
        age = parse_duration(older_than)
        service = UploadService.from_settings(get_settings(), db=_open_database())
        report = service.purge(age)
    except TunelensError as error:
        raise _fail(error) from None
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
    from tunelens.storage.uploads import UploadService

    try:
        service = UploadService.from_settings(get_settings(), db=_open_database())
        report = service.delete(sha256)
    except TunelensError as error:
        raise _fail(error) from None
    if not report.found:
        out.print(f"nothing kept for {report.sha256}", highlight=False)
        return
    out.print(
        f"deleted {report.sha256}: {report.rows} rows, "
        f"stored picture {'deleted' if report.blob else 'not found'}, "
        f"outbox entry {'deleted' if report.outbox else 'not found'}",
        highlight=False,
    )


@app.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    days: Annotated[int, typer.Option(help="Days covered by the per-day figures.")] = 30,
    top: Annotated[int, typer.Option(help="Songs in the most-recommended/liked lists.")] = 10,
) -> None:
    """Prediction, feedback and upload figures from the database."""
    from tunelens.storage.repository import stats_summary

    try:
        db = _open_database()
        summary = stats_summary(db, days=days, top=top)
    except TunelensError as error:
        raise _fail(error) from None
    if as_json:
        sys.stdout.write(json.dumps(summary.to_dict(), indent=2) + "\n")
        return
    lat = summary.latency_ms
    out.print(
        f"predictions: {summary.predictions}  latency p50 {lat.get('p50')} ms, "
        f"p95 {lat.get('p95')} ms (last {lat.get('n')})",
        highlight=False,
    )
    if summary.predictions_by_emotion:
        out.print(
            "  by emotion: "
            + ", ".join(f"{e} {n}" for e, n in summary.predictions_by_emotion.items()),
            highlight=False,
        )
    rate = "–" if summary.like_rate is None else f"{summary.like_rate:.0%}"
    out.print(
        "feedback: "
        + ", ".join(f"{k} {n}" for k, n in summary.feedback.items())
        + f"  like rate {rate}",
        highlight=False,
    )
    for title, rates in (
        ("like rate by emotion", summary.like_rate_by_emotion),
        ("like rate by genre", summary.like_rate_by_genre),
    ):
        if rates:
            out.print(
                f"  {title}: "
                + ", ".join(
                    f"{key} {'–' if r['rate'] is None else format(r['rate'], '.0%')}"
                    f" ({r['likes']}/{r['likes'] + r['dislikes']})"
                    for key, r in rates.items()
                ),
                highlight=False,
            )
    for title, rows, count in (
        ("most recommended", summary.most_recommended, "count"),
        ("most liked", summary.most_liked, "likes"),
    ):
        if rows:
            table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left")
            for column in ("song", "artist", count):
                table.add_column(column, justify="right" if column == count else "left")
            for row in rows:
                table.add_row(
                    row.get("title") or row["track_id"], row.get("artist") or "", str(row[count])
                )
            out.print(table)
    up = summary.uploads
    out.print(
        f"uploads: {up.get('stored', 0)} kept ({up.get('stored_bytes', 0):,} bytes), "
        f"{up.get('pending', 0)} waiting in the outbox, {up.get('declined', 0)} declined",
        highlight=False,
    )


# --------------------------------------------------------------------------- retraining


def _task_option(value: str | None) -> Any:
    if value is None:
        return None
    if value not in ("emotion", "genre"):
        raise typer.BadParameter("use emotion or genre", param_hint="--task")
    return value


train_app = typer.Typer(
    help="Fit reading heads (--images, --from-feedback) or a learned audio-feature head "
    "(train features).",
    invoke_without_command=True,
)
app.add_typer(train_app, name="train")


@train_app.callback(invoke_without_command=True)
def train(
    ctx: typer.Context,
    images: Annotated[
        Path | None,
        typer.Option(
            "--images", help="Labelled folder: one sub-folder per label (emotion or genre names)."
        ),
    ] = None,
    task: Annotated[
        str | None, typer.Option("--task", help="emotion or genre (needed with --images).")
    ] = None,
    encoder: Annotated[
        str | None, typer.Option("--encoder", help="auto, clip or colour (default: settings).")
    ] = None,
    from_feedback: Annotated[
        bool,
        typer.Option(
            "--from-feedback", help="Fit the feedback prior's strength on the stored votes."
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the cross-validation folds.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Fit a linear head on frozen picture embeddings (cross-validated, saved versioned; used
    only when it beats the majority baseline), or the re-ranking prior from feedback."""
    from tunelens.training.linear import format_report, train_from_feedback, train_head

    if ctx.invoked_subcommand is not None:
        return  # ``tunelens train features …``
    if from_feedback == (images is not None):
        err.print("[bold red]error:[/] give either --images DIR --task TASK or --from-feedback")
        raise CliFailure(2)
    try:
        if from_feedback:
            report = train_from_feedback(_open_database(), get_settings())
            if as_json:
                sys.stdout.write(json.dumps(report, indent=2) + "\n")
                return
            out.print(
                f"feedback prior: {report['votes']} votes on {report['songs_with_votes']} songs, "
                f"{report['informative_votes']} on songs with 2+ voters",
                highlight=False,
            )
            out.print(f"  verdict: {report['verdict']}", highlight=False)
            if report.get("path"):
                out.print(f"  saved to {report['path']}", highlight=False)
            return
        assert images is not None
        if task is None:
            err.print("[bold red]error:[/] --images needs --task emotion or --task genre")
            raise CliFailure(2)
        result = train_head(
            images,
            _task_option(task),
            settings=get_settings(),
            encoder=_encoder_choice(encoder),
            seed=seed,
            progress=lambda m: err.print(m, highlight=False),
        )
    except TunelensError as error:
        raise _fail(error) from None
    if as_json:
        sys.stdout.write(json.dumps(result.report, indent=2) + "\n")
        return
    out.print(format_report(result.report), highlight=False)
    out.print(f"saved to {result.path}", highlight=False)


@app.command("eval")
def eval_cmd(
    images: Annotated[
        Path, typer.Option("--images", help="Labelled folder: one sub-folder per label.")
    ],
    task: Annotated[
        str | None, typer.Option("--task", help="emotion or genre (default: from the folders).")
    ] = None,
    encoder: Annotated[
        str | None, typer.Option("--encoder", help="auto, clip or colour (default: settings).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Score the reading tunelens uses now (trained heads included) on a labelled folder."""
    from tunelens.training.linear import evaluate, format_report

    try:
        report = evaluate(
            images,
            _task_option(task),
            settings=get_settings(),
            encoder=_encoder_choice(encoder),
            progress=lambda m: err.print(m, highlight=False),
        )
    except TunelensError as error:
        raise _fail(error) from None
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return
    out.print(format_report(report), highlight=False)


# the learned feature head's commands: train features, heads, retrain
from tunelens.cli import heads as _cli_heads


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
        from typer.exceptions import Abort as TyperAbort
        from typer.exceptions import TyperException

        # Typer ≥ 0.29 raises its own vendored copies of click's usage errors
        # (TyperException subclasses with click's show()/exit_code), not click's classes
        usage = isinstance(error, click.exceptions.ClickException) or (
            isinstance(error, TyperException) and hasattr(error, "show")
        )
        if usage:
            error.show()  # type: ignore[attr-defined]
            return int(getattr(error, "exit_code", 2))
        if isinstance(error, click.exceptions.Abort | TyperAbort):
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
