"""Every error code the web app can answer, and the one shape they all share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount, Route

from tests.unit.bad_images import BAD_IMAGE_CASES, BadImageCase, sample_jpeg
from tests.web.conftest import (
    LOOPBACK_PEER,
    NGINX_ON_LOOPBACK,
    assert_error_shape,
    multipart_body,
    offline_settings,
)
from tunelens.core.errors import InvalidImage
from tunelens.pipeline import Pipeline
from tunelens.web.app import create_app
from tunelens.web.http_status import http_status
from tunelens.web.services import startup
from tunelens.web.settings import WebSettings

UPLOAD_ROUTES = ["/recommend", "/api/v1/recommend"]


# --- the shared bad-file corpus ----------------------------------------------------------------


@pytest.mark.parametrize("route", UPLOAD_ROUTES)
@pytest.mark.parametrize("case", BAD_IMAGE_CASES, ids=[c.name for c in BAD_IMAGE_CASES])
def test_bad_files_get_their_image_error_code(
    client: TestClient, case: BadImageCase, route: str
) -> None:
    data = case.data()
    response = client.post(
        route, files={"image": (f"{case.name}.bin", data, "application/octet-stream")}
    )
    expected_status = http_status(InvalidImage("", code=case.code))
    assert 400 <= response.status_code < 500
    assert response.status_code == expected_status, response.json()
    assert_error_shape(response, case.code)


@pytest.mark.parametrize("content_type", ["text/plain", None])
def test_text_or_untyped_parts_are_sniffed(
    client: TestClient, content_type: str | None, photo_bytes: bytes
) -> None:
    """Browsers and curl label unknown files text/plain or not at all: imaging decides."""
    for data, code in [
        (b"This is a note, not a photo.\n" * 5, "not_an_image"),
        (photo_bytes, None),
    ]:
        body, ctype = multipart_body([("image", "notes.txt", data, content_type)])
        response = client.post("/api/v1/recommend", content=body, headers={"content-type": ctype})
        if code is None:
            assert response.status_code == 200
        else:
            assert response.status_code == 415
            assert_error_shape(response, code)


@pytest.mark.parametrize("route", UPLOAD_ROUTES)
@pytest.mark.parametrize("part_type", ["application/pdf", "video/mp4", "text/html"])
def test_parts_declared_as_non_images_are_refused_before_decoding(
    client: TestClient, route: str, part_type: str
) -> None:
    response = client.post(route, files={"image": ("photo.jpg", sample_jpeg(), part_type)})
    assert response.status_code == 415
    body = assert_error_shape(response, "unsupported_media_type")
    assert body["error"]["details"]["content_type"] == part_type


@pytest.mark.parametrize("route", [*UPLOAD_ROUTES, "/api/v1/recommend/batch"])
def test_non_multipart_bodies_are_415(client: TestClient, route: str) -> None:
    response = client.post(route, json={"image": "photo.jpg"})
    assert response.status_code == 415
    assert_error_shape(response, "unsupported_media_type")


@pytest.mark.parametrize("route", UPLOAD_ROUTES)
def test_missing_image_is_400(client: TestClient, route: str) -> None:
    empty = client.post(route)
    assert empty.status_code == 400
    assert_error_shape(empty, "missing_image")
    body, ctype = multipart_body([("top_k", None, b"5", None)])
    no_file = client.post(route, content=body, headers={"content-type": ctype})
    assert no_file.status_code == 400
    assert_error_shape(no_file, "missing_image")
    body, ctype = multipart_body([("image", None, b"photo.jpg", None)])
    text_field = client.post(route, content=body, headers={"content-type": ctype})
    assert text_field.status_code == 400
    assert_error_shape(text_field, "missing_image")


@pytest.mark.parametrize("route", UPLOAD_ROUTES)
def test_a_multipart_body_cut_short_is_bad_request_not_a_missing_picture(
    client: TestClient, route: str, photo_bytes: bytes
) -> None:
    """The client did send a picture; the body ended early (a dropped connection, a buggy
    client). Saying the picture is missing would send them looking for the wrong mistake."""
    field = "images" if route.endswith("/batch") else "image"
    body, ctype = multipart_body([(field, "p.jpg", photo_bytes, "image/jpeg")])
    closing = body.rindex(b"--", 0, len(body) - 4)  # where "--boundary--" begins
    for cut in (body[: len(body) // 2], body[:closing], body[:200]):
        response = client.post(route, content=cut, headers={"content-type": ctype})
        assert response.status_code == 400, response.text
        assert_error_shape(response, "bad_request")
    whole = client.post(route, content=body, headers={"content-type": ctype})
    assert whole.status_code == 200


# --- body limits, before any decoding ------------------------------------------------------------


@pytest.fixture(scope="module")
def small_limits_client(
    engine: Pipeline, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    settings = offline_settings(tmp_path_factory.mktemp("small"), max_image_bytes=50_000)
    web = WebSettings(_env_file=None, multipart_overhead_bytes=10_000, max_json_bytes=20_000)
    with TestClient(create_app(settings, engine=engine, web_settings=web)) as client:
        yield client


@pytest.mark.parametrize("route", UPLOAD_ROUTES)
def test_oversize_body_by_content_length_is_413(
    small_limits_client: TestClient, route: str
) -> None:
    response = small_limits_client.post(
        route, files={"image": ("big.jpg", b"\xff\xd8\xff" + bytes(100_000), "image/jpeg")}
    )
    assert response.status_code == 413
    body = assert_error_shape(response, "too_large")
    assert body["error"]["details"]["limit"] == 60_000
    assert body["error"]["details"]["actual"] > 100_000


@pytest.mark.parametrize("route", UPLOAD_ROUTES)
def test_oversize_streamed_body_without_length_is_413(
    small_limits_client: TestClient, route: str
) -> None:
    body, ctype = multipart_body([("image", "big.jpg", bytes(100_000), "image/jpeg")])

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    response = small_limits_client.post(route, content=chunks(), headers={"content-type": ctype})
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413
    assert_error_shape(response, "too_large")


def test_image_part_over_the_image_limit_is_413(small_limits_client: TestClient) -> None:
    """Within the body allowance, but the picture itself is over max_image_bytes."""
    response = small_limits_client.post(
        "/api/v1/recommend", files={"image": ("big.jpg", bytes(55_000), "image/jpeg")}
    )
    assert response.status_code == 413
    body = assert_error_shape(response, "too_large")
    assert body["error"]["details"] == {"limit": 50_000, "actual": 55_000}


def test_oversize_json_body_is_413(small_limits_client: TestClient) -> None:
    response = small_limits_client.post(
        "/api/v1/similar", json={"track_id": "x", "exclude": ["y" * 30] * 1000}
    )
    assert response.status_code == 413
    assert_error_shape(response, "too_large")


# --- the error shape on every route -----------------------------------------------------------


def walk_routes(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, BaseRoute]]:
    """Every route of the app, descending into included routers (FastAPI wraps those)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from walk_routes(inner.routes, prefix + getattr(context, "prefix", ""))
        else:
            yield (prefix, route)


