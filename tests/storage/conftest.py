"""Fixtures for the storage tests: a real PostgreSQL server and a real S3-compatible server,
both started on loopback by the tests themselves, and a database per test on each backend.

PostgreSQL: ``initdb`` + ``pg_ctl`` from Debian's ``postgresql-15`` (any version under
``/usr/lib/postgresql/*/bin``) on a temporary directory and a free port; as root the server
runs as the ``postgres`` OS user (PostgreSQL refuses to run as root). S3: moto's server mode
(``ThreadedMotoServer``) on 127.0.0.1.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tunelens.storage.db import Database
from tunelens.storage.migrate import upgrade

STORAGE_ENV = (
    "TUNELENS_DATABASE_URL",
    "TUNELENS_BLOB_BACKEND",
    "TUNELENS_S3_ENDPOINT_URL",
    "TUNELENS_S3_BUCKET",
    "TUNELENS_S3_PREFIX",
    "TUNELENS_S3_REGION",
    "TUNELENS_S3_ACCESS_KEY_ID",
    "TUNELENS_S3_SECRET_ACCESS_KEY",
    "TUNELENS_DISLIKE_ARTIST_THRESHOLD",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
)


@pytest.fixture(autouse=True)
def _clean_storage_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in STORAGE_ENV:
        monkeypatch.delenv(name, raising=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- PostgreSQL


def _pg_bindir() -> Path | None:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


@dataclass
class PgServer:
    port: int
    bindir: Path
    root: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql)  # type: ignore[call-overload]


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb)")
    pytest.importorskip("psycopg", reason="psycopg is not installed (tunelens[postgres])")
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' OS user to run the server")
    # not under pytest's tmp dir: its parents are private to root, and postgres must enter it
    shared_tmp = "/tmp" if os.geteuid() == 0 and Path("/tmp").is_dir() else None
    root = Path(tempfile.mkdtemp(prefix="tunelens-pg-", dir=shared_tmp))
    if os.geteuid() == 0:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data, log = root / "data", root / "server.log"
    port = free_port()

    def run(cmd: list[str]) -> None:
        subprocess.run(_as_postgres(cmd), check=True, capture_output=True, text=True, timeout=120)

    try:
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
        run([*initdb, "-E", "UTF8", "--no-sync", "--no-instructions"])
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} "
            "-c max_connections=50"
        )
        pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60"]
        run([*pg_ctl, "-o", options, "start"])
    except subprocess.CalledProcessError as exc:
        server_log = log.read_text() if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc.stderr}\n{server_log}")
    try:
        yield PgServer(port=port, bindir=bindir, root=root)
    finally:
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh, empty database on the session's server."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    pg_server.admin(f"CREATE DATABASE {name}")
    yield pg_server.url(name)
    pg_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db' / 'tunelens.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database URL, once per backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A migrated database, once per backend."""
    upgrade(db_url)
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    upgrade(sqlite_url)
    database = Database(sqlite_url)
    yield database
    database.dispose()


# --------------------------------------------------------------------------- S3 (moto)


class MotoServer:
    """moto's threaded server on 127.0.0.1 that can be stopped and started again.

    Objects live in moto's in-process backend, so they survive a stop/start (like a real
    store's disk); ``stop`` also closes the listening socket, so the port refuses
    connections the way a dead server's does.
    """

    def __init__(self, port: int) -> None:
        from moto.server import ThreadedMotoServer

        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self._server: Any = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.running = False

    def start(self) -> None:
        self._server.start()
        self.running = True

    def stop(self) -> None:
        if not self.running:
            return
        self._server.stop()
        inner = getattr(self._server, "_server", None)
        if inner is not None:
            inner.server_close()
        self.running = False


def _moto_available() -> None:
    pytest.importorskip("boto3", reason="boto3 is not installed (tunelens[s3])")
    pytest.importorskip("moto.server", reason="moto[server] is not installed (tunelens[dev])")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    _moto_available()
    server = MotoServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_moto_server() -> Iterator[MotoServer]:
    """A server of this test's own, which the test may stop and start."""
    _moto_available()
    server = MotoServer(free_port())
    server.start()
    yield server
    server.stop()


def s3_store(endpoint: str, bucket: str | None = None, prefix: str = "uploads/") -> Any:
    from tunelens.storage.blobs import S3BlobStore

    store = S3BlobStore(
        bucket or f"tl-{uuid.uuid4().hex[:12]}",
        prefix=prefix,
        endpoint_url=endpoint,
        region="us-east-1",
        access_key_id="testing",
        secret_access_key="testing",
    )
    return store
