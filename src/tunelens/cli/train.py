"""``tunelens train [features]`` and ``tunelens retrain``: fit the reading heads, the feedback
prior and the learned audio-feature head (``tunelens eval`` lives in :mod:`tunelens.cli.evaluate`).

The fitting itself is :mod:`tunelens.training`; these commands parse, call and print.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tunelens.cli.common import (
    EXIT_USER_ERROR,
    CatalogOption,
    CliFailure,
    EncoderOption,
    EncoderOrSettingsOption,
    ReportJsonOption,
    encoder_choice,
    fail,
    open_database,
    out,
    print_json,
    progress,
    usage_error,
)
from tunelens.core.errors import TunelensError
from tunelens.core.settings import get_settings
from tunelens.heads.feature import HeadModel
from tunelens.heads.transformer import TransformerConfig
from tunelens.reading.colour_model import model_path
from tunelens.reading.faces import load_face_reader
from tunelens.training.affect_fit import fit_reader, write_model
from tunelens.training.affect_report import format_reader_report
from tunelens.training.evaluation import format_report
from tunelens.training.feature_report import format_feature_report
from tunelens.training.features import FeatureFit, train_features
from tunelens.training.folders import Task
from tunelens.training.linear import train_head
from tunelens.training.pairs import PairSources
from tunelens.training.prior import train_from_feedback
from tunelens.training.retrain import Retrainer, RetrainOptions, RetrainOutcome
from tunelens.training.retrain import watch as watch_loop
from tunelens.training.run import TrainingRun

TASKS: dict[str, Task] = {"emotion": "emotion", "genre": "genre"}
HEADS: dict[str, HeadModel] = {"ridge": "ridge", "transformer": "transformer"}

train_app = typer.Typer(
    help="Fit reading heads (--images, --from-feedback) or a learned audio-feature head "
    "(train features).",
    invoke_without_command=True,
)

Images = Annotated[
    Path | None,
    typer.Option(
        "--images", help="Labelled folder: one sub-folder per label (emotion or genre names)."
    ),
]
TaskNeeded = Annotated[
    str | None, typer.Option("--task", help="emotion or genre (needed with --images).")
]
FromFeedback = Annotated[
    bool,
    typer.Option("--from-feedback", help="Fit the feedback prior's strength on the stored votes."),
]
Seed = Annotated[int, typer.Option(help="Seed of the cross-validation folds.")]


def task_option(value: str) -> Task:
    """``--task`` of the reading heads (typer's usage error, exit 2, for anything else)."""
    if value in TASKS:
        return TASKS[value]
    raise typer.BadParameter("use emotion or genre", param_hint="--task")


def head_option(value: str) -> HeadModel:
    """``--head`` of the feature head: ``ridge`` or ``transformer``."""
    if value in HEADS:
        return HEADS[value]
    raise usage_error(f"--head must be ridge or transformer, not {value!r}")


@train_app.callback(invoke_without_command=True)
def train(
    ctx: typer.Context,
    images: Images = None,
    task: TaskNeeded = None,
    encoder: EncoderOrSettingsOption = None,
    from_feedback: FromFeedback = False,
    seed: Seed = 0,
    as_json: ReportJsonOption = False,
) -> None:
    """Fit a linear head on frozen picture embeddings (cross-validated, saved versioned; used
    only when it beats the majority baseline), or the re-ranking prior from feedback."""
    if ctx.invoked_subcommand is not None:
        return  # ``tunelens train features …``
    if from_feedback == (images is not None):
        raise usage_error("give either --images DIR --task TASK or --from-feedback")
    if from_feedback:
        train_prior(as_json)
        return
    assert images is not None
    if task is None:
        raise usage_error("--images needs --task emotion or --task genre")
    try:
        result = train_head(
            images,
            task_option(task),
            TrainingRun(
                get_settings(), encoder=encoder_choice(encoder), seed=seed, progress=progress
            ),
        )
    except TunelensError as error:
        raise fail(error) from None
    if as_json:
        print_json(result.report, indent=2)
        return
    out.print(format_report(result.report), highlight=False)
    out.print(f"saved to {result.path}", highlight=False)


def train_prior(as_json: bool) -> None:
    """``train --from-feedback``: the feedback prior's strength, fitted on the stored votes."""
    try:
        report = train_from_feedback(open_database(), get_settings())
    except TunelensError as error:
        raise fail(error) from None
    if as_json:
        print_json(report, indent=2)
        return
    out.print(
        f"feedback prior: {report['votes']} votes on {report['songs_with_votes']} songs, "
        f"{report['informative_votes']} on songs with 2+ voters",
        highlight=False,
    )
    out.print(f"  verdict: {report['verdict']}", highlight=False)
    if report.get("path"):
        out.print(f"  saved to {report['path']}", highlight=False)


# --------------------------------------------------------------------------- feature head

Pairs = Annotated[
    Path | None,
    typer.Option(
        "--pairs",
        help="CSV: image (path, file://, s3://, blob:<sha256>), track_id and/or feature "
        "columns, optional weight and emotion.",
    ),
]
FeedbackPairs = Annotated[
    bool,
    typer.Option("--from-feedback", help="Also use likes on kept (consented) pictures as pairs."),
]
FeedbackWeight = Annotated[
    float, typer.Option(help="Weight of a feedback pair (a curated pair weighs 1).")
]
Head = Annotated[str, typer.Option("--head", help="ridge or transformer.")]
FeatureCatalog = Annotated[
    Path | None, typer.Option("--catalog", help="Catalogue directory (default: settings).")
]
TestSize = Annotated[float, typer.Option(help="Share of pictures held out.")]
FeatureSeed = Annotated[int, typer.Option(help="Seed of the split and of the transformer.")]
Epochs = Annotated[int | None, typer.Option(min=1, help="Transformer epochs (default 120).")]


@train_app.command("features")
def train_features_cmd(
    pairs: Pairs = None,
    from_feedback: FeedbackPairs = False,
    feedback_weight: FeedbackWeight = 0.5,
    head: Head = "ridge",
    catalog: FeatureCatalog = None,
    encoder: EncoderOrSettingsOption = None,
    test_size: TestSize = 0.25,
    seed: FeatureSeed = 0,
    epochs: Epochs = None,
    as_json: ReportJsonOption = False,
) -> None:
    """Fit a learned picture → audio-feature head on paired data; report it beside its
    baselines; save it versioned; activate it only if it beats them."""
    if pairs is None and not from_feedback:
        raise usage_error("give --pairs PAIRS.csv and/or --from-feedback")
    model = head_option(head)
    transformer = TransformerConfig(epochs=epochs) if epochs is not None else None
    try:
        result = train_features(
            PairSources(
                pairs_csv=pairs,
                db=open_database() if from_feedback else None,
                feedback_weight=feedback_weight,
                catalog_dir=catalog,
            ),
            FeatureFit(head=model, test_size=test_size, transformer=transformer),
            TrainingRun(
                get_settings(), encoder=encoder_choice(encoder), seed=seed, progress=progress
            ),
        )
    except TunelensError as error:
        raise fail(error) from None
    if as_json:
        print_json(result.report, indent=2, ensure_ascii=False)
        return
    out.print(format_feature_report(result.report), highlight=False)
    out.print(f"saved to {result.path}", highlight=False)


# --------------------------------------------------------------------------- colour reader

RatedImages = Annotated[
    Path, typer.Option("--images", help="Folder of the rated photos (the CSV's file column).")
]
Ratings = Annotated[
    Path,
    typer.Option(
        "--ratings",
        help="CSV: file, theme, category, valence_mean, arousal_mean (1–7, OASIS layout).",
    ),
]
ReaderOut = Annotated[
    Path | None,
    typer.Option("--out", help="Where to write the model JSON (default: the packaged one)."),
]
MeasureFaces = Annotated[
    bool,
    typer.Option("--faces/--no-faces", help="Also measure the face blend (faces extra)."),
]


@train_app.command("reader")
def train_reader_cmd(
    images: RatedImages,
    ratings: Ratings,
    out_path: ReaderOut = None,
    faces: MeasureFaces = True,
    as_json: ReportJsonOption = False,
) -> None:
    """Fit the offline colour reader on people's ratings (theme-grouped cross-validation) and
    write its coefficients as the reader's package data."""
    face_reader, notices = load_face_reader(faces)
    for notice in notices:
        progress(notice)
    target = out_path or model_path()
    try:
        result = fit_reader(
            images, ratings, TrainingRun(get_settings(), progress=progress), face_reader
        )
        write_model(result.model, target)
    except TunelensError as error:
        raise fail(error) from None
    except OSError as error:
        raise fail(TunelensError(f"cannot write {target}: {error}", code="write_failed")) from None
    if as_json:
        print_json({**result.model, "path": str(target)}, indent=2, ensure_ascii=False)
        return
    out.print(format_reader_report(result.model, str(target)), highlight=False)


# --------------------------------------------------------------------------- retrain

Watch = Annotated[bool, typer.Option("--watch", help="Keep checking every --interval seconds.")]
Interval = Annotated[float, typer.Option(min=0, help="Seconds between checks with --watch.")]
Threshold = Annotated[
    int | None,
    typer.Option(min=1, help="New feedback pairs needed (default: TUNELENS_RETRAIN_THRESHOLD)."),
]
HeadOrSettings = Annotated[
    str | None, typer.Option("--head", help="ridge or transformer (default: settings).")
]
CuratedPairs = Annotated[
    Path | None, typer.Option("--pairs", help="A curated pairs CSV to train with as well.")
]
MaxChecks = Annotated[
    int | None, typer.Option(min=1, hidden=True, help="Stop after N checks (tests).")
]
CheckJson = Annotated[bool, typer.Option("--json", help="One JSON line per check.")]


def retrain(
    watch: Watch = False,
    interval: Interval = 3600.0,
    threshold: Threshold = None,
    head: HeadOrSettings = None,
    pairs: CuratedPairs = None,
    catalog: CatalogOption = None,
    encoder: EncoderOption = None,
    max_checks: MaxChecks = None,
    as_json: CheckJson = False,
) -> None:
    """Retrain the feature head when enough new feedback pairs have arrived since the last
    head; activate it only if it beats its baselines and the active head."""
    try:
        retrainer = Retrainer(
            get_settings(),
            open_database(),
            RetrainOptions(
                threshold=threshold,
                head=head_option(head) if head is not None else None,
                pairs_csv=pairs,
                encoder=encoder_choice(encoder),
                catalog_dir=catalog,
                progress=progress,
            ),
        )
        outcomes = watch_loop(
            retrainer,
            interval_s=interval,
            max_checks=max_checks if watch else 1,
            on_outcome=lambda outcome: show_outcome(outcome, as_json=as_json),
        )
    except TunelensError as error:
        raise fail(error) from None
    if not watch and outcomes and outcomes[-1].status == "error":
        raise CliFailure(EXIT_USER_ERROR)


def show_outcome(outcome: RetrainOutcome, *, as_json: bool) -> None:
    """One line per check, printed as it happens (``--watch`` runs for hours)."""
    if as_json:
        print_json(outcome.to_dict())
        sys.stdout.flush()
        return
    line = f"{outcome.checked_at} {outcome.status}: {outcome.message}"
    if outcome.version:
        line += f" (head {outcome.version}, {'activated' if outcome.activated else 'kept'})"
    out.print(line, highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(retrain)
    app.add_typer(train_app, name="train")