#: POST routes that take no body, so an empty POST is their success (201), not an error
POSTS_WITHOUT_A_BODY = frozenset({"/api/v1/clients"})


def test_every_route_answers_errors_in_the_one_shape(client: TestClient) -> None:
    checked: set[str] = set()
    for prefix, route in walk_routes(client.app.routes):  # type: ignore[attr-defined]
        if isinstance(route, Mount):
            response = client.get(f"{prefix}{route.path}/no-such-file.css")
            assert response.status_code == 404
            assert_error_shape(response, "not_found")
            checked.add(route.path)
            continue
        assert isinstance(route, (APIRoute, Route)), route
        full = prefix + route.path
        path = full.replace("{track_id}", "no-such-track").replace("{kind}", "nope")
        methods = route.methods or {"GET"}
        wrong = next(m for m in ("DELETE", "PUT", "PATCH") if m not in methods)
        response = client.request(wrong, path)
        assert response.status_code == 405, path
        body = assert_error_shape(response, "method_not_allowed")
        assert set(body["error"]["details"]["allow"]) >= methods - {"HEAD"}
        if "POST" in methods and full not in POSTS_WITHOUT_A_BODY:
            failing = client.post(path)
            assert 400 <= failing.status_code < 500, path
            assert_error_shape(failing)
        if "{" in full and "GET" in methods:
            missing = client.get(path)
            assert missing.status_code == 404, path
            assert_error_shape(missing, "not_found")
        checked.add(full)
    assert {
        "/",
        "/health",
        "/stats",
        "/emotions",
        "/recommend",
        "/api/v1/recommend",
        "/api/v1/recommend/batch",
        "/api/v1/tracks/{track_id}",
        "/api/v1/similar",
        "/api/v1/vocab/{kind}",
        "/static",
        "/docs",
        "/openapi.json",
    } <= checked
    for unknown in ("/nope", "/api/v1/nope", "/recommend/extra"):
        response = client.get(unknown)
        assert response.status_code == 404
        assert_error_shape(response, "not_found")


