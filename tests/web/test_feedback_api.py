"""The data loop in the web app: predictions recorded under the id the API returns, feedback
through ``POST /api/v1/feedback`` changing that listener's next results, consented uploads,
the outbox flush task, ``/stats`` and ``/health`` figures, and a database that is down."""

from __future__ import annotations

import html as html_module
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.storage.helpers import jpeg_with_gps
from tests.web.conftest import assert_error_shape, offline_settings
from tunelens.core.settings import Settings
from tunelens.pipeline import Pipeline
from tunelens.storage import repository as repo
from tunelens.storage.blobs import blob_key
from tunelens.storage.db import Database
from tunelens.storage.strip import StrippedImage
from tunelens.storage.uploads import CONSENT_TEXT
from tunelens.web.app import create_app
from tunelens.web.services import answers
from tunelens.web.services.data_loop import DataLoop
from tunelens.web.services.identity import CLIENT_COOKIE
from tunelens.web.settings import WebSettings


def make_client(engine: Pipeline, home: Path, **overrides: Any) -> TestClient:
    settings = offline_settings(home, catalog_dir=engine.settings.catalog_dir, **overrides)
    return TestClient(create_app(settings, engine=engine, web_settings=WebSettings(_env_file=None)))


@pytest.fixture(scope="module")
def loop_client(engine: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_client(engine, tmp_path_factory.mktemp("data-loop")) as client:
        yield client


def data_loop(client: TestClient) -> DataLoop:
    loop = client.app.state.data_loop  # type: ignore[attr-defined]
    assert isinstance(loop, DataLoop)
    return loop


def db_of(client: TestClient) -> Database:
    db = data_loop(client).db
    assert db is not None
    return db


def new_identity(client: TestClient) -> tuple[str, str]:
    """A fresh signed listener identity: (token, client id)."""
    body = client.post("/api/v1/clients").json()
    return body["client_token"], body["client_id"]


def recommend(client: TestClient, photo: bytes, token: str, **form: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/recommend",
        files={"image": ("photo.jpg", photo, "image/jpeg")},
        data={"top_k": "10", **form},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(rec: dict[str, Any]) -> list[str]:
    return [item["track"]["id"] for item in rec["tracks"]]


def feedback(client: TestClient, **body: Any) -> Any:
    return client.post("/api/v1/feedback", json=body)


def test_every_answer_is_recorded_under_the_returned_id(
    loop_client: TestClient, photo_bytes: bytes
) -> None:
    token, client_id = new_identity(loop_client)
    rec = recommend(loop_client, photo_bytes, token)
    assert "prior" not in rec["tracks"][0]["parts"]  # no votes yet: scores as without feedback
    stored = repo.get_prediction(db_of(loop_client), rec["prediction_id"])
    assert stored is not None and stored.client_id == client_id and stored.source == "api"
    assert stored.track_ids == ids(rec)
    assert stored.image_sha256 == rec["image_sha256"] and stored.latency_ms is not None
    dylumo = loop_client.post(
        "/recommend", files={"image": ("p.jpg", photo_bytes, "image/jpeg")}
    ).json()
    row = repo.get_prediction(db_of(loop_client), dylumo["prediction_id"])
    assert row is not None and row.source == "dylumo"
    assert row.track_ids == [t["track_id"] for t in dylumo["recommendations"]]
    assert dylumo["upload"]["status"] == "declined" and dylumo["upload"]["kept"] is False


def test_dislikes_leave_and_likes_stay_for_that_listener_only(
    loop_client: TestClient, photo_bytes: bytes
) -> None:
    token_a, client_a = new_identity(loop_client)
    first = recommend(loop_client, photo_bytes, token_a)
    shown = ids(first)
    disliked, not_for_me, liked = shown[0], shown[1], shown[2]
    for track, kind in ((disliked, "dislike"), (not_for_me, "not_interested"), (liked, "like")):
        response = feedback(
            loop_client,
            prediction_id=first["prediction_id"],
            track_id=track,
            kind=kind,
            client_id=token_a,
        )
        assert response.status_code == 201, response.text
        assert response.json()["client_id"] == client_a
    again = ids(recommend(loop_client, photo_bytes, token_a))
    assert disliked not in again and not_for_me not in again
    assert liked in again
    # another listener is not affected by listener-a's dislikes
    effects = data_loop(loop_client).effects
    assert effects is not None
    effects.invalidate()  # priors are cached for a minute; take the new votes in now
    other_rec = recommend(loop_client, photo_bytes, new_identity(loop_client)[0])
    other = ids(other_rec)
    assert disliked in other and not_for_me in other
    assert "prior" in other_rec["tracks"][0]["parts"]  # but everyone's votes move the priors
    # "more like this" honours the same exclusions
    similar = loop_client.post(
        "/api/v1/similar",
        json={"track_id": liked, "reading": first["reading"], "target": first["target"]},
        headers={"X-Client-Id": token_a},  # where clients used to put a raw id
    ).json()
    assert disliked not in [t["track"]["id"] for t in similar["tracks"]]


def test_feedback_rows_carry_the_catalogue_artist_and_the_cookie_client(
    loop_client: TestClient, engine: Pipeline
) -> None:
    track = engine.recommender.tracks[5]
    cookie_token, cookie_client = new_identity(loop_client)
    loop_client.cookies.set(CLIENT_COOKIE, cookie_token)
    try:
        response = feedback(loop_client, track_id=track.id, kind="played", comment=" nice ")
    finally:
        loop_client.cookies.clear()
    assert response.status_code == 201
    assert response.json()["client_id"] == cookie_client
    opinions_before = repo.client_opinions(db_of(loop_client), cookie_client)
    assert opinions_before == []  # "played" is engagement, not an opinion
    body_token, body_client = new_identity(loop_client)
    liked = feedback(loop_client, track_id=track.id, kind="like", client_id=body_token)
    assert liked.json()["client_id"] == body_client
    [opinion] = repo.client_opinions(db_of(loop_client), body_client)
    assert opinion.artist == track.artist


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"track_id": "T", "kind": "love"}, 422, "invalid_feedback_kind"),
        ({"kind": "like"}, 422, "invalid_request"),
        ({"track_id": "no-such-track", "kind": "like"}, 404, "track_not_found"),
        ({"track_id": "T", "kind": "like", "prediction_id": "0" * 32}, 404, "prediction_not_found"),
        ({"track_id": "T", "kind": "like", "comment": "x" * 1001}, 422, "comment_too_long"),
        ({"track_id": "T", "kind": "like", "client_id": "bad id!"}, 401, "invalid_client_token"),
        ({"track_id": "T", "kind": "like", "client_id": "listener-a"}, 401, "invalid_client_token"),
    ],
)
def test_feedback_errors(
    loop_client: TestClient, engine: Pipeline, body: dict[str, Any], status: int, code: str
) -> None:
    if body.get("track_id") == "T":
        body = {**body, "track_id": engine.recommender.tracks[0].id}
    response = feedback(loop_client, **body)
    assert response.status_code == status, response.text
    assert_error_shape(response, code)


