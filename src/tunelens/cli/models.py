"""``tunelens models list|pull|info|export``: the CLIP models tunelens knows, fetching one into
the cache, saying which encoder a run would use, and exporting a checkpoint of your own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from tunelens.cli.common import JsonOption, encoder_choice, err, fail, notice, out, print_json
from tunelens.core.errors import TunelensError
from tunelens.core.settings import Precision, Settings, get_settings
from tunelens.modelhub.cache import cached_snapshot
from tunelens.modelhub.download import pull
from tunelens.modelhub.export import export_clip
from tunelens.modelhub.loader import load_encoder, open_clip
from tunelens.modelhub.registry import PRECISIONS, Choice, RegisteredModel, choose, registry

models_app = typer.Typer(help="List, pull, inspect and export CLIP models.", no_args_is_help=True)


class _RichPull:
    """A rich progress bar per file of a pull (on stderr; stdout stays the answer)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None
        self.total: int | None = None

    def begin(self, path: str, total: int | None) -> None:
        self.task = self.progress.add_task(path, total=total)
        self.total = total

    def advance(self, n_bytes: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n_bytes)

    def end(self, path: str, fetched: bool) -> None:
        if not fetched:
            self.progress.console.print(f"  {path}: already pulled", highlight=False)
        elif self.task is not None and self.total is not None:
            self.progress.update(self.task, completed=self.total)
        self.task = None


def _settings_for(name: str | None, precision: str | None, revision: str | None) -> Settings:
    settings = get_settings()
    update: dict[str, Any] = {}
    if name is not None and "/" in name and registry().by_repo(name) is None:
        update |= {"model": None, "model_repo": name}  # a hub repository outside the registry
    elif name is not None:
        update |= {"model": name, "model_repo": None}
    if precision is not None:
        update["model_precision"] = precision
    if revision is not None:
        update["model_revision"] = revision
    return settings.model_copy(update=update)


def _pulled_precisions(model: RegisteredModel, settings: Settings) -> list[str]:
    found = []
    for precision in model.precisions:
        choice = Choice(model, model.revision, cast(Precision, precision))
        if cached_snapshot(settings.models_dir, choice) is not None:
            found.append(precision)
    return found


@models_app.command("list")
def models_list(as_json: JsonOption = False) -> None:
    """The registry: each model's hub repository, sizes per precision, accuracy and licence."""
    reg, settings = registry(), get_settings()
    rows = [(m, _pulled_precisions(m, settings)) for m in reg.models.values()]
    if as_json:
        print_json(
            {
                "default": {"model": reg.default_model, "precision": reg.default_precision},
                "models": [{**m.to_dict(), "pulled": p} for m, p in rows],
            },
            indent=2,
        )
        return
    table = Table(title="CLIP models (tunelens models pull NAME)", title_justify="left")
    for column in (
        "name",
        "repository @ revision",
        "download MB: " + " / ".join(PRECISIONS),
        "IN-1k 0-shot",
    ):
        table.add_column(column)
    table.add_column("pulled")
    for model, got in rows:
        sizes = " / ".join(
            _mb(model.size_mb(p)) if p in model.precisions else "—" for p in PRECISIONS
        )
        star = " (default)" if model.name == reg.default_model else ""
        top1 = model.imagenet_zero_shot_top1
        table.add_row(
            model.name + star,
            f"{model.repo} @ {model.revision[:12]}",
            sizes,
            f"{top1:.1f} %" if top1 is not None else "—",
            ", ".join(got) or "—",
        )
    out.print(table)
    out.print(
        f"default: {reg.default_model} {reg.default_precision}; licences and accuracy sources: "
        "`tunelens models list --json`, docs/models.md",
        highlight=False,
    )


def _mb(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}"


@models_app.command("pull")
def models_pull(
    name: Annotated[
        str | None, typer.Argument(help="Registry name or hub repo (default: the configured).")
    ] = None,
    precision: Annotated[
        Precision | None,
        typer.Option(
            help="fp32, int8, fp16, or int8-local (the fp32 image graph quantised on this "
            "machine; default: the model's)."
        ),
    ] = None,
    revision: Annotated[
        str | None, typer.Option(help="Branch, tag or commit to pin (default: the registry's).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Fetch every file again and re-lock it.")
    ] = False,
) -> None:
    """Download a model into the cache (resumable; checksums locked at first download)."""
    try:
        settings = _settings_for(name, precision, revision)
        choice = choose(settings)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=err) as bar:
            result = pull(choice, settings.models_dir, progress=_RichPull(bar), force=force)
        encoder = open_clip(result.folder, choice, settings)  # verifies the lock, loads a graph
    except TunelensError as error:
        raise fail(error) from None
    out.print(
        f"{choice.model.name} {choice.precision}: {choice.model.repo} @ {result.commit}\n"
        f"folder: {result.folder}\nfetched: {len(result.fetched)} file(s); "
        + (f"made here: {', '.join(result.derived)}; " if result.derived else "")
        + f"model id {encoder.model_id}, {encoder.dim}-d embeddings",
        highlight=False,
    )


@models_app.command("info")
def models_info(
    encoder: Annotated[str, typer.Option(help="auto, clip or colour.")] = "auto",
    as_json: JsonOption = False,
) -> None:
    """Say which encoder tunelens would use, where its model comes from, and why."""
    choice = encoder_choice(encoder)
    assert choice is not None
    settings = get_settings()
    try:
        model, notices = load_encoder(choice, settings)
        wanted = choose(settings) if settings.model_dir is None else None
    except TunelensError as error:
        raise fail(error) from None
    info: dict[str, Any] = {
        "encoder": model.name,
        "model_id": model.model_id,
        "dim": model.dim,
        "pretrained": model.is_pretrained,
        "text_tower": model.supports_text,
        "layout": getattr(model, "layout", None),
        "folder": str(getattr(model, "model_dir", "")) or None,
        "preprocessing": _recipe(model),
        "notices": notices,
    }
    if wanted is not None:
        info["registry"] = {
            "model": wanted.model.name,
            "repo": wanted.model.repo,
            "revision": wanted.revision,
            "precision": wanted.precision,
            "licence": wanted.model.licence,
            "imagenet_zero_shot_top1": wanted.model.imagenet_zero_shot_top1,
        }
    if as_json:
        print_json(info, indent=2)
        return
    for text in notices:
        notice(text)
    lines = [f"{k}: {v}" for k, v in info.items() if k not in ("notices", "registry")]
    lines += [f"registry {k}: {v}" for k, v in info.get("registry", {}).items()]
    out.print("\n".join(lines), highlight=False)


def _recipe(model: object) -> str | None:
    recipe = getattr(model, "recipe", None)
    describe = getattr(recipe, "describe", None)
    return str(describe()) if callable(describe) else None


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
    """Export a CLIP checkpoint to ONNX files tunelens loads (needs the torch extra)."""
    try:
        manifest = export_clip(checkpoint, output, int8=int8, pretrained=not random_weights)
    except TunelensError as error:
        raise fail(error) from None
    out.print(f"exported {checkpoint} → {output} (model id {manifest.model_id})", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
