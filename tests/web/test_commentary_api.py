"""GET /api/v1/predictions/{id}/commentary: the LLM commentary after the recommendation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.fake_llm import DEFAULT_TEXT, FakeLlm, fake_llm_server
from tests.web.conftest import assert_error_shape
from tunelens.pipeline import Pipeline
from tunelens.web.app import create_app
from tunelens.web.settings import WebSettings


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLlm]:
    with fake_llm_server() as server:
        yield server


@pytest.fixture(scope="module")
def llm_client(engine: Pipeline, fake: FakeLlm) -> Iterator[TestClient]:
    settings = engine.settings.model_copy(
        update={"llm_base_url": fake.base_url, "llm_model": "tiny-vision", "llm_timeout_s": 0.4}
    )
    app = create_app(settings, engine=engine, web_settings=WebSettings(_env_file=None))
    with TestClient(app) as c:
        yield c


def _recommend(client: TestClient, photo: bytes, heatmap: bool) -> dict:  # type: ignore[type-arg]
    response = client.post(
        "/api/v1/recommend",
        files={"image": ("photo.jpg", photo, "image/jpeg")},
        data={"top_k": "2", "heatmap": "true" if heatmap else "false"},
    )
    assert response.status_code == 200, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


def test_commentary_from_the_llm_with_photo_and_heatmap(
    llm_client: TestClient, fake: FakeLlm, shadows_photo_bytes: bytes
) -> None:
    fake.requests.clear()
    rec = _recommend(llm_client, shadows_photo_bytes, heatmap=True)
    assert fake.requests == []  # the recommendation did not wait for (or call) the LLM
    url = f"/api/v1/predictions/{rec['prediction_id']}/commentary"
    body = llm_client.get(url).json()
    assert body == {
        "prediction_id": rec["prediction_id"],
        "source": "llm",
        "text": DEFAULT_TEXT,
        "notice": None,
        "model": "tiny-vision",
        "lang": "en",
    }
    parts = fake.requests[0]["json"]["messages"][1]["content"]
    assert sum(p["type"] == "image_url" for p in parts) == 2
    hottest = rec["explanation"]["hot_regions"][0]["label"]
    assert hottest in " ".join(p.get("text", "") for p in parts)
    # asked again: answered from memory, no second model call
    assert llm_client.get(url).json()["text"] == DEFAULT_TEXT
    assert len(fake.requests) == 1


def test_failure_gives_the_template_with_a_notice_and_is_retried_later(
    llm_client: TestClient, fake: FakeLlm, photo_bytes: bytes
) -> None:
    rec = _recommend(llm_client, photo_bytes, heatmap=False)
    url = f"/api/v1/predictions/{rec['prediction_id']}/commentary"
    fake.script[:] = [("status", 503), ("raw", b"{}")]
    body = llm_client.get(url).json()
    assert body["source"] == "template"
    assert body["text"] == rec["explanation"]["text"]
    assert "could not be read" in body["notice"]
    assert llm_client.get(url).json()["source"] == "llm"  # failures are not remembered


def test_unknown_prediction_is_404(llm_client: TestClient) -> None:
    response = llm_client.get("/api/v1/predictions/nope/commentary")
    assert response.status_code == 404
    assert_error_shape(response, "not_found")


def test_without_an_llm_the_template_answers(client: TestClient, photo_bytes: bytes) -> None:
    rec = _recommend(client, photo_bytes, heatmap=False)
    body = client.get(f"/api/v1/predictions/{rec['prediction_id']}/commentary").json()
    assert body["source"] == "template" and body["text"] == rec["explanation"]["text"]
    assert "No commentary service" in body["notice"]
    page = client.get("/").text
    assert '"commentary": false' in page


def test_another_worker_answers_the_follow_up_through_the_shared_folder(
    engine: Pipeline, fake: FakeLlm, photo_bytes: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Two apps stand for two `serve --workers` processes: the commentary request reaches the
    one that did not answer the recommendation, and still gets the photo and heatmap."""
    shared = tmp_path_factory.mktemp("predictions")
    settings = engine.settings.model_copy(
        update={"llm_base_url": fake.base_url, "llm_model": "tiny-vision", "llm_timeout_s": 2}
    )

    def worker(directory: object) -> TestClient:
        web = WebSettings(_env_file=None, prediction_cache_dir=directory)
        return TestClient(create_app(settings, engine=engine, web_settings=web))

    with worker(shared) as first, worker(shared) as second, worker(None) as alone:
        rec = _recommend(first, photo_bytes, heatmap=True)
        url = f"/api/v1/predictions/{rec['prediction_id']}/commentary"
        fake.requests.clear()
        body = second.get(url).json()
        assert body["source"] == "llm" and body["text"] == DEFAULT_TEXT
        parts = fake.requests[0]["json"]["messages"][1]["content"]
        assert sum(p["type"] == "image_url" for p in parts) == 2
        assert alone.get(url).status_code == 404  # without the shared folder: unknown
        assert second.get("/api/v1/predictions/..%2f..%2fetc/commentary").status_code == 404
    assert [p.name for p in shared.iterdir()] == [f"{rec['prediction_id']}.json"]
