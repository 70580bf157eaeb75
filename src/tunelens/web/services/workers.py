"""``tunelens serve --workers N``: uvicorn's process supervisor with N worker processes.

Each worker is a fresh Python process (spawned, not forked) that builds the app with
:func:`tunelens.web.server.worker_app` and loads the models and the catalogue once, in its lifespan, before it
takes traffic. The supervisor (this process) holds the listening socket and:

* **SIGHUP** — rolling reload: for each worker, start a replacement, wait until it has loaded
  its models (up to ``TUNELENS_WORKER_START_TIMEOUT_S``), then stop the old one gracefully. No
  request is refused meanwhile. New workers read ``.env``, secret files and the secrets manager
  afresh, so a rotated key or a rebuilt catalogue is picked up without downtime; the process
  environment itself is fixed at start (change it with a restart).
* **SIGTTIN / SIGTTOU** — one worker more / fewer.
* **SIGTERM / SIGINT** — graceful stop (``timeout_graceful_shutdown`` seconds for requests in
  flight).
* A worker that dies is replaced.

Metrics: the supervisor points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh private directory
(or empties the one the operator set) before any worker starts, so every worker's counters
land in one place and ``/metrics`` on any worker reports the whole server.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from pydantic import ValidationError
from uvicorn.supervisors import Multiprocess

from tunelens.core.settings import EncoderChoice, get_settings, settings_error
from tunelens.web.middleware.metrics import MULTIPROC_ENV
from tunelens.web.settings import WebSettings

log = logging.getLogger("tunelens.web")

PREDICTIONS_ENV = "TUNELENS_PREDICTION_CACHE_DIR"

#: what each worker process imports and calls (uvicorn's factory mode)
WORKER_APP = "tunelens.web.server:worker_app"
GRACEFUL_SHUTDOWN_S = 10


def load_web_settings() -> WebSettings:
    """The server's settings; a bad value is a ConfigError naming it (never its value)."""
    try:
        return WebSettings()
    except ValidationError as exc:
        raise settings_error(exc) from None


@contextlib.contextmanager
def _env_folder(variable: str, prefix: str) -> Iterator[tuple[Path, bool]]:
    """The folder named by ``variable`` (the operator's; yielded with False), else a private
    temporary one put into ``variable`` for the workers and removed on exit (True)."""
    configured = os.environ.get(variable)
    if configured:
        yield Path(configured), False
        return
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ[variable] = str(directory)
    try:
        yield directory, True
    finally:
        os.environ.pop(variable, None)
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def multiprocess_metrics_dir() -> Iterator[Path]:
    """A directory for prometheus_client's multiprocess files, empty at start.

    An operator's ``PROMETHEUS_MULTIPROC_DIR`` is used (and its stale ``*.db`` files from a
    previous run removed, as prometheus_client requires); otherwise a private temporary
    directory is made and removed on exit.
    """
    with _env_folder(MULTIPROC_ENV, "tunelens-metrics-") as (directory, private):
        if not private:
            directory.mkdir(parents=True, exist_ok=True)
            for stale in directory.glob("*.db"):
                stale.unlink()
        yield directory


@contextlib.contextmanager
def shared_predictions_dir() -> Iterator[Path]:
    """The folder the workers share recent predictions in (the commentary follow-up may reach
    any worker): the operator's ``TUNELENS_PREDICTION_CACHE_DIR``, else a private temporary
    one removed on exit."""
    with _env_folder(PREDICTIONS_ENV, "tunelens-predictions-") as (directory, _):
        yield directory


@dataclass(frozen=True)
class ServeOptions:
    """What ``tunelens serve`` was asked to serve, and where."""

    host: str
    port: int
    catalog_dir: Path | None = None
    encoder: EncoderChoice | None = None


def run_workers(serve: ServeOptions, workers: int, web: WebSettings) -> None:
    """Bind the socket, start ``workers`` processes and supervise them until stopped."""
    # workers are spawned: they learn the command-line choices through the environment
    if serve.catalog_dir is not None:
        os.environ["TUNELENS_CATALOG_DIR"] = str(serve.catalog_dir.resolve())
    if serve.encoder is not None:
        os.environ["TUNELENS_ENCODER"] = serve.encoder
    get_settings.cache_clear()
    host, port = serve.host, serve.port
    with multiprocess_metrics_dir() as metrics_dir, shared_predictions_dir():
        config = uvicorn.Config(
            WORKER_APP,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,  # the app applies forwarded headers (TUNELENS_TRUSTED_PROXIES)
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            timeout_worker_healthcheck=web.worker_start_timeout_s,
        )
        log.info(
            "tunelens serving on http://%s:%d with %d worker(s); SIGHUP reloads them one by one",
            host,
            port,
            workers,
            extra={"host": host, "port": port, "workers": workers, "metrics_dir": str(metrics_dir)},
        )
        socket = config.bind_socket()
        try:
            Multiprocess(config, sockets=[socket]).run()
        finally:
            socket.close()
