"""CLI commands of the learned audio-feature head: ``tunelens train features``,
``tunelens heads list|activate|rollback`` and ``tunelens retrain [--watch]``.

Registered on :mod:`tunelens.cli.app`'s app when that module is imported; kept apart so the main
CLI module stays about recommending, and so that these commands import numpy-heavy modules only
when run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tunelens.cli.app import (
    CliFailure,
    _encoder_choice,
    _fail,
    _open_database,
    app,
    err,
    out,
    train_app,
)
from tunelens.core.errors import TunelensError
from tunelens.core.settings import get_settings

heads_app = typer.Typer(
    help="List, activate and roll back trained heads (reading and feature heads).",
    no_args_is_help=True,
)
app.add_typer(heads_app, name="heads")


def _progress(message: str) -> None:
    err.print(message, highlight=False)


def _head_option(value: str) -> Any:
    if value not in ("ridge", "transformer"):
        err.print(f"[bold red]error:[/] --head must be ridge or transformer, not {value!r}")
        raise CliFailure(2)
    return value


@train_app.command("features")
def train_features_cmd(
    pairs: Annotated[
        Path | None,
        typer.Option(
            "--pairs",
            help="CSV: image (path, file://, s3://, blob:<sha256>), track_id and/or feature "
            "columns, optional weight and emotion.",
        ),
    ] = None,
    from_feedback: Annotated[
        bool,
        typer.Option(
            "--from-feedback", help="Also use likes on kept (consented) pictures as pairs."
        ),
    ] = False,
    feedback_weight: Annotated[
        float, typer.Option(help="Weight of a feedback pair (a curated pair weighs 1).")
    ] = 0.5,
    head: Annotated[str, typer.Option("--head", help="ridge or transformer.")] = "ridge",
    catalog: Annotated[
        Path | None, typer.Option("--catalog", help="Catalogue directory (default: settings).")
    ] = None,
    encoder: Annotated[
        str | None, typer.Option("--encoder", help="auto, clip or colour (default: settings).")
    ] = None,
    test_size: Annotated[float, typer.Option(help="Share of pictures held out.")] = 0.25,
    seed: Annotated[int, typer.Option(help="Seed of the split and of the transformer.")] = 0,
    epochs: Annotated[
        int | None, typer.Option(min=1, help="Transformer epochs (default 120).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Fit a learned picture → audio-feature head on paired data; report it beside its
    baselines; save it versioned; activate it only if it beats them."""
    from tunelens.heads.feature import transformer_config
    from tunelens.training.features import format_feature_report, train_features

    if pairs is None and not from_feedback:
        err.print("[bold red]error:[/] give --pairs PAIRS.csv and/or --from-feedback")
        raise CliFailure(2)
    model = _head_option(head)
    transformer = transformer_config(epochs=epochs) if epochs is not None else None
    try:
        result = train_features(
            pairs_csv=pairs,
            db=_open_database() if from_feedback else None,
            head=model,
            settings=get_settings(),
            encoder=_encoder_choice(encoder),
            catalog_dir=catalog,
            seed=seed,
            test_size=test_size,
            feedback_weight=feedback_weight,
            transformer=transformer,
            progress=_progress,
        )
    except TunelensError as error:
        raise _fail(error) from None
    if as_json:
        sys.stdout.write(json.dumps(result.report, indent=2, ensure_ascii=False) + "\n")
        return
    out.print(format_feature_report(result.report), highlight=False)
    out.print(f"saved to {result.path}", highlight=False)


# --------------------------------------------------------------------------- heads


def _figures(row: dict[str, Any]) -> str:
    f = row["figures"]
    if row["task"] == "features":

        def num(value: Any, fmt: str) -> str:
            return "–" if value is None else format(value, fmt)

        return (
            f"{f.get('model')}: MSE {num(f.get('mse'), '.3f')} (mean {num(f.get('mse_baseline'), '.3f')}), "
            f"R² {num(f.get('r2'), '.3f')}, emotions {num(f.get('emotion_accuracy'), '.0%')} "
            f"(majority {num(f.get('emotion_baseline'), '.0%')}), top-10 "
            f"{num(f.get('hit_at_10'), '.0%')} (mapping {num(f.get('hit_at_10_mapping'), '.0%')})"
        )
    acc, base = f.get("accuracy"), f.get("baseline_accuracy")
    if acc is None:
        return "no report"
    return f"accuracy {acc:.0%} (majority {base or 0:.0%})"


