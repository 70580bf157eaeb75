"""``tunelens serve``: configure logging, build the app and run it with uvicorn — in this
process, or as the factory each supervised worker process calls (:func:`worker_app`)."""

from __future__ import annotations

import logging
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from tunelens.core.settings import EncoderChoice, get_settings
from tunelens.web.app import create_app
from tunelens.web.middleware.log_redaction import redact_secrets_in_logs
from tunelens.web.middleware.logging_setup import configure_logging
from tunelens.web.middleware.request_id import TrustedProxies
from tunelens.web.services.workers import (
    ServeOptions,
    bind_listener,
    exit_with_supervisor,
    load_web_settings,
    run_workers,
)

log = logging.getLogger("tunelens.web")


def run(
    host: str,
    port: int,
    catalog_dir: Path | None,
    encoder: EncoderChoice | None,
    workers: int | None = None,
) -> None:
    """Serve the page and the API until interrupted: in this process (the engine loads once),
    or with ``workers`` supervised worker processes (see :mod:`tunelens.web.services.workers`).

    The port is bound first: a busy one is a ConfigError before anything loads or logs."""
    web = load_web_settings()
    configure_logging(web.log_level, json_lines=web.log_json)
    TrustedProxies.parse(web.trusted_proxies)  # a typo fails here, not in every worker
    redact_secrets_in_logs(get_settings())  # no configured secret reaches a log line
    listener = bind_listener(host, port)
    if workers is not None:
        run_workers(ServeOptions(host, port, catalog_dir, encoder), workers, web, listener)
        return
    try:
        app = create_app(get_settings(), encoder=encoder, catalog_dir=catalog_dir, web_settings=web)
        log.info("tunelens serving on http://%s:%d", host, port, extra={"host": host, "port": port})
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,  # the app applies forwarded headers (TUNELENS_TRUSTED_PROXIES)
            timeout_graceful_shutdown=10,
        )
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        listener.close()


def worker_app() -> FastAPI:
    """The factory each worker process calls: logging, settings (incl. secrets), the app.

    First of all the worker ties its life to the supervisor's, so a supervisor killed with
    SIGKILL leaves no worker holding the port."""
    exit_with_supervisor()
    web = load_web_settings()
    configure_logging(web.log_level, json_lines=web.log_json)
    settings = get_settings()
    redact_secrets_in_logs(settings)
    return create_app(settings, web_settings=web)
