"""``tunelens recommend``: read each photo's mood and print (or write) the songs that fit it.

The calls into :mod:`tunelens.pipeline` live in :func:`load_pipeline` and
:func:`recommend_photo` only, so a change of the pipeline's interface is one edit here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tunelens import i18n
from tunelens.cli.common import (
    EXIT_USAGE,
    EXIT_USER_ERROR,
    CliFailure,
    EncoderOrSettingsOption,
    encoder_choice,
    err,
    fail,
    notice,
    print_json,
    say_error,
    usage_error,
)
from tunelens.cli.outputs import heatmap_paths, write_data_url
from tunelens.cli.render import print_recommendation
from tunelens.core.errors import TunelensError
from tunelens.core.settings import EncoderChoice, get_settings
from tunelens.core.types import Recommendation
from tunelens.pipeline import Pipeline, RecommendOptions, build_pipeline
from tunelens.playlists.export import format_for_path, write_playlist
from tunelens.recommend.preferences import Preferences

Images = Annotated[
    list[Path], typer.Argument(help="Photo files (JPEG, PNG, WebP, GIF, BMP, TIFF).")
]
Top = Annotated[int, typer.Option("--top", "-k", help="Songs per photo (1–50).")]
AsJson = Annotated[
    bool, typer.Option("--json", help="Print JSON (one object per photo; a list for several).")
]
Catalog = Annotated[
    Path | None, typer.Option(help="Catalogue directory (default: the built-in data dir).")
]
Context = Annotated[
    str | None, typer.Option(help="Free text about the moment, e.g. 'late-night drive'.")
]
Exclude = Annotated[list[str] | None, typer.Option(help="Track ids to leave out (repeatable).")]
#: text, not Path: a Path drops the trailing "/" that marks a directory still to be made
Heatmap = Annotated[
    str | None,
    typer.Option(
        metavar="<path>",
        help="Write the heatmap overlay PNG here (several photos: out-1.png, out-2.png …; "
        "a directory: DIR/<photo>.heatmap.png).",
    ),
]
Lang = Annotated[
    str,
    typer.Option(
        envvar="TUNELENS_LANG",
        help="Language of the reading, the reasons and the explanation (en, ar, es, fr, hi; "
        "other languages fall back to English with a notice).",
    ),
]
Export = Annotated[
    Path | None,
    typer.Option(
        help="Write the songs as a playlist: .m3u8 (or .m3u) or .jspf (or .json); several "
        "photos make one playlist."
    ),
]


@dataclass(frozen=True)
class PhotoRequest:
    """What every photo of one command line is asked with."""

    top: int
    context: str | None
    exclude: tuple[str, ...]
    heatmap: bool
    lang: str


def recommend(
    images: Images,
    top: Top = 10,
    as_json: AsJson = False,
    catalog: Catalog = None,
    encoder: EncoderOrSettingsOption = None,
    context: Context = None,
    exclude: Exclude = None,
    heatmap: Heatmap = None,
    lang: Lang = "en",
    export: Export = None,
) -> None:
    """Read each photo's mood and print the songs that fit it."""
    check_top(top)  # a usage error before seconds of loading models and the catalogue
    if export is not None:
        try:
            format_for_path(export)
        except TunelensError as error:
            raise fail(error, EXIT_USAGE) from None
    tr = translator(lang)
    pipeline = load_pipeline(encoder_choice(encoder), catalog)
    if not as_json:
        for text in pipeline.notices:
            notice(text)
    request = PhotoRequest(top, context, tuple(exclude or ()), heatmap is not None, tr.lang)
    targets = heatmap_paths(heatmap, images) if heatmap is not None else None
    recs: list[Recommendation] = []
    failures = 0
    for i, path in enumerate(images):
        try:
            rec = recommend_photo(pipeline, path, request, targets[i] if targets else None)
        except TunelensError as error:
            failures += 1
            say_error(f"{path}: {error.message}", highlight=False)
            continue
        recs.append(rec)
        if not as_json:
            print_recommendation(rec, tr)
    if as_json and recs:
        answers = [rec.model_dump(mode="json") for rec in recs]
        print_json(answers[0] if len(images) == 1 else answers, ensure_ascii=False, indent=2)
    if export is not None and recs:
        write_export(export, recs)
    if failures:
        raise CliFailure(EXIT_USER_ERROR)


def check_top(top: int) -> None:
    """``--top`` within 1..``TUNELENS_MAX_TOP_K`` (exit 2, one line), checked before loading."""
    limit = get_settings().max_top_k
    if not 1 <= top <= limit:
        raise usage_error(f"--top must be between 1 and {limit}, got {top}")


def translator(lang: str) -> i18n.Translator:
    """The ``--lang`` language, or English with a notice; an unusable value is a usage error."""
    try:
        choice = i18n.negotiate(lang)
    except TunelensError as error:
        raise fail(error, EXIT_USAGE) from None
    if choice.notice:
        notice(choice.notice)
    return i18n.translator(choice.lang)


# --------------------------------------------------------------------------- the pipeline


def load_pipeline(encoder: EncoderChoice | None, catalog: Path | None) -> Pipeline:
    """The pipeline for this command line (models and catalogue loaded once for every photo)."""
    try:
        return build_pipeline(encoder=encoder, catalog_dir=catalog)
    except TunelensError as error:
        raise fail(error) from None


def recommend_photo(
    pipeline: Pipeline, path: Path, request: PhotoRequest, heatmap: Path | None
) -> Recommendation:
    """One photo's answer; its heatmap, when asked for, written to ``heatmap`` and pointed to by
    a ``file://`` URI instead of the data URL."""
    options = RecommendOptions(
        k=request.top, context=request.context, heatmap=request.heatmap, lang=request.lang
    )
    preferences = Preferences(exclude=frozenset(request.exclude))
    rec = pipeline.recommend_file(path, options, preferences)
    if heatmap is not None and rec.explanation and rec.explanation.heatmap:
        written = write_data_url(rec.explanation.heatmap, heatmap)
        rec.explanation.heatmap = written.resolve().as_uri()
        err.print(f"heatmap: {escape(str(written))}", highlight=False)
    return rec


# --------------------------------------------------------------------------- playlist


def write_export(path: Path, recs: Sequence[Recommendation]) -> None:
    """Every photo's songs as one playlist file (format from the file's extension)."""
    names = ", ".join(r.image or "picture" for r in recs)
    try:
        playlist = write_playlist(
            path,
            [item.track for r in recs for item in r.tracks],
            title=f"tunelens — {names}",
            annotation=f"Songs tunelens picked for {names}.",
        )
    except TunelensError as error:
        raise fail(error) from None
    err.print(
        escape(f"playlist: {path} ({playlist.tracks} songs, {playlist.format})"), highlight=False
    )


def register(app: typer.Typer) -> None:
    app.command()(recommend)