def test_consented_upload_is_kept_without_gps_and_unconsented_is_not(
    loop_client: TestClient, tmp_path: Path
) -> None:
    photo = jpeg_with_gps(colour=(200, 120, 40))
    uploader = new_identity(loop_client)[0]
    kept = recommend(loop_client, photo, uploader, consent="true")
    assert kept["upload"]["status"] == "stored" and kept["upload"]["kept"] is True
    settings = data_loop(loop_client).settings
    stored = settings.data_dir / "uploads" / blob_key(kept["upload"]["sha256"])
    assert stored.exists() and stored.read_bytes() != photo
    from PIL import Image

    with Image.open(stored) as image:
        assert not image.getexif().get_ifd(0x8825)  # no GPS block
    row = repo.get_upload(db_of(loop_client), kept["upload"]["sha256"])
    assert row is not None and row.consent and row.prediction_id == kept["prediction_id"]

    declined_photo = jpeg_with_gps(colour=(10, 20, 200))
    declined = recommend(loop_client, declined_photo, uploader)
    assert declined["upload"]["status"] == "declined"
    assert not (settings.data_dir / "uploads" / blob_key(declined["upload"]["sha256"])).exists()


def test_page_sets_a_client_cookie_and_offers_unticked_consent(loop_client: TestClient) -> None:
    loop_client.cookies.clear()
    page = loop_client.get("/")
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{CLIENT_COOKIE}=tlc1.") and "HttpOnly" in cookie
    html = page.text
    assert (
        'id="consent-input"' in html and "checked" not in html.split('id="consent-input"')[1][:80]
    )
    assert CONSENT_TEXT in html_module.unescape(html)  # the page shows the consent text kept
    assert 'data-kind="like"' in html and 'data-kind="not_interested"' in html
    # a visitor who has one keeps it
    assert "set-cookie" not in loop_client.get("/").headers
    loop_client.cookies.clear()


