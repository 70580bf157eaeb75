"""The hot switch: catalogue changes (admin API or CLI) reach a running server, no request fails."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image

from tests.catalogue.helpers import random_catalogue
from tests.web.conftest import LOOPBACK_PEER, offline_settings
from tunelens.catalogue.changes import add_tracks
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue, Track
from tunelens.web.app import create_app
from tunelens.web.settings import WebSettings

TOKEN = "switch-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SONG = {"valence": 0.9, "energy": 0.9, "danceability": 0.8, "tempo": 128.0}


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def test_songs_added_and_removed_while_requests_run(tmp_path: Path) -> None:
    catalog = CatalogueIndex.build(random_catalogue(n=400)).save(tmp_path / "catalog")
    settings = offline_settings(tmp_path / "home", catalog_dir=catalog, admin_token=TOKEN)
    web = WebSettings(_env_file=None, rate_limit_per_minute=0, catalog_check_seconds=0.05)
    app = create_app(settings, encoder="colour", catalog_dir=catalog, web_settings=web)
    photo = _png()
    statuses: list[int] = []
    stop = threading.Event()
    with TestClient(app, client=LOOPBACK_PEER) as client:

        def traffic() -> None:
            while not stop.is_set():
                files = {"image": ("p.png", photo, "image/png")}
                statuses.append(client.post("/api/v1/recommend", files=files).status_code)

        def recommended() -> list[str]:
            files = {"image": ("p.png", photo, "image/png")}
            answer = client.post("/api/v1/recommend", files=files, data={"top": "10"}).json()
            return [song["track"]["id"] for song in answer["tracks"]]

        # a new song made to sit exactly on this photo's target must reach its answer
        first = client.post(
            "/api/v1/recommend", files={"image": ("p.png", photo, "image/png")}
        ).json()
        on_target = {k: v for k, v in first["target"]["features"].items() if k in SONG}
        runner = threading.Thread(target=traffic)
        runner.start()
        try:
            new = {"id": "fresh-1", "title": "Fresh", "artist": "New Band", **SONG, **on_target}
            added = client.post(
                "/api/v1/admin/catalogue/tracks", json={"tracks": [new]}, headers=AUTH
            )
            assert added.status_code == 200 and added.json()["added"] == 1
            assert client.get("/api/v1/tracks/fresh-1").status_code == 200
            assert "fresh-1" in recommended(), "an added song is searchable at once"
            # a change written by the CLI (another process) is picked up by the version check
            add_tracks(
                catalog, Catalogue([Track(id="cli-1", title="C", artist="D", features=SONG)])
            )
            deadline = time.monotonic() + 10
            while client.get("/api/v1/tracks/cli-1").status_code != 200:
                assert time.monotonic() < deadline, "the server never switched"
                time.sleep(0.05)
            gone = client.post(
                "/api/v1/admin/catalogue/remove", json={"ids": ["fresh-1"]}, headers=AUTH
            )
            assert gone.status_code == 200 and gone.json()["removed"] == 1
            assert client.get("/api/v1/tracks/fresh-1").status_code == 404
            assert "fresh-1" not in recommended(), "a removed song is never recommended"
            time.sleep(0.3)
        finally:
            stop.set()
            runner.join()
        refused = client.post("/api/v1/admin/catalogue/remove", json={"ids": ["x"]})
        assert refused.status_code == 401
    assert len(statuses) >= 3 and set(statuses) == {200}
