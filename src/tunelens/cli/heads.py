"""``tunelens heads list|activate|rollback``: every saved head (reading and feature heads),
which one is active, and switching between them."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tunelens.cli.common import JsonOption, fail, out, print_json, usage_error
from tunelens.core.errors import TunelensError
from tunelens.core.settings import get_settings
from tunelens.heads.selection import check_activatable
from tunelens.heads.store import (
    TASKS,
    find_task_folders,
    list_heads,
    one_folder,
    rollback,
    set_active,
)

heads_app = typer.Typer(
    help="List, activate and roll back trained heads (reading and feature heads).",
    no_args_is_help=True,
)

NO_FIGURE = "–"

ModelId = Annotated[
    str | None, typer.Option("--model-id", help="Encoder model id (its folder name).")
]


def figures(row: dict[str, Any]) -> str:
    """A saved head's report in one line: a feature head's errors, hit rates and baselines, or
    a reading head's accuracy beside the majority baseline."""
    f = row["figures"]
    if row["task"] == "features":
        return feature_figures(f)
    acc, base = f.get("accuracy"), f.get("baseline_accuracy")
    if acc is None:
        return "no report"
    return f"accuracy {acc:.0%} (majority {base or 0:.0%})"


def feature_figures(f: dict[str, Any]) -> str:
    def num(key: str, fmt: str) -> str:
        value = f.get(key)
        return NO_FIGURE if value is None else format(value, fmt)

    return (
        f"{f.get('model')}: MSE {num('mse', '.3f')} (mean {num('mse_baseline', '.3f')}), "
        f"R² {num('r2', '.3f')}, emotions {num('emotion_accuracy', '.0%')} "
        f"(majority {num('emotion_baseline', '.0%')}), top-10 "
        f"{num('hit_at_10', '.0%')} (mapping {num('hit_at_10_mapping', '.0%')})"
    )


@heads_app.command("list")
def heads_list(
    task: Annotated[
        str | None, typer.Option("--task", help="emotion, genre or features (default: all).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Every saved head, newest first per encoder and task; * marks the active one."""
    if task is not None and task not in TASKS:
        raise usage_error(f"--task must be one of {', '.join(TASKS)}")
    heads_dir = get_settings().heads_dir
    rows = [r for r in list_heads(heads_dir) if task is None or r["task"] == task]
    if as_json:
        print_json(rows, indent=2)
        return
    if not rows:
        out.print(f"no trained heads in {heads_dir}", highlight=False)
        return
    for row in rows:
        mark = "*" if row["active"] else " "
        verdict = "passed" if row["passed"] else "refused"
        out.print(
            f"{mark} {row['model_id']}/{row['task']}/{row['version']}  {verdict}  {figures(row)}",
            highlight=False,
        )


@heads_app.command("activate")
def heads_activate(
    version: Annotated[str, typer.Argument(help="The version to use (see `heads list`).")],
    task: Annotated[str | None, typer.Option("--task", help="emotion, genre or features.")] = None,
    model_id: ModelId = None,
    force: Annotated[
        bool, typer.Option("--force", help="Activate even a head that did not pass its gate.")
    ] = False,
) -> None:
    """Make one saved head the active one (the previous one stays available for rollback)."""
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
        raise fail(error) from None
    out.print(
        f"active {folder.name} head for {folder.parent.name}: {version} (running servers pick "
        "up feature heads within seconds; reading heads at their next start)",
        highlight=False,
    )


@heads_app.command("rollback")
def heads_rollback(
    task: Annotated[str, typer.Option("--task", help="emotion, genre or features.")] = "features",
    model_id: ModelId = None,
) -> None:
    """Restore the head that was active before the last activation (or none)."""
    try:
        folder = one_folder(
            find_task_folders(get_settings().heads_dir, task=task, model_id=model_id),
            f"task {task!r}",
        )
        previous, now = rollback(folder)
    except TunelensError as error:
        raise fail(error) from None
    out.print(
        f"rolled back {folder.parent.name}/{folder.name}: {previous or 'none'} → "
        f"{now or 'none (no learned head)'}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(heads_app, name="heads")
