"""``tunelens serve``: configure logging, build the app and run it with uvicorn."""

from __future__ import annotations

import logging
from pathlib import Path

import uvicorn

from tunelens.core.settings import EncoderChoice, get_settings
from tunelens.web.app import create_app
from tunelens.web.logging_setup import configure_logging
from tunelens.web.request_id import TrustedProxies
from tunelens.web.security import redact_secrets_in_logs
from tunelens.web.workers import load_web_settings, run_workers

log = logging.getLogger("tunelens.web")


def run(
    host: str,
    port: int,
    catalog_dir: Path | None,
    encoder: EncoderChoice | None,
    workers: int | None = None,
) -> None:
    """Serve the page and the API until interrupted: in this process (the engine loads once),
    or with ``workers`` supervised worker processes (see :mod:`tunelens.web.workers`)."""
    web = load_web_settings()
    configure_logging(web.log_level, json_lines=web.log_json)
    TrustedProxies.parse(web.trusted_proxies)  # a typo fails here, not in every worker
    if workers is not None:
        redact_secrets_in_logs(get_settings())  # also checks settings before any worker starts
        run_workers(host, port, workers, web, catalog_dir, encoder)
        return
    redact_secrets_in_logs(get_settings())  # no configured secret reaches a log line
    app = create_app(get_settings(), encoder=encoder, catalog_dir=catalog_dir, web_settings=web)
    log.info("tunelens serving on http://%s:%d", host, port, extra={"host": host, "port": port})
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,  # the app applies forwarded headers (TUNELENS_TRUSTED_PROXIES)
        timeout_graceful_shutdown=10,
    )
