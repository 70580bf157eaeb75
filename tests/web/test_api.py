"""Every endpoint of the REST API against a real engine (colour encoder, shared catalogue)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import assert_error_shape, multipart_body
from tunelens.core.types import Recommendation, TrackOut
from tunelens.pipeline import Pipeline
from tunelens.web.app import create_app
from tunelens.web.schemas.similar import SimilarResponse
from tunelens.web.settings import WebSettings

DYLUMO_EMOTIONS = ["anger", "amusement", "awe", "contentment", "excitement", "fear", "sadness"]
DYLUMO_TRACK_KEYS = {
    "rank",
    "track_id",
    "track_name",
    "artist_name",
    "emotion",
    "similarity_score",
}


def image_files(data: bytes, name: str = "photo.jpg", ctype: str = "image/jpeg") -> Any:
    return {"image": (name, data, ctype)}


# --- service routes ------------------------------------------------------------------------


def test_health_reports_engine_and_dylumo_keys(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["model_loaded"] is True
    assert body["stats"]["status"] == "loaded"
    assert body["version"]
    assert body["encoder"]["name"] == "colour"
    assert body["pretrained"] is False
    assert body["fallback"] is False
    assert body["catalogue_size"] > 20_000
    assert body["uptime_s"] >= 0
    assert body["error"] is None


def test_emotions_are_dylumos_seven_in_model_order(client: TestClient) -> None:
    body = client.get("/emotions").json()
    assert body["status"] == "success"
    assert body["emotions"] == DYLUMO_EMOTIONS
    assert set(body["all_emotions"]) == {*DYLUMO_EMOTIONS, "disgust"}


def test_stats_count_requests_emotions_and_latency(client: TestClient, photo_bytes: bytes) -> None:
    before = client.get("/stats").json()
    assert client.post("/recommend", files=image_files(photo_bytes)).status_code == 200
    after = client.get("/stats").json()
    for key in (
        "status",
        "device",
        "model_parameters",
        "songs_indexed",
        "emotions",
        "visual_model",
    ):
        assert key in after
    assert after["status"] == "loaded"
    assert after["emotions"] == DYLUMO_EMOTIONS
    assert after["songs_indexed"] == after["catalogue_size"] > 0
    assert after["requests_served"] >= before["requests_served"] + 2
    assert after["recommendations_served"] == before["recommendations_served"] + 1
    assert sum(after["emotion_distribution"].values()) == after["images_read"] >= 1
    assert after["latency_ms"]["p50"] > 0
    assert after["latency_ms"]["p95"] >= after["latency_ms"]["p50"]
    assert after["latency_ms"]["window"] >= 1


# --- DyLuMo's POST /recommend --------------------------------------------------------------


def test_dylumo_recommend_keeps_dylumos_field_names(client: TestClient, photo_bytes: bytes) -> None:
    response = client.post("/recommend", files=image_files(photo_bytes))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "success"
    emotion = body["emotion"]
    assert emotion["predicted_emotion"] in DYLUMO_EMOTIONS
    assert list(emotion["all_probabilities"]) == DYLUMO_EMOTIONS
    assert abs(sum(emotion["all_probabilities"].values()) - 1) < 1e-3
    assert emotion["confidence"] == emotion["all_probabilities"][emotion["predicted_emotion"]]
    assert re.fullmatch(r"\d+\.\d\ds", body["inference_time"])
    assert body["metadata"]["top_k"] == 10
    assert body["metadata"]["total_songs_in_db"] > 20_000
    assert body["metadata"]["device"] == "cpu"
    recs = body["recommendations"]
    assert len(recs) == 10
    assert [r["rank"] for r in recs] == list(range(1, 11))
    for rec in recs:
        assert set(rec) >= DYLUMO_TRACK_KEYS
        assert 0 <= rec["similarity_score"] <= 1
        assert rec["reasons"]
        assert rec["links"]["youtube_search"].startswith("https://www.youtube.com/results?")
        assert rec["embed_url"] == f"https://open.spotify.com/embed/track/{rec['track_id']}"
    # tunelens's extras
    assert body["reading"]["encoder"]["name"] == "colour"
    assert body["encoder"]["pretrained"] is False
    assert re.fullmatch(r"[0-9a-f]{32}", body["prediction_id"])


@pytest.mark.parametrize(
    ("top_k", "expected"),
    [
        ("3", 3),
        ("1", 1),
        ("0", 1),
        ("-7", 1),
        ("50", 50),
        ("51", 50),
        ("1000", 50),
        ("abc", 10),
        ("2.5", 10),
        ("", 10),
        (None, 10),
    ],
)
def test_dylumo_top_k_is_clamped_like_dylumo(
    client: TestClient, photo_bytes: bytes, top_k: str | None, expected: int
) -> None:
    data = {} if top_k is None else {"top_k": top_k}
    response = client.post("/recommend", files=image_files(photo_bytes), data=data)
    assert response.status_code == 200
    body = response.json()
    assert body["metadata"]["top_k"] == expected
    assert len(body["recommendations"]) == expected


def test_dylumo_recommend_accepts_tunelens_extras(client: TestClient, photo_bytes: bytes) -> None:
    first = client.post("/recommend", files=image_files(photo_bytes), data={"top_k": "3"}).json()
    ids = [r["track_id"] for r in first["recommendations"]]
    response = client.post(
        "/recommend",
        files=image_files(photo_bytes),
        data={"top_k": "3", "exclude": ",".join(ids), "context": "a calm morning", "lang": "en"},
    )
    body = response.json()
    assert not {r["track_id"] for r in body["recommendations"]} & set(ids)
    assert body["reading"]["context"] == "a calm morning"
    assert body["metadata"]["lang"] == "en"


# --- /api/v1/recommend --------------------------------------------------------------------


def test_v1_recommend_returns_the_recommendation_schema(
    client: TestClient, photo_bytes: bytes
) -> None:
    response = client.post("/api/v1/recommend", files=image_files(photo_bytes, "kite.jpg"))
    assert response.status_code == 200
    body = response.json()
    rec = Recommendation.model_validate(body)
    assert rec.image == "kite.jpg"
    assert len(rec.tracks) == 10
    assert all(t.reasons for t in rec.tracks)
    assert rec.reading.encoder.name == "colour"
    assert re.fullmatch(r"[0-9a-f]{32}", body["prediction_id"])
    assert body["lang"] == "en"
    assert response.headers["x-request-id"]


def test_v1_recommend_exclude_as_commas_and_repeated_fields(
    client: TestClient, photo_bytes: bytes
) -> None:
    first = client.post(
        "/api/v1/recommend", files=image_files(photo_bytes), data={"top_k": "4"}
    ).json()
    ids = [t["track"]["id"] for t in first["tracks"]]
    body, ctype = multipart_body(
        [
            ("image", "photo.jpg", photo_bytes, "image/jpeg"),
            ("top_k", None, b"4", None),
            ("exclude", None, f"{ids[0]},{ids[1]}".encode(), None),
            ("exclude", None, ids[2].encode(), None),
            ("exclude", None, ids[3].encode(), None),
        ]
    )
    second = client.post("/api/v1/recommend", content=body, headers={"content-type": ctype})
    assert second.status_code == 200
    assert not {t["track"]["id"] for t in second.json()["tracks"]} & set(ids)


def test_v1_recommend_context_changes_the_reading(client: TestClient, photo_bytes: bytes) -> None:
    plain = client.post("/api/v1/recommend", files=image_files(photo_bytes)).json()
    sad = client.post(
        "/api/v1/recommend",
        files=image_files(photo_bytes),
        data={"context": "a sad, lonely, gloomy day"},
    ).json()
    assert sad["reading"]["context"] == "a sad, lonely, gloomy day"
    assert sad["reading"]["valence"] < plain["reading"]["valence"]


def test_v1_recommend_unknown_language_falls_back_with_a_notice(
    client: TestClient, photo_bytes: bytes
) -> None:
    body = client.post(
        "/api/v1/recommend?lang=xx", files=image_files(photo_bytes), data={"top_k": "2"}
    ).json()
    assert body["lang"] == "en" and body["lang_fallback"] is True
    assert "'xx'" in body["lang_notice"] and body["lang_notice"] in body["notices"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"top_k": "abc"}, "invalid_top_k"),
        ({"top_k": "0"}, "invalid_top_k"),
        ({"top_k": "51"}, "invalid_top_k"),
        ({"lang": "not a language!"}, "invalid_lang"),
        ({"context": "x" * 501}, "context_too_long"),
    ],
)
def test_v1_recommend_rejects_bad_parameters(
    client: TestClient, photo_bytes: bytes, data: dict[str, str], code: str
) -> None:
    response = client.post("/api/v1/recommend", files=image_files(photo_bytes), data=data)
    assert response.status_code == 422
    assert_error_shape(response, code)


def test_too_many_excluded_ids(engine: Pipeline, photo_bytes: bytes) -> None:
    app = create_app(engine=engine, web_settings=WebSettings(_env_file=None, max_exclude_ids=3))
    with TestClient(app) as client:
        response = client.post(
            "/api/v1/recommend", files=image_files(photo_bytes), data={"exclude": "a,b,c,d"}
        )
    assert response.status_code == 422
    assert_error_shape(response, "too_many_excluded")


# --- batch ----------------------------------------------------------------------------------


def test_batch_answers_each_part_and_isolates_bad_ones(
    client: TestClient, photo_bytes: bytes
) -> None:
    files = [
        ("images", ("a.jpg", photo_bytes, "image/jpeg")),
        ("images", ("notes.txt", b"just some words\n" * 4, "text/plain")),
        ("images", ("b.jpg", photo_bytes, "image/jpeg")),
    ]
    response = client.post("/api/v1/recommend/batch", files=files, data={"top_k": "3"})
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["succeeded"], body["failed"]) == (3, 2, 1)
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2]
    assert [r["filename"] for r in results] == ["a.jpg", "notes.txt", "b.jpg"]
    assert results[1]["ok"] is False
    assert results[1]["error"]["code"] == "not_an_image"
    for item in (results[0], results[2]):
        rec = Recommendation.model_validate(item["recommendation"])
        assert len(rec.tracks) == 3
    assert (
        results[0]["recommendation"]["prediction_id"]
        != results[2]["recommendation"]["prediction_id"]
    )


def test_batch_over_the_configured_limit(engine: Pipeline, photo_bytes: bytes) -> None:
    app = create_app(engine=engine, web_settings=WebSettings(_env_file=None, max_batch_images=2))
    files = [("images", (f"{i}.jpg", photo_bytes, "image/jpeg")) for i in range(3)]
    with TestClient(app) as client:
        response = client.post("/api/v1/recommend/batch", files=files)
    assert response.status_code == 413
    body = assert_error_shape(response, "too_many_images")
    assert body["error"]["details"] == {"limit": 2, "actual": 3}


def test_batch_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNELENS_MAX_BATCH_IMAGES", "3")
    assert WebSettings().max_batch_images == 3
    monkeypatch.delenv("TUNELENS_MAX_BATCH_IMAGES")
    assert WebSettings(_env_file=None).max_batch_images == 8


def test_batch_without_images(client: TestClient) -> None:
    body, ctype = multipart_body([("top_k", None, b"3", None)])
    response = client.post("/api/v1/recommend/batch", content=body, headers={"content-type": ctype})
    assert response.status_code == 400
    assert_error_shape(response, "missing_image")


# --- tracks, similar, vocabularies --------------------------------------------------------------


def test_track_by_id(client: TestClient, engine: Pipeline) -> None:
    known = engine.recommender.tracks[0]
    response = client.get(f"/api/v1/tracks/{known.id}")
    assert response.status_code == 200
    track = TrackOut.model_validate(response.json())
    assert (track.id, track.title, track.artist) == (known.id, known.title, known.artist)


def test_unknown_track_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/tracks/no-such-track")
    assert response.status_code == 404
    assert_error_shape(response, "not_found")


def test_similar_excludes_shown_songs_and_explains_the_link(
    client: TestClient, photo_bytes: bytes
) -> None:
    rec = client.post("/api/v1/recommend", files=image_files(photo_bytes)).json()
    shown = [t["track"]["id"] for t in rec["tracks"]]
    seed = rec["tracks"][3]["track"]
    response = client.post(
        "/api/v1/similar",
        json={
            "track_id": seed["id"],
            "reading": rec["reading"],
            "target": rec["target"],
            "exclude": shown,
            "top_k": 10,
        },
    )
    assert response.status_code == 200
    body = SimilarResponse.model_validate(response.json())
    assert body.seed.id == seed["id"]
    ids = [t.track.id for t in body.tracks]
    assert len(ids) == 10
    assert not set(ids) & set(shown)
    assert all(seed["title"] in t.reasons[0] for t in body.tracks)
    # the steered target sits between the picture's target and the seed song
    for name in ("valence", "energy"):
        picture, song = rec["target"]["features"][name], seed["features"][name]
        low, high = sorted((picture, song))
        assert low - 1e-3 <= body.target.features[name] <= high + 1e-3


def test_similar_with_only_a_track_id(client: TestClient, engine: Pipeline) -> None:
    seed = engine.recommender.tracks[5]
    response = client.post("/api/v1/similar", json={"track_id": seed.id, "top_k": 4})
    assert response.status_code == 200
    ids = [t["track"]["id"] for t in response.json()["tracks"]]
    assert len(ids) == 4 and seed.id not in ids


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"track_id": "no-such-track"}, 404, "not_found"),
        ({"track_id": "__SEED__", "top_k": 0}, 422, "invalid_top_k"),
        (
            {"track_id": "__SEED__", "target": {"features": {}, "weights": {}}},
            422,
            "invalid_target",
        ),
        ({"exclude": []}, 422, "invalid_request"),
        ({"track_id": "__SEED__", "exclude": "not a list"}, 422, "invalid_request"),
    ],
)
def test_similar_errors(
    client: TestClient, engine: Pipeline, payload: dict[str, Any], status: int, code: str
) -> None:
    if payload.get("track_id") == "__SEED__":
        payload = {**payload, "track_id": engine.recommender.tracks[0].id}
    response = client.post("/api/v1/similar", json=payload)
    assert response.status_code == status
    assert_error_shape(response, code)


def _sent_back_cases() -> list[tuple[str, Any, str]]:
    """(what is wrong, how to break a reading/target pair, the code): every way a reading or
    target sent back to "more like this" can be one no answer contained."""
    nan, inf = float("nan"), float("inf")

    def reading(**change: Any) -> Any:
        return lambda r, t: ({**r, **{k: v(r) for k, v in change.items()}}, t)

    def target(**change: Any) -> Any:
        return lambda r, t: (r, {**t, **{k: v(t) for k, v in change.items()}})

    return [
        (
            "nan emotion",
            reading(emotions=lambda r: {**r["emotions"], "awe": nan}),
            "invalid_reading",
        ),
        ("nan valence", reading(valence=lambda r: nan), "invalid_reading"),
        (
            "nan colour",
            reading(colour=lambda r: {**r["colour"], "brightness": nan}),
            "invalid_reading",
        ),
        (
            "unknown emotion",
            reading(emotions=lambda r: {**r["emotions"], "glee": 0.4}),
            "invalid_reading",
        ),
        (
            "unknown genre",
            reading(genres=lambda r: {**r["genres"], "polka": 0.9}),
            "invalid_reading",
        ),
        (
            "probability 7",
            reading(genres=lambda r: {**r["genres"], "jazz": 7.0}),
            "invalid_reading",
        ),
        (
            "tempo infinity",
            target(features=lambda t: {**t["features"], "tempo": inf}),
            "invalid_target",
        ),
        ("tempo 1e9", target(features=lambda t: {**t["features"], "tempo": 1e9}), "invalid_target"),
        (
            "weights 1e308",
            target(weights=lambda t: {k: 1e308 for k in t["weights"]}),
            "invalid_target",
        ),
        (
            "negative weight",
            target(weights=lambda t: {**t["weights"], "valence": -1}),
            "invalid_target",
        ),
        (
            "unknown feature",
            target(features=lambda t: {**t["features"], "cowbell": 1}),
            "invalid_target",
        ),
    ]


@pytest.mark.parametrize(
    ("case", "broken", "code"), _sent_back_cases(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_similar_refuses_a_reading_or_target_no_answer_contained(
    client: TestClient, photo_bytes: bytes, case: str, broken: Any, code: str
) -> None:
    rec = client.post("/api/v1/recommend", files={"image": ("p.jpg", photo_bytes)}).json()
    seed = rec["tracks"][0]["track"]["id"]
    body = {"track_id": seed, "reading": rec["reading"], "target": rec["target"]}
    assert client.post("/api/v1/similar", json=body).status_code == 200  # as sent: fine
    reading, target = broken(rec["reading"], rec["target"])
    raw = json.dumps({**body, "reading": reading, "target": target}, allow_nan=True)
    response = client.post(
        "/api/v1/similar", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, (case, response.text[:300])
    assert_error_shape(response, code)


def test_head_health_answers_like_get(client: TestClient) -> None:
    """Monitors and load balancers probe with HEAD: 200, no body."""
    response = client.head("/health")
    assert response.status_code == 200 and response.content == b""


def test_similar_rejects_broken_json(client: TestClient) -> None:
    response = client.post(
        "/api/v1/similar", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert_error_shape(response, "invalid_json")


@pytest.mark.parametrize("kind", ["emotions", "genres", "scenes"])
def test_vocabularies(client: TestClient, kind: str) -> None:
    response = client.get(f"/api/v1/vocab/{kind}")
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == kind
    assert body["names"] == [t["name"] for t in body["terms"]]
    assert len(body["names"]) >= 7
    if kind == "emotions":
        assert set(body["names"]) == {*DYLUMO_EMOTIONS, "disgust"}
        assert all(-1 <= t["valence"] <= 1 for t in body["terms"])


def test_unknown_vocabulary_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/vocab/colours")
    assert response.status_code == 404
    assert_error_shape(response, "not_found")


# --- docs and page ------------------------------------------------------------------------------


def test_openapi_documents_every_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) >= {
        "/health",
        "/stats",
        "/emotions",
        "/recommend",
        "/api/v1/recommend",
        "/api/v1/recommend/batch",
        "/api/v1/tracks/{track_id}",
        "/api/v1/similar",
        "/api/v1/vocab/{kind}",
    }
    upload = spec["paths"]["/api/v1/recommend"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
    assert "422" in spec["paths"]["/api/v1/recommend"]["post"]["responses"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_page_renders_with_a_strict_policy(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-src https://open.spotify.com" in csp
    html = response.text
    assert 'id="tl-i18n"' in html and 'accept="image/*"' in html and "capture=" in html
    # nothing is loaded from another origin: only our own static files
    assert not re.search(r'(src|href)="https?://', html.split("<footer")[0])
    for asset in ("/static/app.js", "/static/style.css", "/static/theme.js", "/static/favicon.svg"):
        assert client.get(asset).status_code == 200