@heads_app.command("list")
def heads_list(
    task: Annotated[
        str | None, typer.Option("--task", help="emotion, genre or features (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every saved head, newest first per encoder and task; * marks the active one."""
    from tunelens.heads.store import TASKS, list_heads

    if task is not None and task not in TASKS:
        err.print(f"[bold red]error:[/] --task must be one of {', '.join(TASKS)}")
        raise CliFailure(2)
    rows = [r for r in list_heads(get_settings().heads_dir) if task is None or r["task"] == task]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    if not rows:
        out.print(f"no trained heads in {get_settings().heads_dir}", highlight=False)
        return
    for row in rows:
        mark = "*" if row["active"] else " "
        verdict = "passed" if row["passed"] else "refused"
        out.print(
            f"{mark} {row['model_id']}/{row['task']}/{row['version']}  {verdict}  {_figures(row)}",
            highlight=False,
        )


@heads_app.command("activate")
def heads_activate(
    version: Annotated[str, typer.Argument(help="The version to use (see `heads list`).")],
    task: Annotated[str | None, typer.Option("--task", help="emotion, genre or features.")] = None,
    model_id: Annotated[
        str | None, typer.Option("--model-id", help="Encoder model id (its folder name).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Activate even a head that did not pass its gate.")
    ] = False,
) -> None:
    """Make one saved head the active one (the previous one stays available for rollback)."""
    from tunelens.heads.store import check_activatable, find_task_folders, one_folder, set_active

    try:
        folder = one_folder(
            find_task_folders(
                get_settings().heads_dir, task=task, model_id=model_id, version=version
            ),
            f"version {version!r}",
        )
        check_activatable(folder, version, force=force)
        set_active(folder, version, reason="tunelens heads activate")
    except TunelensError as error:
        raise _fail(error) from None
    out.print(
        f"active {folder.name} head for {folder.parent.name}: {version} (running servers pick "
        "up feature heads within seconds; reading heads at their next start)",
        highlight=False,
    )


@heads_app.command("rollback")
def heads_rollback(
    task: Annotated[str, typer.Option("--task", help="emotion, genre or features.")] = "features",
    model_id: Annotated[
        str | None, typer.Option("--model-id", help="Encoder model id (its folder name).")
    ] = None,
) -> None:
    """Restore the head that was active before the last activation (or none)."""
    from tunelens.heads.store import find_task_folders, one_folder, rollback

    try:
        folder = one_folder(
            find_task_folders(get_settings().heads_dir, task=task, model_id=model_id),
            f"task {task!r}",
        )
        previous, now = rollback(folder)
    except TunelensError as error:
        raise _fail(error) from None
    out.print(
        f"rolled back {folder.parent.name}/{folder.name}: {previous or 'none'} → "
        f"{now or 'none (no learned head)'}",
        highlight=False,
    )


# --------------------------------------------------------------------------- retrain


@app.command()
def retrain(
    watch: Annotated[
        bool, typer.Option("--watch", help="Keep checking every --interval seconds.")
    ] = False,
    interval: Annotated[
        float, typer.Option(min=0, help="Seconds between checks with --watch.")
    ] = 3600.0,
    threshold: Annotated[
        int | None,
        typer.Option(
            min=1, help="New feedback pairs needed (default: TUNELENS_RETRAIN_THRESHOLD)."
        ),
    ] = None,
    head: Annotated[
        str | None, typer.Option("--head", help="ridge or transformer (default: settings).")
    ] = None,
    pairs: Annotated[
        Path | None, typer.Option("--pairs", help="A curated pairs CSV to train with as well.")
    ] = None,
    catalog: Annotated[Path | None, typer.Option("--catalog", help="Catalogue directory.")] = None,
    encoder: Annotated[str | None, typer.Option("--encoder", help="auto, clip or colour.")] = None,
    max_checks: Annotated[
        int | None, typer.Option(min=1, hidden=True, help="Stop after N checks (tests).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per check.")] = False,
) -> None:
    """Retrain the feature head when enough new feedback pairs have arrived since the last
    head; activate it only if it beats its baselines and the active head."""
    from tunelens.training.retrain import Retrainer, RetrainOutcome
    from tunelens.training.retrain import watch as watch_loop

    def show(outcome: RetrainOutcome) -> None:
        if as_json:
            sys.stdout.write(json.dumps(outcome.to_dict()) + "\n")
            sys.stdout.flush()
            return
        line = f"{outcome.checked_at} {outcome.status}: {outcome.message}"
        if outcome.version:
            line += f" (head {outcome.version}, {'activated' if outcome.activated else 'kept'})"
        out.print(line, highlight=False)

    try:
        retrainer = Retrainer(
            get_settings(),
            _open_database(),
            threshold=threshold,
            head=_head_option(head) if head is not None else None,
            pairs_csv=pairs,
            encoder=_encoder_choice(encoder),
            catalog_dir=catalog,
            progress=_progress,
        )
        outcomes = watch_loop(
            retrainer,
            interval_s=interval,
            max_checks=max_checks if watch else 1,
            on_outcome=show,
        )
    except TunelensError as error:
        raise _fail(error) from None
    if not watch and outcomes and outcomes[-1].status == "error":
        raise CliFailure(1)
