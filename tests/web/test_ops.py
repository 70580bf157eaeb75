"""Operator surface: /metrics (parsed with Prometheus's own parser), /ready, request ids in
every log line, and forwarded headers believed only from trusted proxies."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.web.conftest import NGINX_ON_LOOPBACK, assert_error_shape, offline_settings
from tunelens import pipeline as engine_module
from tunelens.core.errors import ConfigError
from tunelens.pipeline import Pipeline
from tunelens.web.app import create_app
from tunelens.web.middleware.request_id import RequestIdFilter, TrustedProxies
from tunelens.web.settings import WebSettings

PROXY = ("127.0.0.1", 50000)  # nginx on the same machine, trusted as deploy/systemd says
STRANGER = ("203.0.113.7", 50000)  # anyone else


def web(**overrides: Any) -> WebSettings:
    return WebSettings(_env_file=None, **{"trusted_proxies": NGINX_ON_LOOPBACK, **overrides})


@pytest.fixture(scope="module")
def app_client(engine: Pipeline) -> Iterator[TestClient]:
    with TestClient(create_app(engine=engine, web_settings=web()), client=PROXY) as c:
        yield c


def samples(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a /metrics answer, parsed by prometheus_client's own parser."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(
    data: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return data.get((name, frozenset(labels.items())), 0.0)


# --- /metrics --------------------------------------------------------------------------------


def test_metrics_show_stage_histograms_after_one_request(
    app_client: TestClient, engine: Pipeline, photo_bytes: bytes
) -> None:
    before = samples(app_client)
    response = app_client.post(
        "/api/v1/recommend", files={"image": ("p.jpg", photo_bytes, "image/jpeg")}
    )
    assert response.status_code == 200
    after = samples(app_client)

    for stage in ("decode", "encode", "rank", "explain"):
        count = "tunelens_stage_duration_seconds_count"
        added = value(after, count, stage=stage) - value(before, count, stage=stage)
        assert added == 1, f"stage {stage}: {added} observations for one picture"
        total = value(after, "tunelens_stage_duration_seconds_sum", stage=stage)
        assert total > 0
        inf = value(after, "tunelens_stage_duration_seconds_bucket", stage=stage, le="+Inf")
        assert inf == value(after, count, stage=stage)

    route = {"method": "POST", "route": "/api/v1/recommend"}
    requests = "tunelens_http_requests_total"
    assert value(after, requests, status="200", **route) - value(
        before, requests, status="200", **route
    ) == pytest.approx(1)
    latency = "tunelens_http_request_duration_seconds_count"
    assert value(after, latency, **route) - value(before, latency, **route) == pytest.approx(1)

    model = {
        "encoder": "colour",
        "model_id": engine.info.model_id,
        "pretrained": "false",
        "fallback": "false",
    }
    assert value(after, "tunelens_model_info", **model) == 1
    assert value(after, "tunelens_catalogue_tracks") == len(engine.recommender.tracks)
    assert value(after, "tunelens_engine_loaded") == 1
    assert value(after, "tunelens_database_up") == 1
    assert value(after, "tunelens_predictions_recorded_total") >= 1


def test_metrics_count_feedback_from_the_database(
    app_client: TestClient, photo_bytes: bytes
) -> None:
    before = value(samples(app_client), "tunelens_feedback_total", kind="like")
    answer = app_client.post("/api/v1/recommend", files={"image": ("p.jpg", photo_bytes)}).json()
    feedback = app_client.post(
        "/api/v1/feedback",
        json={
            "prediction_id": answer["prediction_id"],
            "track_id": answer["tracks"][0]["track"]["id"],
            "kind": "like",
        },
    )
    assert feedback.status_code == 201, feedback.text
    assert value(samples(app_client), "tunelens_feedback_total", kind="like") == before + 1


def test_routes_are_labelled_by_template_never_by_raw_path(app_client: TestClient) -> None:
    assert app_client.get("/api/v1/tracks/no-such-track-4711").status_code == 404
    assert app_client.get("/scanner/probe-8812.php").status_code == 404
    too_big = app_client.post(
        "/recommend",
        content=b"x",
        headers={"content-type": "multipart/form-data; boundary=x", "content-length": "999999999"},
    )
    assert too_big.status_code == 413  # refused by the body limit, before routing
    text = app_client.get("/metrics").text
    assert "no-such-track-4711" not in text and "probe-8812" not in text
    data = samples(app_client)
    requests = "tunelens_http_requests_total"
    assert value(data, requests, method="GET", route="/api/v1/tracks/{track_id}", status="404") >= 1
    assert value(data, requests, method="GET", route="unmatched", status="404") >= 1
    assert value(data, requests, method="POST", route="/recommend", status="413") >= 1


def test_invented_methods_share_one_label(app_client: TestClient) -> None:
    for i in range(5):
        app_client.request(f"INVENTED{i}", "/health")
    text = app_client.get("/metrics").text
    assert "INVENTED" not in text
    assert 'method="other"' in text


def test_metrics_before_the_engine_loads(engine: Pipeline, tmp_path: Path) -> None:
    client = TestClient(create_app(offline_settings(tmp_path), web_settings=web()))  # no lifespan
    data = samples(client)
    assert value(data, "tunelens_engine_loaded") == 0
    assert not any(name == "tunelens_model_info" for name, _ in data)


# --- /ready ----------------------------------------------------------------------------------


def test_ready_when_models_catalogue_and_database_are_up(app_client: TestClient) -> None:
    response = app_client.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "engine": "ok",
        "catalogue": "ok",
        "database": "ok",
    }
    # the operator sees which catalogue version this instance serves, the same as /health
    health = app_client.get("/health").json()
    detail = body["checks"]["catalogue"]["detail"]
    assert health["catalogue_hash"][:12] in detail
    assert f"{health['catalogue_size']} songs" in detail


def test_not_ready_before_start_up(engine: Pipeline, tmp_path: Path) -> None:
    client = TestClient(create_app(offline_settings(tmp_path), web_settings=web()))
    response = client.get("/ready")
    assert response.status_code == 503
    body = assert_error_shape(response, "not_ready")
    assert body["error"]["details"]["checks"]["engine"]["status"] == "failing"
    assert response.headers["retry-after"]
    assert client.get("/health").status_code == 200  # liveness is a different question


def test_not_ready_without_a_catalogue(tmp_path: Path) -> None:
    settings = offline_settings(tmp_path, catalog_dir=tmp_path / "no-catalogue")
    with TestClient(create_app(settings, web_settings=web())) as client:
        response = client.get("/ready")
        assert response.status_code == 503
        body = assert_error_shape(response)
        assert body["error"]["code"] == client.get("/health").json()["error"]["code"]
        assert body["error"]["details"]["checks"]["catalogue"]["status"] == "failing"


def test_not_ready_while_the_database_is_away_unless_told_otherwise(
    engine: Pipeline, tmp_path: Path
) -> None:
    password = "planted-db-password-5521"
    settings = offline_settings(
        tmp_path,
        catalog_dir=engine.settings.default_catalog_dir,
        database_url=f"postgresql://tunelens:{password}@127.0.0.1:1/tunelens",
    )
    app = create_app(settings, engine=engine, web_settings=web(storage_retry_s=0))
    with TestClient(app) as client:
        response = client.get("/ready")
        assert response.status_code == 503
        body = assert_error_shape(response, "database_unavailable")
        assert body["error"]["details"]["checks"]["engine"]["status"] == "ok"
        assert password not in response.text
        assert password not in client.get("/health").text
    lenient = web(storage_retry_s=0, ready_requires_database=False)
    with TestClient(create_app(settings, engine=engine, web_settings=lenient)) as client:
        response = client.get("/ready")
        assert response.status_code == 200
        assert response.json()["checks"]["database"]["status"] == "skipped"


# --- request ids and trusted proxies ---------------------------------------------------------


def test_request_id_from_a_trusted_proxy_is_kept_from_anyone_else_replaced(
    engine: Pipeline,
) -> None:
    app = create_app(engine=engine, web_settings=web())
    with TestClient(app, client=PROXY) as proxy, TestClient(app, client=STRANGER) as stranger:
        kept = proxy.get("/health", headers={"X-Request-ID": "nginx-0a1b2c"})
        assert kept.headers["x-request-id"] == "nginx-0a1b2c"
        spoofed = stranger.get("/health", headers={"X-Request-ID": "someone-elses-id"})
        assert spoofed.headers["x-request-id"] != "someone-elses-id"
        assert 8 <= len(spoofed.headers["x-request-id"]) <= 64
        bad = proxy.get("/health", headers={"X-Request-ID": "bad id\r\nx"})
        assert bad.headers["x-request-id"] != "bad id\r\nx"


def test_by_default_no_peer_is_a_trusted_proxy(engine: Pipeline) -> None:
    """Loopback is not special: any local process could otherwise name its own address in
    X-Forwarded-For and start with a fresh rate-limit bucket each time."""
    app = create_app(
        engine=engine,
        web_settings=WebSettings(_env_file=None, rate_limit_per_minute=60, rate_limit_burst=2),
    )
    with TestClient(app, client=PROXY) as local:
        answers = [
            local.get(
                "/api/v1/vocab/emotions", headers={"X-Forwarded-For": f"198.51.100.{n}"}
            ).status_code
            for n in range(4)
        ]
        kept = local.get("/health", headers={"X-Request-ID": "chosen-by-me"})
    assert answers[:2] == [200, 200] and answers[2:] == [429, 429]  # one bucket: the peer's
    assert kept.headers["x-request-id"] != "chosen-by-me"


def test_forwarded_for_is_believed_only_from_trusted_proxies(
    engine: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="tunelens.web.access")
    app = create_app(engine=engine, web_settings=web(trusted_proxies="127.0.0.1, 10.0.0.0/8"))
    forwarded = {"X-Forwarded-For": "198.51.100.23, 10.1.2.3", "X-Forwarded-Proto": "https"}
    with TestClient(app, client=PROXY) as proxy, TestClient(app, client=STRANGER) as stranger:
        ids = {
            "proxy": proxy.get("/health", headers=forwarded).headers["x-request-id"],
            "stranger": stranger.get("/health", headers=forwarded).headers["x-request-id"],
        }
    clients = {
        name: next(
            r.client  # type: ignore[attr-defined]
            for r in caplog.records
            if getattr(r, "request_id", None) == request_id
        )
        for name, request_id in ids.items()
    }
    # 10.1.2.3 is a trusted hop, so the client is the address before it
    assert clients == {"proxy": "198.51.100.23", "stranger": STRANGER[0]}


def test_every_log_line_of_a_request_carries_its_id(
    engine: Pipeline, photo_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also lines written in the engine's worker thread, far from the middleware."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(RequestIdFilter())
    engine_log = logging.getLogger("tunelens.test.engine-thread")
    engine_log.addHandler(handler)
    engine_log.setLevel(logging.INFO)
    observers = [*engine_module.stage_observers, lambda _t: engine_log.info("stage timings")]
    monkeypatch.setattr(engine_module, "stage_observers", observers)
    try:
        with TestClient(create_app(engine=engine, web_settings=web()), client=PROXY) as client:
            response = client.post(
                "/recommend",
                files={"image": ("p.jpg", photo_bytes)},
                headers={"X-Request-ID": "trace-me-77"},
            )
            assert response.status_code == 200
            engine_log.info("outside any request")
    finally:
        engine_log.removeHandler(handler)
    ids = [getattr(r, "request_id", None) for r in records]
    assert ids == ["trace-me-77", None]


def test_trusted_proxies_parse_and_refuse_typos() -> None:
    trusted = TrustedProxies.parse("127.0.0.1, ::1, 10.0.0.0/8")
    assert "10.200.1.1" in trusted and "::1" in trusted
    assert "203.0.113.7" not in trusted and "testclient" not in trusted
    assert trusted.client_from("203.0.113.7, 10.0.0.5") == "203.0.113.7"
    assert trusted.client_from("1.1.1.1, 203.0.113.7:4444, 10.0.0.5") == "203.0.113.7"
    assert trusted.client_from("10.0.0.9, 10.0.0.5") == "10.0.0.9"
    assert "8.8.8.8" in TrustedProxies.parse("*")
    with pytest.raises(ConfigError) as caught:
        TrustedProxies.parse("127.0.0.1, nginx.internal")
    assert caught.value.code == "invalid_trusted_proxies"
    assert "nginx.internal" in caught.value.message
