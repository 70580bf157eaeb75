"""Prometheus event metrics: requests by route and status, latency per request and per stage.

Two kinds of figures, kept apart on purpose:

* **Event metrics** (this module: counters and histograms) are process-wide objects in
  :data:`REGISTRY`:
  ``tunelens_http_requests_total{method,route,status}``,
  ``tunelens_http_request_duration_seconds{method,route}`` and
  ``tunelens_stage_duration_seconds{stage}`` (decode, encode, faces, rank, explain, heatmap —
  one observation per picture, fed by the engine's stage hook). ``route`` is the route's
  template (``/api/v1/tracks/{track_id}``), never the raw path, so a scanner probing random
  URLs cannot blow up the number of series; requests no route matches count as ``unmatched``.
  With several workers, ``tunelens serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh
  directory and prometheus_client's multiprocess mode sums every worker's values, so a scrape
  that lands on any worker reports the whole server.
* **State metrics** are read at scrape time
  (:class:`tunelens.web.services.metrics_facts.ServiceCollector`): which model and how
  many songs are loaded, whether the database answers, and feedback counts straight from the
  database (the truth shared by every worker and instance, and kept across restarts).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: seconds; request latencies run from a cached page (~1 ms) to a heatmap batch (~10 s)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: seconds; one stage for one picture: rank ≈ 1 ms, CLIP encode ≈ 80 ms, heatmap ≈ 0.2–3 s
STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: the engine's ``timings_ms`` keys → stage label (``read`` is embedding + reading heads)
STAGE_NAMES = {
    "decode": "decode",
    "read": "encode",
    "faces": "faces",
    "rank": "rank",
    "explain": "explain",
    "heatmap": "heatmap",
}
UNMATCHED = "unmatched"
#: request methods kept as labels; anything else counts as "other"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "tunelens_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "tunelens_http_request_duration_seconds",
    "Time from request start to the end of the response, by method and route template.",
    ["method", "route"],
    buckets=REQUEST_BUCKETS,
    registry=REGISTRY,
)
STAGE_SECONDS = Histogram(
    "tunelens_stage_duration_seconds",
    "Time one picture spent in each engine stage (decode, encode, faces, rank, explain, heatmap).",
    ["stage"],
    buckets=STAGE_BUCKETS,
    registry=REGISTRY,
)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def observe_stages(timings_ms: Mapping[str, float]) -> None:
    """The engine's stage hook: one picture's ``timings_ms`` into the stage histogram."""
    for key, ms in timings_ms.items():
        stage = STAGE_NAMES.get(key)
        if stage is not None:
            STAGE_SECONDS.labels(stage=stage).observe(max(0.0, ms) / 1000)


def _leaf_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Routes with their included routers flattened (FastAPI wraps each included router)."""
    for route in routes:
        inner = getattr(getattr(route, "original_router", None), "routes", None)
        if inner is not None:
            yield from _leaf_routes(inner)
        else:
            yield route


def route_template(scope: Scope) -> str:
    """The matched route's path template, or the route that *would* match (for requests
    answered before routing, e.g. a 413 from the body limit or a 429), or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path or "/"
    app = scope.get("app")
    for candidate in _leaf_routes(getattr(app, "routes", ())):
        try:
            match, _ = candidate.matches(dict(scope))
        except Exception:  # a malformed scope must never break the answer
            continue
        candidate_path = getattr(candidate, "path", None)
        if match is Match.FULL and isinstance(candidate_path, str):
            return candidate_path or "/"
    return UNMATCHED


class MetricsMiddleware:
    """Counts every HTTP request and times it, labelled by route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = route_template(scope)
            method = str(scope.get("method", "GET"))
            if method not in KNOWN_METHODS:  # h11 accepts any token: no series per invention
                method = "other"
            REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            REQUEST_SECONDS.labels(method=method, route=route).observe(time.perf_counter() - start)
