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
* **The supervisor dies** (``kill -9``, an OOM kill): each worker notices at once through the
  kernel's parent-death signal (``PR_SET_PDEATHSIG``, Linux) or, elsewhere and as a backstop,
  a thread watching its parent pid every second, and stops gracefully (SIGTERM: the listening
  socket is closed first, requests in flight get ``GRACEFUL_SHUTDOWN_S``), then hard. Orphaned
  workers would otherwise keep the port and serve on, and a new ``tunelens serve`` could not
  bind (see :func:`exit_with_supervisor`).

Metrics: the supervisor points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh private directory
(or empties the one the operator set) before any worker starts, so every worker's counters
land in one place and ``/metrics`` on any worker reports the whole server.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from pydantic import ValidationError
from uvicorn.supervisors import Multiprocess

from tunelens.catalogue.remote import remote_url
from tunelens.core.errors import ConfigError
from tunelens.core.settings import EncoderChoice, get_settings, settings_error
from tunelens.web.middleware.metrics import MULTIPROC_ENV
from tunelens.web.settings import WebSettings

log = logging.getLogger("tunelens.web")

PREDICTIONS_ENV = "TUNELENS_PREDICTION_CACHE_DIR"
#: the supervisor's pid, told to the workers it spawns (they stop when it is gone)
SUPERVISOR_ENV = "TUNELENS_SUPERVISOR_PID"
#: ``prctl`` option: the signal this process gets when its parent dies (linux/prctl.h)
PR_SET_PDEATHSIG = 1
#: how often the fallback watch looks at the parent pid
PARENT_WATCH_S = 1.0

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


def bind_listener(host: str, port: int) -> socket.socket:
    """The server's socket, bound before anything is loaded, so a busy or forbidden port is
    one clear ConfigError (``port_unavailable``) instead of a server that loads its models,
    says it serves, and exits. uvicorn's own options: ``SO_REUSEADDR``, inheritable (workers
    get it), listening once the app has started."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family=family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = {
            errno.EADDRINUSE: "the address is already in use (is another server running?)",
            errno.EACCES: "permission denied (ports below 1024 need privileges)",
            errno.EADDRNOTAVAIL: "this machine has no such address",
        }.get(exc.errno or 0, exc.strerror or str(exc))
        raise ConfigError(
            f"cannot listen on {host}:{port}: {reason}; stop the other server or choose "
            "another --host/--port.",
            code="port_unavailable",
            details={"host": host, "port": port},
        ) from None
    sock.set_inheritable(True)
    return sock


def run_workers(
    serve: ServeOptions, workers: int, web: WebSettings, listener: socket.socket
) -> None:
    """Start ``workers`` processes on the bound ``listener`` and supervise them until stopped."""
    # workers are spawned: they learn the command-line choices through the environment
    if serve.catalog_dir is not None:
        url = remote_url(serve.catalog_dir)
        os.environ["TUNELENS_CATALOG"] = url or str(serve.catalog_dir.resolve())
    if serve.encoder is not None:
        os.environ["TUNELENS_ENCODER"] = serve.encoder
    os.environ[SUPERVISOR_ENV] = str(os.getpid())
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
        try:
            Multiprocess(config, sockets=[listener]).run()
        finally:
            listener.close()


# --------------------------------------------------------------------------- in each worker


def exit_with_supervisor(poll_s: float = PARENT_WATCH_S) -> bool:
    """In a worker process: stop when the supervisor that spawned it dies.

    Asks the kernel for SIGTERM on the parent's death (Linux ``prctl(PR_SET_PDEATHSIG)``) and
    starts a daemon thread that watches the parent pid (every platform; it also covers a
    parent that died before the ``prctl`` took effect). A no-op outside a supervised worker
    (``TUNELENS_SUPERVISOR_PID`` unset). Returns whether the kernel signal was set."""
    expected = os.environ.get(SUPERVISOR_ENV, "")
    if not expected.isdigit():
        return False
    supervisor = int(expected)
    armed = _parent_death_signal(signal.SIGTERM)
    watch = threading.Thread(
        target=_watch_parent, args=(supervisor, poll_s), name="tunelens-parent-watch", daemon=True
    )
    watch.start()
    return armed


def _parent_death_signal(sig: signal.Signals) -> bool:
    """``prctl(PR_SET_PDEATHSIG, sig)`` through libc; False where there is none (not Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(supervisor: int, poll_s: float) -> None:
    """Wait until the parent is no longer ``supervisor``; then stop this worker gracefully
    (uvicorn handles SIGTERM), and for good if it is still running after the grace period."""
    while os.getppid() == supervisor:
        time.sleep(poll_s)
    log.error(
        "the supervisor (pid %d) is gone: this worker stops so the port is freed",
        supervisor,
        extra={"supervisor_pid": supervisor},
    )
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACEFUL_SHUTDOWN_S + 5)
    os._exit(1)
