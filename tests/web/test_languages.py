"""The API speaks the listener's language: ``lang`` (form or query), ``Accept-Language``,
English with a notice for languages tunelens does not speak, translated error messages —
and English ids (emotions, genres) that never change, so clients keep working."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.web.conftest import assert_error_shape
from tests.web.test_api import image_files
from tunelens import i18n

ARABIC = re.compile(r"[\u0600-\u06FF]")
EMOTIONS = {"amusement", "awe", "contentment", "excitement", "anger", "disgust", "fear", "sadness"}


def recommend(client: TestClient, photo: bytes, **data: str) -> dict[str, Any]:
    response = client.post("/api/v1/recommend", files=image_files(photo), data=data)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_lang_ar_gives_arabic_names_reasons_and_explanation(
    client: TestClient, photo_bytes: bytes
) -> None:
    body = recommend(client, photo_bytes, lang="ar", top_k="10")
    assert body["lang"] == "ar" and body["lang_fallback"] is False and body["lang_notice"] is None
    # ids stay English and stable; the shown names are Arabic
    assert set(body["reading"]["emotions"]) == EMOTIONS
    names = body["labels"]["emotions"]
    assert set(names) == EMOTIONS and names["sadness"] == "الحزن" and names["awe"] == "الرهبة"
    assert all(ARABIC.search(name) for name in names.values())
    assert len(body["tracks"]) == 10
    for item in body["tracks"]:
        assert item["reasons"] and all(ARABIC.search(reason) for reason in item["reasons"])
    assert ARABIC.search(body["explanation"]["text"]) and body["explanation"]["lang"] == "ar"
    top = body["reading"]["top_emotion"]
    assert names[top] in body["explanation"]["text"]


def test_lang_xx_falls_back_to_english_with_a_notice(
    client: TestClient, photo_bytes: bytes
) -> None:
    body = recommend(client, photo_bytes, lang="xx", top_k="3")
    assert body["lang"] == "en" and body["lang_fallback"] is True
    assert body["lang_notice"] == ("Texts in 'xx' are not available yet; answering in English.")
    assert body["labels"]["emotions"]["sadness"] == "sadness"
    assert not any(ARABIC.search(r) for item in body["tracks"] for r in item["reasons"])
    # DyLuMo's route says the same, in its own metadata too
    dylumo = client.post("/recommend?lang=xx", files=image_files(photo_bytes)).json()
    assert dylumo["metadata"]["lang"] == "en" and dylumo["lang_fallback"] is True
    assert dylumo["lang_notice"] and dylumo["lang_notice"] in dylumo["notices"]


def test_accept_language_chooses_when_lang_is_absent(
    client: TestClient, photo_bytes: bytes
) -> None:
    response = client.post(
        "/api/v1/recommend",
        files=image_files(photo_bytes),
        data={"top_k": "2"},
        headers={"Accept-Language": "de-DE, es;q=0.8, en;q=0.5"},
    )
    body = response.json()
    assert body["lang"] == "es" and body["lang_fallback"] is False
    assert body["labels"]["emotions"]["sadness"] == "tristeza"
    # an explicit lang wins over the header
    explicit = client.post(
        "/api/v1/recommend",
        files=image_files(photo_bytes),
        data={"top_k": "2", "lang": "fr"},
        headers={"Accept-Language": "es"},
    ).json()
    assert explicit["lang"] == "fr" and explicit["labels"]["emotions"]["sadness"] == "tristesse"


def test_errors_speak_the_request_language_with_the_same_code(client: TestClient) -> None:
    response = client.post(
        "/api/v1/recommend?lang=es",
        files=image_files(b"just some text, not a picture", "notes.txt", "text/plain"),
    )
    assert response.status_code == 415
    error = assert_error_shape(response, "not_an_image")["error"]
    assert error["message"].startswith("Ese archivo no es una imagen")
    english = client.post(
        "/api/v1/recommend", files=image_files(b"just some text", "notes.txt", "text/plain")
    )
    assert "Ese archivo" not in assert_error_shape(english, "not_an_image")["error"]["message"]


def test_similar_and_playlists_take_lang(client: TestClient, photo_bytes: bytes) -> None:
    rec = recommend(client, photo_bytes, top_k="3")
    seed = rec["tracks"][0]["track"]
    answer = client.post(
        "/api/v1/similar",
        json={"track_id": seed["id"], "reading": rec["reading"], "top_k": 3, "lang": "ar"},
    ).json()
    assert answer["lang"] == "ar"
    assert all(ARABIC.search(item["reasons"][0]) for item in answer["tracks"])
    playlists = client.get("/api/v1/playlists?region=khaleeji&lang=ar").json()
    assert playlists["region"] == {"id": "khaleeji", "label": "خليجي"}
    assert {r["id"]: r["label"] for r in playlists["regions"]}["global"] == "عالمي"


def test_every_language_is_offered_and_named_in_itself() -> None:
    languages = i18n.languages()
    assert next(iter(languages)) == "en" and {"ar", "es", "fr", "hi"} <= set(languages)
    assert languages["ar"].dir == "rtl" and languages["ar"].name == "العربية"
    assert all(lang.dir == "ltr" for code, lang in languages.items() if code != "ar")