# --- start-up failures: a live server with a reason, never a crash loop ----------------------


def test_missing_catalogue_keeps_serving_with_503(tmp_path: Path, photo_bytes: bytes) -> None:
    settings = offline_settings(tmp_path / "home")
    app = create_app(settings, encoder="colour", catalog_dir=tmp_path / "no-catalogue")
    with TestClient(app) as client:
        health = client.get("/health")
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "degraded"
        assert body["model_loaded"] is False
        assert body["error"]["code"] == "catalog_missing"
        assert body["stats"]["status"] == "not_loaded"
        assert client.get("/stats").json()["status"] == "not_loaded"

        for route in UPLOAD_ROUTES:
            response = client.post(route, files={"image": ("p.jpg", photo_bytes, "image/jpeg")})
            assert response.status_code == 503
            assert_error_shape(response, "catalog_missing")
        for response in (
            client.get("/api/v1/tracks/abc"),
            client.post("/api/v1/similar", json={"track_id": "abc"}),
            client.post(
                "/api/v1/recommend/batch", files={"images": ("p.jpg", photo_bytes, "image/jpeg")}
            ),
        ):
            assert response.status_code == 503
            assert_error_shape(response, "catalog_missing")
        # what needs no engine still works, and the page says what is wrong
        assert client.get("/emotions").status_code == 200
        assert client.get("/api/v1/vocab/genres").status_code == 200
        page = client.get("/")
        assert page.status_code == 200 and 'id="server-banner"' in page.text


def test_missing_model_keeps_serving_with_503(
    spotify_catalog: Path, tmp_path: Path, photo_bytes: bytes
) -> None:
    settings = offline_settings(tmp_path / "home")
    app = create_app(settings, encoder="clip", catalog_dir=spotify_catalog)
    with TestClient(app) as client:
        error = client.get("/health").json()["error"]
        assert error["code"].startswith("model_")
        response = client.post(
            "/api/v1/recommend", files={"image": ("p.jpg", photo_bytes, "image/jpeg")}
        )
        assert response.status_code == 503
        assert_error_shape(response, error["code"])


def test_unexpected_start_up_crash_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> Pipeline:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(startup, "build_pipeline", broken)
    with TestClient(create_app(offline_settings(tmp_path))) as client:
        body = client.get("/health").json()
        assert body["error"]["code"] == "engine_failed"
        assert "disk on fire" in body["error"]["message"]
        response = client.get("/api/v1/tracks/x")
        assert response.status_code == 503
        assert_error_shape(response, "engine_failed")
    assert any("cannot recommend" in r.getMessage() for r in caplog.records)


def test_start_up_failure_is_one_clear_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="tunelens.web")
    app = create_app(offline_settings(tmp_path), encoder="colour", catalog_dir=tmp_path / "none")
    with TestClient(app):
        pass
    errors = [r for r in caplog.records if r.name == "tunelens.web" and r.levelname == "ERROR"]
    assert len(errors) == 1
    assert "catalog_missing" in errors[0].getMessage()
    assert errors[0].exc_info is None  # a sentence, not a traceback


def test_before_start_up_the_engine_routes_say_not_ready(engine: Pipeline, tmp_path: Path) -> None:
    client = TestClient(create_app(offline_settings(tmp_path)))  # no `with`: lifespan not run
    assert client.get("/health").json()["status"] == "starting"
    response = client.get("/api/v1/tracks/x")
    assert response.status_code == 503
    assert_error_shape(response, "not_ready")


def test_a_bug_is_a_500_in_the_one_shape_with_the_request_id(
    engine: Pipeline, photo_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(engine, "recommend", broken)
    web = WebSettings(_env_file=None, trusted_proxies=NGINX_ON_LOOPBACK)
    app = create_app(engine=engine, web_settings=web)
    with TestClient(app, raise_server_exceptions=False, client=LOOPBACK_PEER) as client:
        response = client.post(
            "/recommend",
            files={"image": ("p.jpg", photo_bytes, "image/jpeg")},
            headers={"X-Request-ID": "bug-1"},
        )
    assert response.status_code == 500
    body = assert_error_shape(response, "internal_error")
    assert body["error"]["details"] == {"request_id": "bug-1"}
    assert "a bug" not in response.text  # internals stay in the log