def test_stats_and_health_report_the_data_loop(loop_client: TestClient) -> None:
    stats = loop_client.get("/stats").json()
    figures = stats["feedback"]
    assert figures["predictions_recorded"] >= 1
    assert set(figures["feedback"]) == {"like", "dislike", "not_interested", "played"}
    health = loop_client.get("/health").json()
    assert health["status"] == "healthy"
    assert health["database"]["status"] == "ok" and health["database"]["backend"] == "sqlite"
    assert health["database"]["uploads"] == "local"
    assert health["heads"] == {
        "emotion": {"kind": "colour"},
        "genre": {"kind": "colour"},
        "features": {"kind": "mapping", "active": None, "blend": 0.5},
    }


def test_outbox_is_flushed_by_the_background_task(
    engine: Pipeline, tmp_path: Path, photo_bytes: bytes
) -> None:
    with make_client(engine, tmp_path / "home", outbox_flush_interval_s=0.2) as client:
        uploads = data_loop(client).uploads
        assert uploads is not None
        uploads._store_down_until = float("inf")  # the store "failed" a moment ago
        rec = recommend(client, photo_bytes, new_identity(client)[0], consent="true")
        assert rec["upload"]["status"] == "pending"
        deadline = time.monotonic() + 10
        while uploads.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert uploads.pending() == 0
        row = repo.get_upload(db_of(client), rec["upload"]["sha256"])
        assert row is not None and row.status == "stored"


def test_a_database_that_is_down_leaves_recommendations_working(
    engine: Pipeline, tmp_path: Path, photo_bytes: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("ERROR", logger="tunelens.web")
    broken = "postgresql://tunelens@127.0.0.1:1/tunelens"  # nothing listens on port 1
    with make_client(engine, tmp_path / "home", database_url=broken, admin_token="t" * 32) as c:
        assert any("database unavailable" in r.getMessage() for r in caplog.records)
        health = c.get("/health").json()
        assert health["status"] == "degraded" and health["model_loaded"] is True
        assert health["database"]["status"] == "unavailable"
        assert health["database"]["error"]["code"] in (
            "database_unavailable",
            "database_driver_missing",
        )
        rec = recommend(c, photo_bytes, new_identity(c)[0], consent="true")
        assert len(rec["tracks"]) == 10 and rec["prediction_id"]
        assert rec["upload"]["status"] == "not_kept"
        response = feedback(c, track_id=rec["tracks"][0]["track"]["id"], kind="like")
        assert response.status_code == 503
        assert_error_shape(response, "database_unavailable")
        admin = c.get("/api/v1/admin/stats", headers={"Authorization": "Bearer " + "t" * 32})
        assert admin.status_code == 503
        assert_error_shape(admin, "database_unavailable")
        assert c.get("/stats").json()["feedback"] is None


def test_consented_uploads_are_re_encoded_inside_the_bounded_work_queue(
    engine: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keeping a picture decodes it again: that must wait for a worker like the reading does,
    so N uploads never decode more pictures at once than ``engine_concurrency``."""
    active, peak, lock = 0, 0, threading.Lock()
    real_strip = answers.strip_image

    def counting_strip(data: bytes, *, settings: Settings) -> StrippedImage:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        try:
            time.sleep(0.05)  # long enough for overlapping calls to show
            return real_strip(data, settings=settings)
        finally:
            with lock:
                active -= 1

    monkeypatch.setattr(answers, "strip_image", counting_strip)
    settings = offline_settings(tmp_path / "home", catalog_dir=engine.settings.catalog_dir)
    web = WebSettings(_env_file=None, engine_concurrency=1, rate_limit_per_minute=0)
    with TestClient(create_app(settings, engine=engine, web_settings=web)) as client:
        token = new_identity(client)[0]
        photos = [jpeg_with_gps(colour=(40 * n, 90, 200 - 30 * n)) for n in range(5)]
        with ThreadPoolExecutor(len(photos)) as pool:
            answers_ = list(pool.map(lambda p: recommend(client, p, token, consent="true"), photos))
    assert [a["upload"]["status"] for a in answers_] == ["stored"] * len(photos)
    assert peak == 1
