"""Limits and access: per-client rate limits, back-pressure, the admin token, CORS and the
security headers on pages and API answers."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.security.conftest import AppFactory, assert_documented_error
from tests.unit.bad_images import sample_jpeg
from tunelens.pipeline import Pipeline
from tunelens.web.middleware.rate_limit import TokenBuckets, is_costly
from tunelens.web.middleware.security_headers import API_CSP, docs_policy
from tunelens.web.services import admin_access as admin

# --------------------------------------------------------------------------- rate limits


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(per_minute=60, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(1.0)  # one token a second
    assert buckets.take("b") == 0.0, "clients do not share a bucket"
    clock.now += 0.5
    assert buckets.take("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert buckets.take("a") == 0.0
    clock.now += 3600
    assert [buckets.take("a") for _ in range(4)][-1] > 0, "refill stops at the burst"


def test_token_buckets_forget_the_least_recent_client_first() -> None:
    buckets = TokenBuckets(per_minute=60, burst=1, max_keys=2, clock=FakeClock())
    buckets.take("a")
    buckets.take("b")
    buckets.take("a")  # a is now the most recent
    buckets.take("c")  # b is dropped
    assert len(buckets) == 2
    assert buckets.take("a") > 0, "a is still tracked (and empty)"
    assert buckets.take("b") == 0.0, "a forgotten client starts with a full bucket"


def test_only_costly_requests_count() -> None:
    assert is_costly("POST", "/recommend")
    assert is_costly("POST", "/api/v1/feedback")
    assert is_costly("GET", "/api/v1/tracks/x")
    assert is_costly("POST", "/admin/login")
    for method, path in [
        ("GET", "/"),
        ("GET", "/health"),
        ("GET", "/stats"),
        ("GET", "/static/app.js"),
        ("GET", "/openapi.json"),
        ("GET", "/emotions"),
    ]:
        assert not is_costly(method, path), path


def test_over_the_limit_is_429_with_retry_after(make_client: AppFactory) -> None:
    client = make_client(web={"rate_limit_per_minute": 6, "rate_limit_burst": 3})
    answers = [client.get("/api/v1/vocab/emotions") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert assert_documented_error(limited) == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 10
    assert limited.json()["error"]["details"]["limit_per_minute"] == 6
    # the page and health checks are never limited
    assert client.get("/health").status_code == 200
    assert client.get("/").status_code == 200
    # a refused upload is refused before its body is parsed
    refused = client.post("/recommend", files={"image": ("a.jpg", sample_jpeg(), "image/jpeg")})
    assert refused.status_code == 429 and refused.json()["status"] == "error"
    assert "Content-Security-Policy" in refused.headers  # outer middlewares still apply


def test_rate_limit_can_be_turned_off(make_client: AppFactory) -> None:
    client = make_client(web={"rate_limit_per_minute": 0, "rate_limit_burst": 1})
    assert {client.get("/api/v1/vocab/genres").status_code for _ in range(20)} == {200}


# --------------------------------------------------------------------------- back-pressure


class BlockingEngine:
    """The real engine, except that reading an upload (``recommend_file``) waits until the
    test lets it go."""

    def __init__(self, engine: Pipeline) -> None:
        self._engine = engine
        self.entered = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def recommend_file(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.set()
        assert self.release.wait(30), "the test never released the engine"
        return self._engine.recommend_file(*args, **kwargs)


def test_full_queue_answers_503_overloaded_at_once(
    make_client: AppFactory, engine: Pipeline
) -> None:
    """One worker, no queue: while the first picture is being read, a second is refused with
    503 + Retry-After straight away instead of waiting; afterwards the server serves again."""
    client = make_client(web={"engine_concurrency": 1, "max_queue": 0, "rate_limit_per_minute": 0})
    blocking = BlockingEngine(engine)
    client.app.state.tunelens.engine = blocking  # type: ignore[attr-defined]
    files = {"image": ("a.jpg", sample_jpeg(), "image/jpeg")}
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.post, "/api/v1/recommend", files=files)
        assert blocking.entered.wait(30)
        started = time.perf_counter()
        second = client.post("/api/v1/recommend", files=files)
        refused_in = time.perf_counter() - started
        assert not first.done(), "the first request must still be in flight"
        blocking.release.set()
        assert first.result(timeout=60).status_code == 200
    assert second.status_code == 503
    body = second.json()
    assert body["error"]["code"] == "overloaded"
    assert int(second.headers["Retry-After"]) >= 1
    assert body["error"]["details"]["retry_after_s"] == int(second.headers["Retry-After"])
    print(f"overloaded answered in {refused_in * 1000:.1f} ms")
    work = client.app.state.tunelens.work  # type: ignore[attr-defined]
    assert work.refused == 1 and work.pending == 0
    assert client.post("/api/v1/recommend", files=files).status_code == 200


def test_queued_requests_wait_their_turn_within_the_bound(
    make_client: AppFactory, engine: Pipeline
) -> None:
    """One worker and a queue of two: three requests in flight all succeed, the fourth is
    refused while the first still holds the worker."""
    client = make_client(web={"engine_concurrency": 1, "max_queue": 2, "rate_limit_per_minute": 0})
    blocking = BlockingEngine(engine)
    state = client.app.state.tunelens  # type: ignore[attr-defined]
    state.engine = blocking
    files = {"image": ("a.jpg", sample_jpeg(), "image/jpeg")}
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(client.post, "/recommend", files=files) for _ in range(3)]
        deadline = time.monotonic() + 30
        while state.work.pending < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert state.work.pending == 3
        refused = client.post("/recommend", files=files)
        blocking.release.set()
        assert [f.result(timeout=60).status_code for f in futures] == [200, 200, 200]
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "overloaded"
    assert refused.json()["status"] == "error", "DyLuMo's keys on DyLuMo's route"


# --------------------------------------------------------------------------- admin


def test_admin_token_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every comparison of a presented credential goes through hmac.compare_digest."""
    calls: list[tuple[bytes, bytes]] = []
    real = admin.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(admin.hmac, "compare_digest", spy)
    from starlette.requests import Request

    from tunelens.core.settings import Settings

    class State:
        settings = Settings(_env_file=None, admin_token="s3cret-admin-token")

    def request(headers: dict[str, str]) -> Request:
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        return Request({"type": "http", "headers": raw, "method": "GET", "path": "/"})

    state: Any = State()
    assert admin.access(request({"Authorization": "Bearer nope"}), state) is admin.Access.WRONG
    assert admin.access(request({"Authorization": "Bearer s3cret-admin-token"}), state) is (
        admin.Access.OK
    )
    cookie = admin.session_value("s3cret-admin-token")
    assert admin.access(request({"Cookie": f"tunelens_admin={cookie}"}), state) is admin.Access.OK
    assert len(calls) == 3


