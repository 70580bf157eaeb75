"""``tunelens eval``: how good the reading and the songs are.

* ``tunelens eval --images DIR [--task …]`` scores the reading in use on a labelled folder
  (:mod:`tunelens.training.evaluation`), as it always has;
* ``tunelens eval affect`` measures valence and arousal against people's ratings, beside the
  1994 textbook formula (:mod:`tunelens.quality.affect`);
* ``tunelens eval moods`` measures the songs against mood-labelled tracks, their diversity and
  their stability under a ±10 % exposure change (:mod:`tunelens.quality.moods`).

``eval`` is a group whose callback keeps the old options, so the first form still works.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunelens.cli.common import (
    EncoderOrSettingsOption,
    ReportJsonOption,
    encoder_choice,
    fail,
    out,
    print_json,
    progress,
    usage_error,
)
from tunelens.cli.quality_render import affect_tables, moods_tables
from tunelens.core.errors import TunelensError
from tunelens.core.settings import get_settings
from tunelens.quality.affect import AffectJob, evaluate_affect
from tunelens.quality.moods import MoodsJob, evaluate_moods
from tunelens.training.evaluation import evaluate, format_report
from tunelens.training.folders import Task
from tunelens.training.run import TrainingRun

TASKS: dict[str, Task] = {"emotion": "emotion", "genre": "genre"}

eval_app = typer.Typer(
    help="Score the reading in use on a labelled folder (--images), or measure it against "
    "people (eval affect) and the songs against mood labels (eval moods).",
    invoke_without_command=True,
)


def task_option(value: str) -> Task:
    """``--task``: emotion or genre (typer's usage error, exit 2, for anything else)."""
    if value in TASKS:
        return TASKS[value]
    raise typer.BadParameter("use emotion or genre", param_hint="--task")


@eval_app.callback(invoke_without_command=True)
def eval_cmd(
    ctx: typer.Context,
    images: Annotated[
        Path | None, typer.Option("--images", help="Labelled folder: one sub-folder per label.")
    ] = None,
    task: Annotated[
        str | None, typer.Option("--task", help="emotion or genre (default: from the folders).")
    ] = None,
    encoder: EncoderOrSettingsOption = None,
    as_json: ReportJsonOption = False,
) -> None:
    """Score the reading tunelens uses now (trained heads included) on a labelled folder."""
    if ctx.invoked_subcommand is not None:
        return  # ``tunelens eval affect|moods …``
    if images is None:
        raise usage_error("give --images DIR, or use `tunelens eval affect` / `eval moods`")
    try:
        report = evaluate(
            images,
            task_option(task) if task is not None else None,
            TrainingRun(get_settings(), encoder=encoder_choice(encoder), progress=progress),
        )
    except TunelensError as error:
        raise fail(error) from None
    if as_json:
        print_json(report, indent=2)
        return
    out.print(format_report(report), highlight=False)


RatedImages = Annotated[
    Path, typer.Option("--images", help="Folder of the rated photos (the ratings' file column).")
]
Ratings = Annotated[
    Path,
    typer.Option(
        "--ratings",
        help="CSV with file, category, valence_mean, arousal_mean (and theme), e.g. OASIS.",
    ),
]
PipelineCatalog = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        help="Catalogue the pipeline is built with (default: settings; the reading ignores it).",
    ),
]
Bootstrap = Annotated[int, typer.Option("--bootstrap", min=0, help="Bootstrap resamples.")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of the bootstrap resamples.")]


@eval_app.command("affect")
def affect_cmd(
    images: RatedImages,
    ratings: Ratings,
    encoder: EncoderOrSettingsOption = None,
    catalog: PipelineCatalog = None,
    bootstrap: Bootstrap = 1000,
    seed: Seed = 0,
    as_json: ReportJsonOption = False,
) -> None:
    """Valence and arousal against people's ratings (Spearman ρ, beside the 1994 formula).

    Bootstrap 95 % intervals, overall and per category, faces on and off, with the
    Valdez & Mehrabian 1994 formula measured in the same run on the same pictures."""
    job = AffectJob(
        images=images,
        ratings=ratings,
        encoder=encoder_choice(encoder),
        catalog_dir=catalog,
        bootstrap=bootstrap,
        seed=seed,
        progress=progress,
    )
    try:
        report = evaluate_affect(get_settings(), job)
    except TunelensError as error:
        raise fail(error) from None
    if as_json:
        print_json(report, indent=2, ensure_ascii=False)
        return
    for part in affect_tables(report):
        out.print(part, highlight=False)


MoodsCatalog = Annotated[
    Path,
    typer.Option("--catalog", help="Catalogue with mood labels (built from spotify_moods' CSV)."),
]
SharedPhotos = Annotated[
    Path, typer.Option("--photos", help="Folder of photos with photos.csv (file, description).")
]
SongsCatalog = Annotated[
    Path | None,
    typer.Option(
        "--songs-catalog",
        help="Catalogue for diversity and exposure stability (default: settings).",
    ),
]
Songs = Annotated[
    bool,
    typer.Option("--songs/--no-songs", help="Measure diversity and exposure stability."),
]
Top = Annotated[int, typer.Option("--top", min=1, help="Songs per photo.")]


@eval_app.command("moods")
def moods_cmd(
    catalog: MoodsCatalog,
    photos: SharedPhotos,
    songs_catalog: SongsCatalog = None,
    songs: Songs = True,
    encoder: EncoderOrSettingsOption = None,
    top: Top = 10,
    as_json: ReportJsonOption = False,
) -> None:
    """Songs against mood labels, their diversity and their stability under exposure.

    Mood labels of each photo's top songs by group of photos (grouped by their descriptions),
    the distinct songs over all photos, how many songs stay when a photo's exposure moves by
    ±10 %, and each photo's reading."""
    job = MoodsJob(
        photos=photos,
        catalog_dir=catalog,
        songs_catalog=songs_catalog,
        songs=songs,
        encoder=encoder_choice(encoder),
        top=top,
        progress=progress,
    )
    try:
        report = evaluate_moods(get_settings(), job)
    except TunelensError as error:
        raise fail(error) from None
    if as_json:
        print_json(report, indent=2, ensure_ascii=False)
        return
    for part in moods_tables(report):
        out.print(part, highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")
