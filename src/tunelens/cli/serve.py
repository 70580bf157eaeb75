"""``tunelens serve``: start the web front end (page and REST API) under uvicorn.

The only command that reaches into the web package, which is why the layer contract puts the
CLI above the web front end (and the web front end never imports the CLI).
"""

from __future__ import annotations

from typing import Annotated

import typer

from tunelens.cli.common import CatalogOption, EncoderOption, encoder_choice
from tunelens.web.server import run

Host = Annotated[str, typer.Option(help="Interface to listen on.")]
Port = Annotated[int, typer.Option(help="TCP port.")]
Workers = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=64,
        help="Production mode: N supervised worker processes (each loads the models once; "
        "SIGHUP reloads them one by one). Default: one in-process server.",
    ),
]


def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    catalog: CatalogOption = None,
    encoder: EncoderOption = None,
    workers: Workers = None,
) -> None:
    """Serve the web page and the REST API (uvicorn)."""
    choice = encoder_choice(encoder)
    run(host=host, port=port, catalog_dir=catalog, encoder=choice, workers=workers)


def register(app: typer.Typer) -> None:
    app.command()(serve)
