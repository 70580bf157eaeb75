"""Prometheus metrics: requests by route and status, latency per request and per engine stage.

Two kinds of figures, kept apart on purpose:

* **Event metrics** (counters and histograms) are process-wide objects in :data:`REGISTRY`:
  ``tunelens_http_requests_total{method,route,status}``,
  ``tunelens_http_request_duration_seconds{method,route}`` and
  ``tunelens_stage_duration_seconds{stage}`` (decode, encode, faces, rank, explain, heatmap —
  one observation per picture, fed by the engine's stage hook). ``route`` is the route's
  template (``/api/v1/tracks/{track_id}``), never the raw path, so a scanner probing random
  URLs cannot blow up the number of series; requests no route matches count as ``unmatched``.
  With several workers, ``tunelens serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh
  directory and prometheus_client's multiprocess mode sums every worker's values, so a scrape
  that lands on any worker reports the whole server.
* **State metrics** are read at scrape time by :class:`ServiceCollector`: which model and how
  many songs are loaded, whether the database answers, and feedback counts straight from the
  database (the truth shared by every worker and instance, and kept across restarts).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tunelens import __version__

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


@dataclass
class ServiceFacts:
    """What the app holds right now, gathered by the ``/metrics`` route before rendering."""

    engine_loaded: bool
    encoder: str | None = None
    model_id: str | None = None
    pretrained: bool | None = None
    fallback: bool | None = None
    catalogue_tracks: int | None = None
    load_seconds: float | None = None
    database_up: bool | None = None
    predictions_recorded: int | None = None
    feedback: Mapping[str, int] | None = None


class ServiceCollector(Collector):
    """State metrics for one scrape (see the module docstring)."""

    def __init__(self, facts: ServiceFacts) -> None:
        self.facts = facts

    def collect(self) -> Iterable[Metric]:
        facts = self.facts
        build = GaugeMetricFamily(
            "tunelens_build_info", "tunelens version (always 1).", labels=["version"]
        )
        build.add_metric([__version__], 1)
        yield build
        yield GaugeMetricFamily(
            "tunelens_engine_loaded",
            "1 when the models and the catalogue are loaded, else 0.",
            value=1 if facts.engine_loaded else 0,
        )
        if facts.engine_loaded:
            model = GaugeMetricFamily(
                "tunelens_model_info",
                "The picture encoder in use (always 1).",
                labels=["encoder", "model_id", "pretrained", "fallback"],
            )
            model.add_metric(
                [
                    facts.encoder or "",
                    facts.model_id or "",
                    str(bool(facts.pretrained)).lower(),
                    str(bool(facts.fallback)).lower(),
                ],
                1,
            )
            yield model
            yield GaugeMetricFamily(
                "tunelens_catalogue_tracks",
                "Songs in the loaded catalogue.",
                value=facts.catalogue_tracks or 0,
            )
            if facts.load_seconds is not None:
                yield GaugeMetricFamily(
                    "tunelens_engine_load_seconds",
                    "Seconds this worker took to load its models and catalogue.",
                    value=facts.load_seconds,
                )
        if facts.database_up is not None:
            yield GaugeMetricFamily(
                "tunelens_database_up",
                "1 when the predictions/feedback database is open, else 0.",
                value=1 if facts.database_up else 0,
            )
        if facts.predictions_recorded is not None:
            yield CounterMetricFamily(
                "tunelens_predictions_recorded",
                "Answers recorded in the database (all workers and instances).",
                value=facts.predictions_recorded,
            )
        if facts.feedback is not None:
            feedback = CounterMetricFamily(
                "tunelens_feedback",
                "Feedback recorded in the database, by kind (all workers and instances).",
                labels=["kind"],
            )
            for kind, count in sorted(facts.feedback.items()):
                feedback.add_metric([kind], count)
            yield feedback


class _Forward(Collector):
    """Another registry's metrics, inside a per-scrape registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


def scrape_registry(facts: ServiceFacts) -> CollectorRegistry:
    """The registry one ``/metrics`` answer is rendered from."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir() is not None:
        # every worker's counters and histograms, summed
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward(REGISTRY))
        ProcessCollector(registry=registry)  # this process's CPU, memory, open files
    registry.register(ServiceCollector(facts))
    return registry


def facts_from(
    state: Any, feedback: Mapping[str, Any] | None, database_up: bool | None
) -> ServiceFacts:
    """Gather :class:`ServiceFacts` from the app's ServiceState and the database figures."""
    facts = ServiceFacts(
        engine_loaded=state.engine is not None,
        database_up=database_up,
        predictions_recorded=(
            int(feedback["predictions_recorded"]) if feedback is not None else None
        ),
        feedback=dict(feedback["feedback"]) if feedback is not None else None,
    )
    engine = state.engine
    if engine is not None:
        facts.encoder = engine.info.name
        facts.model_id = engine.info.model_id
        facts.pretrained = engine.info.pretrained
        facts.fallback = engine.info.fallback
        facts.catalogue_tracks = len(engine.recommender.tracks)
        facts.load_seconds = state.load_seconds
    return facts
