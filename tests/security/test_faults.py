"""Faults: a database or S3 endpoint that is dead at start-up (503 with a code, /health
degraded, recovery without a restart when it comes back), SIGKILL in the middle of feedback
writes through the real server (no acknowledged row lost), and SIGTERM with a request in
flight (it completes), SIGKILL of the ``--workers`` supervisor (its workers exit, the port is
freed)."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.security.conftest import (
    AppFactory,
    ServerProcess,
    documented_codes,
    free_port,
)
from tests.unit.bad_images import sample_jpeg
from tunelens.pipeline import Pipeline
from tunelens.storage.db import Database, Feedback


def _wait_for(predicate: Callable[[], bool], timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _feedback(client: TestClient | httpx.Client, track_id: str) -> Any:
    return client.post("/api/v1/feedback", json={"track_id": track_id, "kind": "like"})


def test_database_dead_at_start_is_503_then_recovers(
    make_client: AppFactory, engine: Pipeline, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the database's folder should be")
    client = make_client(
        database_url=f"sqlite:///{blocker / 'db' / 'tunelens.db'}",
        web={"storage_retry_s": 0.1, "rate_limit_per_minute": 0},
    )
    track = engine.recommender.tracks[0].id
    down = _feedback(client, track)
    assert down.status_code == 503
    assert assert_documented_error_503(down) == "database_unavailable"
    health = client.get("/health").json()
    assert health["status"] == "degraded"
    assert health["database"]["status"] == "unavailable"
    assert health["database"]["error"]["code"] == "database_unavailable"
    recommend = client.post("/recommend", files={"image": ("a.jpg", sample_jpeg())})
    assert recommend.status_code == 200, "recommendations keep working, unrecorded"

    blocker.unlink()  # the operator fixes it; no restart
    assert _wait_for(lambda: client.get("/health").json()["status"] == "healthy")
    up = _feedback(client, track)
    assert up.status_code == 201, up.text
    assert client.get("/health").json()["database"]["error"] is None


def assert_documented_error_503(response: httpx.Response) -> str:
    body = response.json()
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] in documented_codes()
    return str(body["error"]["code"])


def test_postgres_on_a_dead_port_is_a_clear_503(make_client: AppFactory, engine: Pipeline) -> None:
    pytest.importorskip("psycopg", reason="psycopg is not installed (tunelens[postgres])")
    password = f"pw-{uuid.uuid4().hex}"
    client = make_client(
        database_url=f"postgresql://tunelens:{password}@127.0.0.1:{free_port()}/tunelens",
        web={"storage_retry_s": 0},
    )
    answer = _feedback(client, engine.recommender.tracks[0].id)
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error["code"] == "database_unavailable"
    # the answer a visitor may see names no server; the operator reads which one in /health
    assert "127.0.0.1" not in answer.text and error["details"] == {}
    health = client.get("/health")
    assert health.json()["status"] == "degraded" and "127.0.0.1" in health.text
    for text in (answer.text, health.text):
        assert password not in text, "the database password leaked"


@pytest.fixture
def moto_down() -> Iterator[Any]:
    """A moto S3 server that is *not* running yet (the test starts it)."""
    pytest.importorskip("boto3", reason="boto3 is not installed (tunelens[s3])")
    pytest.importorskip("moto.server", reason="moto[server] is not installed (tunelens[dev])")
    from tests.storage.conftest import MotoServer

    server = MotoServer(free_port())
    yield server
    server.stop()


@pytest.mark.s3
def test_s3_dead_at_start_degrades_then_delivers_the_outbox(
    make_client: AppFactory, moto_down: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    bucket = f"tl-{uuid.uuid4().hex[:12]}"
    client = make_client(
        blob_backend="s3",
        s3_endpoint_url=moto_down.endpoint,
        s3_bucket=bucket,
        s3_access_key_id="testing",
        s3_secret_access_key="testing",
        web={"storage_retry_s": 0.2, "rate_limit_per_minute": 0},
    )
    health = client.get("/health").json()
    assert health["status"] == "degraded"
    assert health["database"]["store_error"]["code"] == "blob_store_unavailable"
    kept = client.post(
        "/api/v1/recommend",
        files={"image": ("a.jpg", sample_jpeg(), "image/jpeg")},
        data={"consent": "true"},
    )
    assert kept.status_code == 200
    upload = kept.json()["upload"]
    assert upload["status"] == "pending" and upload["kept"] is True, "nothing is lost"

    moto_down.start()
    from tests.storage.conftest import s3_store

    store = s3_store(moto_down.endpoint, bucket)
    store.ensure_bucket()
    assert _wait_for(
        lambda: (
            (h := client.get("/health").json())["status"] == "healthy"
            and h["database"]["outbox_pending"] == 0
        )
    ), client.get("/health").json()
    sha = upload["sha256"]
    assert store.exists(f"{sha[:2]}/{sha[2:]}"), "the outbox was delivered on recovery"


# --------------------------------------------------------------------------- processes


def _recommend_once(base: str) -> tuple[str, str]:
    answer = httpx.post(
        f"{base}/api/v1/recommend", files={"image": ("a.jpg", sample_jpeg())}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return body["prediction_id"], body["tracks"][0]["track"]["id"]


@pytest.mark.slow
def test_sigkill_during_feedback_loses_no_acknowledged_row(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    """Four clients post feedback as fast as they can; the server is SIGKILLed mid-stream.
    Every feedback id the server acknowledged (201) is in the database afterwards."""
    server = server_factory({"TUNELENS_RATE_LIMIT_PER_MINUTE": "0"}).start()
    prediction, track = _recommend_once(server.base)
    acknowledged: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(base_url=server.base, timeout=10) as http:
            token = http.post("/api/v1/clients").json()["client_token"]
            i = 0
            while not stop.is_set():
                kind = ("like", "dislike", "played", "not_interested")[i % 4]
                try:
                    answer = http.post(
                        "/api/v1/feedback",
                        json={"track_id": track, "kind": kind, "prediction_id": prediction},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                except httpx.TransportError:
                    return  # the server died under us: this one was never acknowledged
                if answer.status_code == 201:
                    with lock:
                        acknowledged.append(int(answer.json()["id"]))
                i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    assert _wait_for(lambda: len(acknowledged) >= 200, timeout=60), server.log()
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    db = Database(f"sqlite:///{server.cwd / 'data' / 'tunelens.db'}")
    try:
        with db.read() as session:
            stored = set(session.scalars(select(Feedback.id)))
    finally:
        db.dispose()
    missing = sorted(set(acknowledged) - stored)
    print(f"acknowledged {len(acknowledged)} feedback rows before SIGKILL; stored {len(stored)}")
    assert not missing, f"{len(missing)} acknowledged rows lost, e.g. {missing[:5]}"


@pytest.mark.slow
def test_sigterm_lets_the_request_in_flight_finish(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """A picture is being uploaded slowly when SIGTERM arrives: it is still answered (200),
    new connections are refused, and the process exits cleanly."""
    server = server_factory().start()
    boundary = "tunelensboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    body = head + sample_jpeg() + f"\r\n--{boundary}--\r\n".encode()
    sent_first = threading.Event()

    def slow_body() -> Iterator[bytes]:
        step = len(body) // 10 + 1
        for i in range(0, len(body), step):
            yield body[i : i + step]
            sent_first.set()
            time.sleep(0.2)

    result: dict[str, Any] = {}

    def upload() -> None:
        try:
            result["response"] = httpx.post(
                f"{server.base}/api/v1/recommend",
                content=slow_body(),
                headers={
                    "content-type": f"multipart/form-data; boundary={boundary}",
                    "content-length": str(len(body)),
                },
                timeout=30,
            )
        except httpx.HTTPError as exc:
            result["error"] = exc

    thread = threading.Thread(target=upload)
    thread.start()
    assert sent_first.wait(10)
    time.sleep(0.3)  # the server has the request's head and is reading its body
    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    thread.join(timeout=30)
    assert "error" not in result, result.get("error")
    assert result["response"].status_code == 200, result["response"].text[:300]
    assert result["response"].json()["tracks"]
    # uvicorn re-raises the signal once it has shut down cleanly (exit status -SIGTERM)
    assert server.process.wait(timeout=20) in (0, -signal.SIGTERM), server.log()
    assert "Application shutdown complete" in server.log()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.base}/health", timeout=2)


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc, Linux)."""
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat_file.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie holds no socket


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_workers_exit_when_the_supervisor_is_killed(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """``kill -9`` of the ``serve --workers 2`` supervisor: both workers see it and exit, and
    within 5 s nothing holds the port (a new server can start) instead of orphans serving."""
    server = server_factory()
    server.command += ["--workers", "2"]
    server.start()
    assert _wait_for(lambda: server.log().count("Application startup complete") >= 2, 60)
    assert server.process is not None
    supervisor = server.process.pid
    workers = _children(supervisor)  # the two workers (and any helper multiprocessing made)
    assert len(workers) >= 2, server.log()
    assert not _port_is_free(server.port)
    os.kill(supervisor, signal.SIGKILL)
    server.process.wait(timeout=10)
    killed = time.monotonic()
    assert _wait_for(lambda: not any(_alive(pid) for pid in workers), timeout=5), server.log()
    left = max(0.1, 5 - (time.monotonic() - killed))
    assert _wait_for(lambda: _port_is_free(server.port), timeout=left)
