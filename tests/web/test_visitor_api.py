"""What the API tells a visitor: notices as short translated lines by stable code, a 503 that
names no server path, ranks that follow scores, a recent answer worded in another language,
a kept photo its own listener can delete, the offline API docs, and the admin page's full
diagnostics for the operator."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import assert_error_shape, offline_settings
from tunelens.core.notices import COLOUR_ENCODER, COLOUR_FALLBACK
from tunelens.pipeline import Pipeline, RecommendOptions, build_pipeline
from tunelens.web.app import create_app
from tunelens.web.services.predictions import PredictionCache
from tunelens.web.settings import WebSettings

#: what only an operator should read: server paths, errno, install commands, settings names
OPERATOR_TEXT = re.compile(
    r"(/(tmp|root|home|var|usr|etc|opt)/|errno|pip install|TUNELENS_|HF_HUB|tunelens (models|catalog)"
    r" |Traceback)",
    re.IGNORECASE,
)
ARABIC = re.compile(r"[\u0600-\u06FF]")
ADMIN_TOKEN = "visitor-tests-admin-token-0123456789"


def _recommend(client: TestClient, photo: bytes, **form: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/recommend",
        files={"image": ("photo.jpg", photo, "image/jpeg")},
        data={"top_k": "10", **form},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def fallback_client(
    engine: Pipeline, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """An app whose ``auto`` encoder found no CLIP weights and fell back to colour."""
    home = tmp_path_factory.mktemp("fallback")
    catalog = engine.settings.catalog_dir
    settings = offline_settings(home, encoder="auto", catalog_dir=catalog)
    fallback = build_pipeline(settings, catalog_dir=catalog)
    with TestClient(create_app(engine=fallback, web_settings=WebSettings(_env_file=None))) as c:
        yield c


@pytest.fixture(scope="module")
def broken_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app whose engine could not load: its catalogue folder does not exist."""
    home = tmp_path_factory.mktemp("broken")
    missing = home / "no-such-catalog"
    settings = offline_settings(home, catalog_dir=missing)
    app = create_app(settings, catalog_dir=missing, web_settings=WebSettings(_env_file=None))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def owner_client(
    engine: Pipeline, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """An app with a database and uploads, and the admin pages on."""
    home = tmp_path_factory.mktemp("owner")
    settings = offline_settings(
        home, catalog_dir=engine.settings.catalog_dir, admin_token=ADMIN_TOKEN
    )
    app = create_app(settings, engine=engine, web_settings=WebSettings(_env_file=None))
    with TestClient(app) as c:
        yield c


# --- notices ------------------------------------------------------------------------------------


def test_the_fallback_is_one_translated_line_for_visitors_and_in_full_for_operators(
    fallback_client: TestClient, photo_bytes: bytes
) -> None:
    operator = fallback_client.get("/health").json()["notices"]
    assert len(operator) == 1 and "colour encoder" in operator[0]  # the operator's sentence
    english = _recommend(fallback_client, photo_bytes)
    assert english["notice_codes"] == [COLOUR_FALLBACK]
    assert english["notices"] == ["Basic mode: this photo is read from its colour and light only."]
    for lang in ("ar", "hi", "fr", "es"):
        answer = _recommend(fallback_client, photo_bytes, lang=lang)
        assert answer["notice_codes"] == [COLOUR_FALLBACK]
        assert answer["notices"] != english["notices"], lang  # translated, not English
        assert not OPERATOR_TEXT.search(" ".join(answer["notices"]))
    assert ARABIC.search(_recommend(fallback_client, photo_bytes, lang="ar")["notices"][0])
    dylumo = fallback_client.post(
        "/recommend", files={"image": ("photo.jpg", photo_bytes, "image/jpeg")}
    ).json()
    assert dylumo["notice_codes"] == [COLOUR_FALLBACK]
    assert dylumo["notices"] == english["notices"]


def test_a_chosen_colour_encoder_is_said_the_same_way(
    client: TestClient, photo_bytes: bytes
) -> None:
    answer = _recommend(client, photo_bytes, lang="fr")
    assert answer["notice_codes"] == [COLOUR_ENCODER]
    assert answer["notices"] == [
        "Mode de base : cette photo est lue uniquement à partir de ses couleurs et de sa lumière."
    ]


def test_the_page_links_each_notice_to_what_it_means(client: TestClient) -> None:
    page = client.get("/?lang=ar").text
    assert '"notice_help": {' in page and "/about#basic-mode" in page
    about = client.get("/about?lang=ar")
    assert about.status_code == 200 and 'id="basic-mode"' in about.text
    assert ARABIC.search(about.text) and "Content-Security-Policy" in about.headers


# --- the engine is not ready ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/recommend", "/recommend"])
def test_a_503_names_no_server_path_and_speaks_the_visitors_language(
    broken_client: TestClient, photo_bytes: bytes, path: str
) -> None:
    files = {"image": ("photo.jpg", photo_bytes, "image/jpeg")}
    english = broken_client.post(path, files=files)
    assert english.status_code == 503 and english.headers["retry-after"]
    body = assert_error_shape(english, "catalog_missing")
    assert body["error"]["details"] == {}
    assert body["error"]["message"] == "tunelens can't recommend right now. Please try again later."
    arabic = broken_client.post(path, files=files, headers={"Accept-Language": "ar"})
    assert ARABIC.search(arabic.json()["error"]["message"])
    for response in (english, arabic):
        assert not OPERATOR_TEXT.search(response.text), response.text
    # the operator still reads the whole reason where operators look
    ready = broken_client.get("/ready").json()
    assert ready["error"]["code"] == "catalog_missing"
    assert "no-such-catalog" in ready["error"]["message"]
    assert "no-such-catalog" in broken_client.get("/health").json()["error"]["message"]


def test_the_page_of_an_engine_that_is_not_ready(broken_client: TestClient) -> None:
    page = broken_client.get("/?lang=es").text
    assert 'id="server-banner"' in page and "tunelens no puede recomendar" in page
    assert "no-such-catalog" not in page and "/about#not-ready" in page


# --- ranks follow scores -----------------------------------------------------------------------


def test_ranks_follow_the_scores_shown(client: TestClient, photo_bytes: bytes) -> None:
    answer = _recommend(client, photo_bytes)
    tracks = answer["tracks"]
    assert [t["rank"] for t in tracks] == list(range(1, len(tracks) + 1))
    scores = [t["score"] for t in tracks]
    assert scores == sorted(scores, reverse=True)
    dylumo = client.post(
        "/recommend", files={"image": ("photo.jpg", photo_bytes, "image/jpeg")}
    ).json()["recommendations"]
    assert [r["rank"] for r in dylumo] == list(range(1, len(dylumo) + 1))
    similarity = [r["similarity_score"] for r in dylumo]
    assert similarity == sorted(similarity, reverse=True)
    similar = client.post(
        "/api/v1/similar",
        json={
            "track_id": tracks[2]["track"]["id"],
            "reading": answer["reading"],
            "target": answer["target"],
        },
    ).json()["tracks"]
    assert [t["score"] for t in similar] == sorted((t["score"] for t in similar), reverse=True)


# --- the same answer in another language ---------------------------------------------------------


def test_a_recent_answer_comes_back_in_another_language(
    client: TestClient, photo_bytes: bytes
) -> None:
    answer = _recommend(client, photo_bytes, heatmap="true")
    assert answer["explanation"]["heatmap_method"]
    url = f"/api/v1/predictions/{answer['prediction_id']}"
    spanish = client.get(url, params={"lang": "es"})
    assert spanish.status_code == 200, spanish.text
    body = spanish.json()
    assert body["lang"] == "es"
    before = [(t["track"]["id"], t["rank"], t["score"], t["parts"]) for t in answer["tracks"]]
    after = [(t["track"]["id"], t["rank"], t["score"], t["parts"]) for t in body["tracks"]]
    assert after == before  # the same songs, order, scores and parts …
    english_reasons = [t["reasons"] for t in answer["tracks"]]
    assert all(t["reasons"] for t in body["tracks"])
    assert [t["reasons"] for t in body["tracks"]] != english_reasons  # … in other words
    explanation = body["explanation"]
    assert explanation["lang"] == "es" and explanation["heatmap"] is None
    assert explanation["text"] != answer["explanation"]["text"]
    assert explanation["heatmap_target"] == answer["explanation"]["heatmap_target"]
    assert [r["share"] for r in explanation["hot_regions"]] == [
        r["share"] for r in answer["explanation"]["hot_regions"]
    ]
    assert body["labels"]["lang"] == "es" and body["notices"] and body["notice_codes"]
    # asked in English again, the words are the ones first given
    again = client.get(url, params={"lang": "en"}).json()
    assert [t["reasons"] for t in again["tracks"]] == english_reasons
    assert again["explanation"]["text"] == answer["explanation"]["text"]
    missing = client.get("/api/v1/predictions/" + "0" * 32, params={"lang": "es"})
    assert missing.status_code == 404
    assert_error_shape(missing, "not_found")


# --- a kept photo, deleted by its own listener -----------------------------------------------------


def _new_identity(client: TestClient) -> str:
    response = client.post("/api/v1/clients")
    assert response.status_code == 201, response.text
    token: str = response.json()["client_token"]
    return token


def test_the_listener_who_kept_a_photo_and_only_they_can_delete_it(
    owner_client: TestClient, photo_bytes: bytes
) -> None:
    owner, stranger = _new_identity(owner_client), _new_identity(owner_client)
    response = owner_client.post(
        "/api/v1/recommend",
        files={"image": ("photo.jpg", photo_bytes, "image/jpeg")},
        data={"consent": "true"},
        headers={"Authorization": f"Bearer {owner}"},
    )
    upload = response.json()["upload"]
    assert upload["status"] == "stored" and re.fullmatch(r"[0-9a-f]{64}", upload["sha256"])
    url = f"/api/v1/uploads/{upload['sha256']}"
    anonymous = owner_client.delete(url)
    assert anonymous.status_code == 401
    assert_error_shape(anonymous, "client_required")
    other = owner_client.delete(url, headers={"Authorization": f"Bearer {stranger}"})
    assert other.status_code == 404  # the same answer as for a photo never kept
    assert_error_shape(other, "upload_not_found")
    bad = owner_client.delete(
        "/api/v1/uploads/cc02f8ca188b", headers={"Authorization": f"Bearer {owner}"}
    )
    assert bad.status_code == 422
    assert_error_shape(bad, "invalid_sha256")
    mine = owner_client.delete(url, headers={"Authorization": f"Bearer {owner}"})
    assert mine.status_code == 200, mine.text
    assert mine.json() == {"sha256": upload["sha256"], "deleted": True}
    again = owner_client.delete(url, headers={"Authorization": f"Bearer {owner}"})
    assert again.status_code == 404
    assert (
        owner_client.get(
            "/api/v1/admin/stats", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        ).json()["uploads"]["stored"]
        == 0
    )


# --- docs and the admin page ------------------------------------------------------------------------


def test_api_docs_are_served_from_this_server(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in docs.text and "cdn." not in docs.text
    policy = docs.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert client.get(f"/static/swagger/{asset}").status_code == 200
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")


def test_the_admin_page_shows_the_operators_notices_and_whole_song_titles(
    owner_client: TestClient, photo_bytes: bytes, engine: Pipeline
) -> None:
    for _ in range(2):
        owner_client.post("/recommend", files={"image": ("p.jpg", photo_bytes, "image/jpeg")})
    owner_client.post("/admin/login", data={"token": ADMIN_TOKEN}, headers={"Accept": "text/html"})
    page = owner_client.get("/admin", headers={"Accept": "text/html"}).text
    assert 'id="engine-state"' in page
    summary = owner_client.get(
        "/api/v1/admin/stats", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ).json()
    chart = html.unescape(page.split('id="chart-most_recommended"')[1].split("</section>")[0])
    assert summary["most_recommended"]
    for row in summary["most_recommended"]:  # each title whole, with its artist, on its line
        assert f"<title>{row['title']} · {row['artist']}</title>" in chart


def test_the_admin_page_of_a_fallback_engine_names_the_reason(
    engine: Pipeline, tmp_path: Path
) -> None:
    settings = offline_settings(
        tmp_path, encoder="auto", catalog_dir=engine.settings.catalog_dir, admin_token=ADMIN_TOKEN
    )
    fallback = build_pipeline(settings, catalog_dir=engine.settings.catalog_dir)
    app = create_app(settings, engine=fallback, web_settings=WebSettings(_env_file=None))
    with TestClient(app) as c:
        c.post("/admin/login", data={"token": ADMIN_TOKEN}, headers={"Accept": "text/html"})
        page = c.get("/admin", headers={"Accept": "text/html"}).text
    assert 'id="engine-notices"' in page and fallback.notices[0].split(";")[0] in page


def test_another_worker_words_the_answer_from_the_shared_folder(
    engine: Pipeline, photo_bytes: bytes, tmp_path: Path
) -> None:
    """With several workers the language switch usually reaches another worker: it reads the
    answer, with each song's part values, from the folder they share."""
    rec = engine.recommend_file(photo_bytes, RecommendOptions(k=5))
    writer = PredictionCache(4, directory=tmp_path)
    prediction_id = anyio.run(writer.remember, rec, "en")
    reader = PredictionCache(4, directory=tmp_path)  # another process's empty memory
    entry = reader.get(prediction_id)
    assert entry is not None and entry.answer is not None
    kept = entry.answer
    assert [t._part_values for t in kept.tracks] == [t._part_values for t in rec.tracks]
    assert all(t._part_values for t in kept.tracks)
    worded = engine.reword(kept, "hi")
    direct = engine.recommend_file(photo_bytes, RecommendOptions(k=5, lang="hi"))
    assert [t.reasons for t in worded.tracks] == [t.reasons for t in direct.tracks]
