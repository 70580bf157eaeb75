"""POST /api/v1/export: the recommended songs as M3U8 or JSPF."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.playlists.helpers import parse_m3u8
from tests.web.conftest import assert_error_shape


def _ids(client: TestClient, photo: bytes) -> list[str]:
    body = client.post(
        "/api/v1/recommend",
        files={"image": ("photo.jpg", photo, "image/jpeg")},
        data={"top_k": "5"},
    ).json()
    return [t["track"]["id"] for t in body["tracks"]]


def test_m3u8_and_jspf_downloads(client: TestClient, photo_bytes: bytes) -> None:
    ids = _ids(client, photo_bytes)
    response = client.post("/api/v1/export?format=m3u8", json={"track_ids": ids + ids[:1]})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("audio/x-mpegurl")
    assert response.headers["content-disposition"] == (
        'attachment; filename="tunelens-playlist.m3u8"'
    )
    title, entries = parse_m3u8(response.text)
    assert title == "tunelens"
    assert [url.rsplit("/", 1)[1] for _, _, url in entries] == ids  # order kept, no duplicate
    assert all(seconds > 0 for seconds, _, _ in entries)
    response = client.post(
        "/api/v1/export?format=jspf", json={"track_ids": ids, "title": "For my kite"}
    )
    assert response.headers["content-type"].startswith("application/jspf+json")
    playlist = json.loads(response.text)["playlist"]
    assert playlist["title"] == "For my kite"
    assert [t["identifier"][0] for t in playlist["track"]] == [f"spotify:track:{i}" for i in ids]


def test_export_errors(client: TestClient, photo_bytes: bytes) -> None:
    ids = _ids(client, photo_bytes)
    response = client.post("/api/v1/export?format=m3u8", json={"track_ids": [ids[0], "nope"]})
    assert response.status_code == 404
    assert assert_error_shape(response, "not_found")["error"]["details"]["unknown"] == ["nope"]
    response = client.post("/api/v1/export?format=xspf", json={"track_ids": ids})
    assert response.status_code == 422
    assert_error_shape(response, "invalid_export_format")
    response = client.post("/api/v1/export", json={"track_ids": []})
    assert response.status_code == 422
    assert_error_shape(response, "invalid_request")
