"""N servers, one catalogue: two ``tunelens serve`` processes open the same ``s3://`` catalogue
(moto's S3 server on 127.0.0.1) and answer identically, and both move to a newly pushed
version without a restart (the catalogue watch asks the bucket's ``meta.json``)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.catalogue.helpers import random_catalogue
from tests.catalogue.s3_server import S3Server, free_port, start_s3_server
from tests.unit.bad_images import sample_jpeg
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.remote import RemoteCatalogue
from tunelens.core.settings import Settings

pytestmark = [pytest.mark.s3, pytest.mark.slow]


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    yield from start_s3_server()


@contextmanager
def serve(url: str, s3: S3Server, home: Path) -> Iterator[str]:
    """A ``tunelens serve`` process on the catalogue at ``url`` with its own cache; its base
    URL once it can recommend."""
    port = free_port()
    env = {
        **os.environ,
        **s3.env(),
        "TUNELENS_CATALOG": url,
        "TUNELENS_DATA_DIR": str(home / "data"),
        "TUNELENS_CACHE_DIR": str(home / "cache"),
        "TUNELENS_ALLOW_DOWNLOAD": "0",
        "TUNELENS_CATALOG_CHECK_SECONDS": "0.5",
        "HF_HUB_OFFLINE": "1",
    }
    command = [sys.executable, "-m", "tunelens.cli", "serve", "--port", str(port)]
    home.mkdir(parents=True, exist_ok=True)
    log = home / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--encoder", "colour"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).json().get("model_loaded"):
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail(f"tunelens serve did not load the catalogue:\n{log.read_text()[-3000:]}")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def _answer(base: str) -> tuple[int, list[Any]]:
    health = httpx.get(f"{base}/health", timeout=5).json()
    response = httpx.post(
        f"{base}/api/v1/recommend", files={"image": ("p.jpg", sample_jpeg())}, timeout=30
    )
    assert response.status_code == 200, response.text
    songs = response.json()["tracks"]
    return health["catalogue_size"], [(s["track"]["id"], round(s["score"], 6)) for s in songs]


def test_two_servers_share_one_s3_catalogue_and_its_next_version(
    s3: S3Server, tmp_path: Path
) -> None:
    bucket = f"shared-{uuid.uuid4().hex[:8]}"
    s3.client().create_bucket(Bucket=bucket)
    url = f"s3://{bucket}/catalogue"
    env = s3.env()
    publisher = RemoteCatalogue.from_settings(
        url,
        Settings(
            cache_dir=tmp_path / "publisher",
            s3_endpoint_url=env["TUNELENS_S3_ENDPOINT_URL"],
            s3_access_key_id=env["TUNELENS_S3_ACCESS_KEY_ID"],
            s3_secret_access_key=env["TUNELENS_S3_SECRET_ACCESS_KEY"],
        ),
    )
    CatalogueIndex.build(random_catalogue(200, seed=3)).save(tmp_path / "v1")
    publisher.push(tmp_path / "v1")
    with ExitStack() as stack:
        first = stack.enter_context(serve(url, s3, tmp_path / "a"))
        second = stack.enter_context(serve(url, s3, tmp_path / "b"))
        size, songs = _answer(first)
        assert size == 200 and songs
        assert _answer(second) == (size, songs)

        CatalogueIndex.build(random_catalogue(260, seed=4)).save(tmp_path / "v2")
        publisher.push(tmp_path / "v2")
        deadline = time.perf_counter() + 30
        answers: list[tuple[int, list[Any]]] = []
        while time.perf_counter() < deadline:
            answers = [_answer(first), _answer(second)]  # a request lets the watch check
            if all(size == 260 for size, _ in answers):
                break
            time.sleep(0.3)
        assert [size for size, _ in answers] == [260, 260]
        assert answers[0] == answers[1]
