"""The admin dashboard and its JSON: token checks (Bearer header, login cookie), the "off"
answer without a token, and server-drawn SVG charts that escape what they print."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import assert_error_shape
from tests.web.test_feedback_api import make_client, recommend
from tunelens.pipeline import Pipeline
from tunelens.web.services import charts
from tunelens.web.services.admin_access import ADMIN_COOKIE, session_value

TOKEN = "s3cret-admin-token-for-tests-0123456789"
HTML = {"Accept": "text/html"}
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def admin_client(
    engine: Pipeline, tmp_path_factory: pytest.TempPathFactory, photo_bytes: bytes
) -> Iterator[TestClient]:
    with make_client(engine, tmp_path_factory.mktemp("admin"), admin_token=TOKEN) as client:
        rec = recommend(client, photo_bytes, "admin-test")
        first = rec["tracks"][0]["track"]["id"]
        for kind in ("like", "played"):
            client.post(
                "/api/v1/feedback",
                json={"prediction_id": rec["prediction_id"], "track_id": first, "kind": kind},
            )
        client.post(
            "/api/v1/feedback",
            json={
                "prediction_id": rec["prediction_id"],
                "track_id": rec["tracks"][1]["track"]["id"],
                "kind": "dislike",
            },
        )
        yield client


def test_without_a_token_the_admin_pages_are_off(engine: Pipeline, tmp_path: Path) -> None:
    with make_client(engine, tmp_path / "home") as client:
        page = client.get("/admin", headers=HTML)
        assert page.status_code == 404 and "TUNELENS_ADMIN_TOKEN" in page.text
        response = client.get("/api/v1/admin/stats", headers=BEARER)
        assert response.status_code == 404
        assert_error_shape(response, "admin_disabled")
        assert client.post("/admin/login", data={"token": TOKEN}, headers=HTML).status_code == 404


def test_stats_json_needs_the_bearer_token(admin_client: TestClient) -> None:
    missing = admin_client.get("/api/v1/admin/stats")
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert_error_shape(missing, "admin_token_required")
    wrong = admin_client.get("/api/v1/admin/stats", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    assert_error_shape(wrong, "admin_token_invalid")
    body = admin_client.get("/api/v1/admin/stats?days=7&top=3", headers=BEARER).json()
    assert body["predictions"] >= 1 and body["days"] == 7
    assert body["feedback"]["like"] >= 1 and body["feedback"]["dislike"] >= 1
    assert body["like_rate"] == 0.5
    assert body["latency_ms"]["p50"] is not None and body["latency_ms"]["p95"] is not None
    assert body["emotion_by_day"] and body["like_rate_by_emotion"] and body["like_rate_by_genre"]
    assert len(body["most_recommended"]) == 3 and body["most_liked"]
    assert set(body["uploads"]) >= {"stored", "pending", "declined"}
    assert body["heads"]["emotion"]["kind"] == "colour"


def test_page_login_cookie_and_charts(admin_client: TestClient) -> None:
    admin_client.cookies.clear()
    login = admin_client.get("/admin", headers=HTML)
    assert login.status_code == 401 and 'name="token"' in login.text
    assert "Content-Security-Policy" in login.headers
    wrong = admin_client.post("/admin/login", data={"token": "guess"}, headers=HTML)
    assert wrong.status_code == 403 and "wrong" in wrong.text
    ok = admin_client.post(
        "/admin/login", data={"token": TOKEN}, headers=HTML, follow_redirects=False
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/admin"
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert TOKEN not in cookie and session_value(TOKEN) in cookie
    page = admin_client.get("/admin", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert html.count("<svg") >= 8 and "<script>" not in html.replace("<script src", "")
    for chart in (
        "emotions_over_time",
        "like_rate_emotion",
        "like_rate_genre",
        "latency",
        "most_recommended",
        "most_liked",
        "uploads",
    ):
        assert f'id="chart-{chart}"' in html
    assert re.search(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill=', html)
    assert "p95" in html and "50%" in html  # one like, one dislike
    # the JSON link works with the cookie too
    assert admin_client.get("/api/v1/admin/stats").status_code == 200
    out = admin_client.post("/admin/logout", headers=HTML, follow_redirects=False)
    assert out.status_code == 303 and f'{ADMIN_COOKIE}=""' in out.headers["set-cookie"]
    admin_client.cookies.clear()
    assert admin_client.get("/admin", headers=HTML).status_code == 401


def test_a_forged_cookie_is_not_a_session(admin_client: TestClient) -> None:
    admin_client.cookies.set(ADMIN_COOKIE, TOKEN)  # the raw token is not the session value
    try:
        assert admin_client.get("/admin", headers=HTML).status_code == 401
    finally:
        admin_client.cookies.clear()


def test_charts_escape_labels_and_say_when_empty() -> None:
    svg = charts.bar_chart(
        [charts.Bar('<script>alert("x")</script>', 3.0, note="a & b")],
        title="Songs <b>",
        empty="none",
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a &amp; b" in svg
    assert "<title" in svg and "<desc" in svg
    empty = charts.bar_chart([], title="t", empty="No data yet.")
    assert "No data yet." in empty
    columns = charts.stacked_columns(
        [{"day": "2026-01-01", "counts": {"sadness": 2, "awe": 1}}],
        ["awe", "sadness"],
        title="days",
        empty="none",
        colours=charts.EMOTION_COLOURS,
    )
    assert columns.count("<rect") == 2 + 2  # two stacked segments + two legend swatches
    assert charts.EMOTION_COLOURS["sadness"] in columns
