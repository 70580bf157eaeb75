"""Fixtures for the hardening tests: apps with chosen limits, a small catalogue for real
server processes, and the set of error codes the documentation promises.

The in-process apps share the web tests' colour engine over the shared Spotify catalogue; real
``tunelens serve`` processes get a few hundred songs of it instead, so they start in a second.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import REPO_ROOT, SPOTIFY_CSV, require_shared
from tests.web.conftest import load_colour_engine, offline_settings
from tunelens.pipeline import Pipeline
from tunelens.web.app import create_app
from tunelens.web.settings import WebSettings

_CODE = re.compile(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z]{4,})`")


@cache
def documented_codes() -> frozenset[str]:
    """The codes in docs/api.md's error table (rows ``| 4xx | `code` | …``) and the README's
    Errors section: a code a client can rely on is a code the documentation names."""
    found: set[str] = set()
    api = (REPO_ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for line in api.splitlines():
        cells = line.split("|")
        if len(cells) > 3 and re.fullmatch(r"[\d /]+", cells[1].strip()):
            found.update(_CODE.findall(cells[2]))
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Errors", 1)[1].split("\n## ", 1)[0]
    found.update(_CODE.findall(section))
    return frozenset(found)


def assert_documented_error(response: httpx.Response) -> str:
    """A 4xx in the one error shape whose code the documentation lists; returns the code."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    body = response.json()
    code = body["error"]["code"]
    assert isinstance(code, str) and code, body
    assert code in documented_codes(), f"undocumented error code {code!r}: {body}"
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return str(code)


@pytest.fixture(scope="session")
def engine(spotify_catalog: Path) -> Pipeline:
    return load_colour_engine(spotify_catalog)


AppFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(engine: Pipeline, tmp_path: Path) -> Iterator[AppFactory]:
    """``make_client(web={...}, **settings)``: a started TestClient around the shared engine,
    with its own data dir and the given web settings (others at their defaults)."""
    opened: list[TestClient] = []

    def factory(web: dict[str, Any] | None = None, **settings: Any) -> TestClient:
        home = tmp_path / f"home-{len(opened)}"
        app = create_app(
            offline_settings(home, catalog_dir=engine.settings.catalog_dir, **settings),
            engine=engine,
            web_settings=WebSettings(_env_file=None, **(web or {})),
        )
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        return client

    yield factory
    for client in opened:
        client.__exit__(None, None, None)


# --------------------------------------------------------------------------- real servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_small_csv(out: Path, rows: int = 400) -> Path:
    """The first ``rows`` songs of the shared Spotify CSV (a catalogue that loads at once)."""
    require_shared(SPOTIFY_CSV)
    with SPOTIFY_CSV.open(encoding="utf-8") as source:
        lines = [next(source) for _ in range(rows + 1)]
    out.write_text("".join(lines), encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def small_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tunelens.catalogue.build import build_catalog

    root = tmp_path_factory.mktemp("small-catalog")
    out = root / "catalog"
    build_catalog(write_small_csv(root / "songs.csv"), out)
    return out


class ServerProcess:
    """``tunelens serve`` in its own process on a free loopback port, stderr to a file."""

    def __init__(self, catalog: Path, home: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = home / f"server-{self.port}.log"
        home.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT / "src"),
            "TUNELENS_DATA_DIR": str(home / "data"),
            "TUNELENS_CACHE_DIR": str(home / "cache"),
            "TUNELENS_ALLOW_DOWNLOAD": "0",
            "HF_HUB_OFFLINE": "1",
            "TUNELENS_FACES": "0",
            **(env or {}),
        }
        self.command = [
            sys.executable,
            "-m",
            "tunelens.cli",
            "serve",
            "--port",
            str(self.port),
            "--catalog",
            str(catalog),
            "--encoder",
            "colour",
        ]
        self.cwd = home
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> ServerProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.cwd
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                health = httpx.get(f"{self.base}/health", timeout=1)
                if health.status_code == 200 and health.json()["status"] != "starting":
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"server did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode


@pytest.fixture
def server_factory(small_catalog: Path, tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def factory(env: dict[str, str] | None = None, home: Path | None = None) -> ServerProcess:
        server = ServerProcess(small_catalog, home or tmp_path / f"srv-{len(started)}", env)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()
