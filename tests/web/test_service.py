"""Request ids and logs, stats, concurrency, parsing helpers and "more like this" maths."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import warnings
from typing import Any

import anyio
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from tunelens.core.errors import InvalidRequest
from tunelens.pipeline import Pipeline
from tunelens.recommend.similar import reading_from_track, steer_reading, steer_target
from tunelens.web.app import create_app
from tunelens.web.middleware.logging_setup import JsonFormatter, configure_logging
from tunelens.web.services.form_fields import (
    dylumo_top_k,
    parse_context,
    parse_exclude,
    strict_top_k,
)
from tunelens.web.services.stats import ServiceStats, percentile
from tunelens.web.settings import WebSettings

# --- request ids and logs ---------------------------------------------------------------------


def test_request_id_is_generated_or_kept(client: TestClient) -> None:
    generated = client.get("/health").headers["x-request-id"]
    assert 8 <= len(generated) <= 64
    kept = client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
    assert kept == "abc-123"
    replaced = client.get("/health", headers={"X-Request-ID": "bad id\n"}).headers["x-request-id"]
    assert replaced != "bad id\n"


def test_access_log_has_fields_and_never_the_upload(
    client: TestClient, photo_bytes: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="tunelens.web.access")
    secret_context = "my-secret-context-words"
    response = client.post(
        "/recommend?token=hunter2",
        files={"image": ("p.jpg", photo_bytes, "image/jpeg")},
        data={"context": secret_context, "top_k": "2"},
        headers={"X-Request-ID": "req-42"},
    )
    assert response.status_code == 200
    records = [r for r in caplog.records if r.name == "tunelens.web.access"]
    record = next(r for r in records if getattr(r, "request_id", None) == "req-42")
    fields: dict[str, Any] = vars(record)
    assert fields["method"] == "POST"
    assert fields["path"] == "/recommend"
    assert fields["status"] == 200
    assert fields["ms"] > 0
    line = JsonFormatter().format(record)
    parsed = json.loads(line)
    assert parsed["request_id"] == "req-42" and parsed["status"] == 200
    for forbidden in ("hunter2", secret_context, "\\xff\\xd8", "JFIF"):
        assert forbidden not in line


def test_json_formatter_keeps_extra_fields() -> None:
    record = logging.LogRecord("tunelens.web", logging.ERROR, __file__, 1, "boom %s", ("x",), None)
    record.code = "catalog_missing"
    parsed = json.loads(JsonFormatter().format(record))
    assert parsed["msg"] == "boom x"
    assert parsed["level"] == "error"
    assert parsed["code"] == "catalog_missing"


def test_library_warnings_are_json_lines_with_the_request_id(
    engine: Pipeline, photo_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A numpy or Pillow warning raised while a request is served (in the engine's worker
    thread) is logged like everything else: one JSON object, with that request's id."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    buffer = io.StringIO()
    real_recommend = engine.recommend_file

    def warning_recommend(*args: Any, **kwargs: Any) -> Any:
        np.float32(3e38) * np.float32(10)  # numpy: RuntimeWarning, overflow
        return real_recommend(*args, **kwargs)

    monkeypatch.setattr(engine, "recommend_file", warning_recommend)
    try:
        configure_logging("INFO", json_lines=True)
        for handler in root.handlers:
            assert isinstance(handler, logging.StreamHandler)
            handler.setStream(buffer)
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            app = create_app(engine=engine, web_settings=WebSettings(_env_file=None))
            with TestClient(app) as client:
                response = client.post(
                    "/api/v1/recommend", files={"image": ("p.jpg", photo_bytes, "image/jpeg")}
                )
    finally:
        logging.captureWarnings(False)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    assert response.status_code == 200
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]  # all JSON
    [warned] = [line for line in lines if line["logger"] == "py.warnings"]
    assert "overflow" in warned["msg"] and warned["level"] == "warning"
    assert warned["request_id"] == response.headers["x-request-id"]


# --- concurrency: CPU work off the event loop, bounded ----------------------------------------


def test_engine_work_runs_off_the_event_loop_and_is_bounded(
    engine: Pipeline, photo_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = 0
    peak = 0
    lock = threading.Lock()
    real = engine.recommend

    def slow_recommend(*args: Any, **kwargs: Any) -> Any:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.4)  # stands for CPU-bound work holding a worker thread
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(engine, "recommend", slow_recommend)
    app = create_app(engine=engine, web_settings=WebSettings(_env_file=None, engine_concurrency=2))

    async def scenario() -> tuple[float, list[int]]:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://test") as http,
        ):
            statuses: list[int] = []
            health_time = 0.0

            async def recommend() -> None:
                response = await http.post(
                    "/api/v1/recommend",
                    files={"image": ("p.jpg", photo_bytes, "image/jpeg")},
                    data={"top_k": "2"},
                )
                statuses.append(response.status_code)

            async def health() -> None:
                nonlocal health_time
                await anyio.sleep(0.1)
                start = time.perf_counter()
                assert (await http.get("/health")).status_code == 200
                health_time = time.perf_counter() - start

            async with anyio.create_task_group() as tg:
                for _ in range(4):
                    tg.start_soon(recommend)
                tg.start_soon(health)
            return health_time, statuses

    # in a fresh thread: another test's library may hold an event loop in this one
    outcome: list[tuple[float, list[int]]] = []
    worker = threading.Thread(target=lambda: outcome.append(anyio.run(scenario)))
    worker.start()
    worker.join(timeout=60)
    assert outcome, "the concurrency scenario did not finish"
    health_time, statuses = outcome[0]
    assert statuses == [200] * 4
    assert peak == 2  # four requests, never more than engine_concurrency at once
    assert health_time < 0.3  # answered while all engine workers were busy


# --- stats -------------------------------------------------------------------------------------


def test_percentiles_and_bounded_window() -> None:
    assert percentile([], 50) == 0.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    stats = ServiceStats(window=10)
    for ms in range(100):
        stats.record_recommendation(["awe"], float(ms))
    snap = stats.snapshot()
    assert snap["latency_ms"]["window"] == 10
    assert snap["latency_ms"]["p50"] >= 90
    assert snap["emotion_distribution"] == {"awe": 100}


# --- parsing helpers ---------------------------------------------------------------------------


def test_parse_exclude_accepts_commas_and_repeats() -> None:
    assert parse_exclude(["a,b", " c ", "a", ""], 10) == ["a", "b", "c"]
    assert parse_exclude(None, 10) == []
    with pytest.raises(InvalidRequest) as info:
        parse_exclude(["a,b,c"], 2)
    assert info.value.code == "too_many_excluded"


def test_top_k_rules() -> None:
    assert dylumo_top_k(None, 10, 50) == 10
    assert dylumo_top_k(" 7 ", 10, 50) == 7
    assert dylumo_top_k("x", 10, 50) == 10
    assert dylumo_top_k("99", 10, 50) == 50
    assert strict_top_k(None) is None
    assert strict_top_k("4") == 4
    with pytest.raises(InvalidRequest):
        strict_top_k("four")


def test_parse_context() -> None:
    assert parse_context("  ", 10) is None
    assert parse_context(" rain ", 10) == "rain"
    with pytest.raises(InvalidRequest):
        parse_context("x" * 11, 10)


# --- "more like this" maths -------------------------------------------------------------------


def test_steering_moves_target_and_genres_towards_the_seed(engine: Pipeline) -> None:
    seed = next(
        t for t in engine.recommender.tracks if t.genre == "rock" and "valence" in t.features
    )
    reading = reading_from_track(engine.recommender.tracks[0], engine.info)
    from tunelens.recommend.mapping import target_profile

    target = target_profile(reading, engine.recommender.profiles)
    steered = steer_target(target, seed, share=0.6)
    expected = 0.4 * target.features["valence"] + 0.6 * seed.features["valence"]
    assert steered.features["valence"] == pytest.approx(expected, abs=1e-3)
    assert steered.weights == target.weights
    moved = steer_reading(reading, seed, share=0.5)
    assert moved.genres["rock"] > reading.genres["rock"] / sum(reading.genres.values())
    assert sum(moved.genres.values()) == pytest.approx(1.0, abs=1e-3)
