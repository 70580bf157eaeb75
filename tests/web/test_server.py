"""``tunelens serve`` as a real process: up quickly, answers curl-style requests, logs JSON."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.unit.bad_images import sample_jpeg

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_tunelens_serve_starts_and_recommends(
    spotify_catalog: Path, photo_bytes: bytes, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "TUNELENS_DATA_DIR": str(tmp_path / "data"),
        "TUNELENS_CACHE_DIR": str(tmp_path / "cache"),
        "TUNELENS_ALLOW_DOWNLOAD": "0",
        "HF_HUB_OFFLINE": "1",
    }
    command = [
        sys.executable,
        "-m",
        "tunelens.cli",
        "serve",
        "--port",
        str(port),
        "--catalog",
        str(spotify_catalog),
        "--encoder",
        "colour",
    ]
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        up_after = None
        while time.perf_counter() - start < 30:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    up_after = time.perf_counter() - start
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        assert up_after is not None, log_path.read_text()
        print(f"tunelens serve answered /health after {up_after:.2f}s")
        assert httpx.get(f"{base}/health").json()["model_loaded"] is True

        response = httpx.post(
            f"{base}/recommend", files={"image": ("photo.jpg", photo_bytes)}, timeout=30
        )
        assert response.status_code == 200
        assert len(response.json()["recommendations"]) == 10

        notes = httpx.post(
            f"{base}/recommend", files={"image": ("notes.txt", b"shopping list\n" * 3)}
        )
        assert notes.status_code in (415, 422)
        assert notes.json()["error"]["code"] == "not_an_image"

        big = httpx.post(
            f"{base}/api/v1/recommend",
            files={"image": ("big.jpg", sample_jpeg() + bytes(22 * 1024 * 1024))},
            timeout=30,
        )
        assert big.status_code == 413
        assert big.json()["error"]["code"] == "too_large"
    finally:
        process.terminate()
        process.wait(timeout=15)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "tunelens.web.access"]
    assert {"method", "path", "status", "ms", "request_id"} <= set(access[0])
    assert any(line["msg"].startswith("engine ready") for line in lines)
