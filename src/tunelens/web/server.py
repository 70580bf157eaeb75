"""``tunelens serve``: configure logging, build the app and run it with uvicorn."""

from __future__ import annotations

import logging
from pathlib import Path

import uvicorn

from tunelens.config import EncoderChoice, get_settings
from tunelens.web.app import create_app
from tunelens.web.logging_setup import configure_logging
from tunelens.web.settings import WebSettings

log = logging.getLogger("tunelens.web")


def run(
    host: str,
    port: int,
    catalog_dir: Path | None,
    encoder: EncoderChoice | None,
) -> None:
    """Serve the page and the API until interrupted (one process; the engine loads once)."""
    web = WebSettings()
    configure_logging(web.log_level, json_lines=web.log_json)
    app = create_app(get_settings(), encoder=encoder, catalog_dir=catalog_dir, web_settings=web)
    log.info("tunelens serving on http://%s:%d", host, port, extra={"host": host, "port": port})
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
