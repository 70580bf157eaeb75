"""``tunelens models export|info``: make the ONNX files the CLIP encoder loads, and say which
encoder a run would use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunelens.cli.common import encoder_choice, fail, notice, out
from tunelens.core.errors import TunelensError
from tunelens.core.settings import get_settings
from tunelens.modelhub.export import export_clip
from tunelens.modelhub.loader import load_encoder

models_app = typer.Typer(help="Export and inspect CLIP models.", no_args_is_help=True)


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
    try:
        manifest = export_clip(checkpoint, output, int8=int8, pretrained=not random_weights)
    except TunelensError as error:
        raise fail(error) from None
    out.print(f"exported {checkpoint} → {output} (model id {manifest.model_id})", highlight=False)


@models_app.command("info")
def models_info(
    encoder: Annotated[str, typer.Option(help="auto, clip or colour.")] = "auto",
) -> None:
    """Say which encoder tunelens would use, and why."""
    choice = encoder_choice(encoder)
    assert choice is not None
    try:
        model, notices = load_encoder(choice, get_settings())
    except TunelensError as error:
        raise fail(error) from None
    for text in notices:
        notice(text)
    out.print(
        f"encoder: {model.name}\nmodel id: {model.model_id}\ndim: {model.dim}\n"
        f"pretrained: {model.is_pretrained}\ntext tower: {model.supports_text}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
