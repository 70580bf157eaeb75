"""Explanations over the API: text always, heatmap on request."""

from __future__ import annotations

import base64
import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.web.conftest import assert_error_shape


def _post(client: TestClient, photo: bytes, **fields: str) -> dict:  # type: ignore[type-arg]
    response = client.post(
        "/api/v1/recommend",
        files={"image": ("photo.jpg", photo, "image/jpeg")},
        data={"top_k": "3", **fields},
    )
    assert response.status_code == 200, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


def test_explanation_text_without_heatmap(client: TestClient, photo_bytes: bytes) -> None:
    body = _post(client, photo_bytes)
    explanation = body["explanation"]
    assert explanation["lang"] == "en"
    assert body["reading"]["top_emotion"] in explanation["text"]
    assert explanation["mood"] in ("happy", "energetic", "calm", "sad", "intense")
    assert explanation["heatmap"] is None and explanation["hot_regions"] == []
    assert "heatmap" not in body["timings_ms"]


def test_heatmap_true_returns_a_png_data_url_and_hot_regions(
    client: TestClient, shadows_photo_bytes: bytes
) -> None:
    body = _post(client, shadows_photo_bytes, heatmap="true")
    explanation = body["explanation"]
    url = explanation["heatmap"]
    assert url.startswith("data:image/png;base64,")
    png = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert png.format == "PNG" and png.mode == "RGB" and max(png.size) <= 512
    assert explanation["heatmap_method"] == "occlusion"
    assert explanation["heatmap_target"] == f"emotion:{body['reading']['top_emotion']}"
    # the region that carries the reading most is listed first and named in the text
    regions = explanation["hot_regions"]
    assert regions and set(regions[0]) == {
        "row",
        "col",
        "share",
        "content",
        "content_kind",
        "label",
    }
    place, content = regions[0]["label"].split(": ", 1)
    assert f"{place} ({content})" in explanation["text"]
    assert body["timings_ms"]["heatmap"] > 0


def test_dylumo_route_carries_the_explanation_too(client: TestClient, photo_bytes: bytes) -> None:
    response = client.post(
        "/recommend",
        files={"image": ("photo.jpg", photo_bytes, "image/jpeg")},
        data={"heatmap": "1"},
    )
    assert response.status_code == 200
    assert response.json()["explanation"]["heatmap"].startswith("data:image/png")


def test_bad_heatmap_flag_is_a_clear_error(client: TestClient, photo_bytes: bytes) -> None:
    response = client.post(
        "/api/v1/recommend",
        files={"image": ("photo.jpg", photo_bytes, "image/jpeg")},
        data={"heatmap": "maybe"},
    )
    assert response.status_code == 422
    body = assert_error_shape(response, "invalid_request")
    assert "heatmap" in body["error"]["message"]


def test_faces_are_in_the_reading_and_the_reasons(client: TestClient) -> None:
    from tests.conftest import PHOTOS_DIR, require_shared
    from tunelens.reading.faces import missing_parts

    if missing_parts():
        pytest.skip("the faces extra is not installed")
    photo = require_shared(PHOTOS_DIR / "portrait_astronaut_eileen_collins_01.png").read_bytes()
    response = client.post(
        "/api/v1/recommend",
        files={"image": ("astronaut.png", photo, "image/png")},
        data={"top_k": "10"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    faces = body["reading"]["faces"]
    assert len(faces) == 1 and faces[0]["top_expression"] == "happy"
    assert all(0 <= v <= 1 for v in faces[0]["box"])
    assert "One face looks happy" in body["explanation"]["text"]
    assert body["timings_ms"]["faces"] > 0
    reasons = [r for t in body["tracks"] for r in t["reasons"]]
    assert "suits the happy face in the photo" in reasons