def test_admin_routes_need_the_token(make_client: AppFactory) -> None:
    client = make_client(admin_token="a-long-admin-token-for-tests")
    assert assert_documented_error(client.get("/api/v1/admin/stats")) == "admin_token_required"
    wrong = client.get("/api/v1/admin/stats", headers={"Authorization": "Bearer wrong"})
    assert assert_documented_error(wrong) == "admin_token_invalid"
    ok = client.get(
        "/api/v1/admin/stats", headers={"Authorization": "Bearer a-long-admin-token-for-tests"}
    )
    assert ok.status_code == 200
    assert "a-long-admin-token-for-tests" not in ok.text
    off = make_client()
    assert assert_documented_error(off.get("/api/v1/admin/stats")) == "admin_disabled"


# --------------------------------------------------------------------------- CORS


def test_cors_is_off_by_default(make_client: AppFactory) -> None:
    client = make_client()
    answer = client.get("/api/v1/vocab/emotions", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in answer.headers
    preflight = client.options(
        "/api/v1/recommend",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_allows_exactly_the_configured_origins(make_client: AppFactory) -> None:
    client = make_client(web={"cors_origins": "https://app.example, https://b.example/"})
    good = client.get("/api/v1/vocab/emotions", headers={"Origin": "https://b.example"})
    assert good.headers["access-control-allow-origin"] == "https://b.example"
    assert "X-Request-ID" in good.headers["access-control-expose-headers"]
    assert "access-control-allow-credentials" not in good.headers
    bad = client.get("/api/v1/vocab/emotions", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in bad.headers
    preflight = client.options(
        "/api/v1/recommend",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-client-id",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"


# --------------------------------------------------------------------------- headers


def _directives(policy: str) -> dict[str, str]:
    out = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        out[name] = value
    return out


def test_page_csp_allows_exactly_the_players_it_embeds(make_client: AppFactory) -> None:
    page = make_client().get("/")
    policy = _directives(page.headers["Content-Security-Policy"])
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'", "no inline or remote script"
    assert set(policy["frame-src"].split()) == {
        "https://open.spotify.com",
        "https://www.youtube-nocookie.com",
    }
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'self'"
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert page.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "camera=()" in page.headers["Permissions-Policy"]
    # the page itself loads nothing from another origin
    assert 'src="http' not in page.text and 'href="http' not in page.text.split("<body")[0]


@pytest.mark.parametrize(
    "path", ["/health", "/api/v1/vocab/emotions", "/nope", "/static/favicon.svg"]
)
def test_api_answers_and_files_can_run_nothing(make_client: AppFactory, path: str) -> None:
    answer = make_client().get(path)
    assert answer.headers["Content-Security-Policy"] == API_CSP
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_docs_policy_hashes_its_inline_script(make_client: AppFactory) -> None:
    import base64
    import hashlib
    import re

    docs = make_client().get("/docs")
    policy = docs.headers["Content-Security-Policy"]
    inline = re.findall(r"<script>(.*?)</script>", docs.text, re.DOTALL)
    assert inline, "FastAPI's docs page has an inline script"
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    # Swagger UI from this server ('self'); ReDoc's viewer still from its CDN
    assert "script-src 'self' https://cdn.jsdelivr.net 'sha256-" in policy
    assert "'unsafe-inline'" not in _directives(policy)["script-src"]
    assert docs_policy(b"<script src='x.js'></script>").count("sha256") == 0


def test_admin_page_keeps_its_own_headers(make_client: AppFactory) -> None:
    page = make_client(admin_token="a-long-admin-token-for-tests").get(
        "/admin", headers={"Accept": "text/html"}
    )
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors" in page.headers["Content-Security-Policy"]


def test_json_routes_refuse_cross_site_simple_requests(make_client: AppFactory) -> None:
    """A cross-site form or no-preflight fetch can only send text/plain or form bodies; the
    JSON routes must not read those as JSON (that would make them CSRF-able)."""
    client = make_client()
    body = b'{"track_id": "6f807x0ima9a1j3VPbc7VN", "kind": "like"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        answer = client.post(
            "/api/v1/feedback", content=body, headers={"content-type": content_type}
        )
        assert assert_documented_error(answer) == "invalid_request", content_type
