"""Prometheus state metrics, read at scrape time: which model and how many songs are loaded,
whether the database answers, and feedback counts straight from the database (the truth shared
by every worker and instance, and kept across restarts).

The event metrics (requests, latencies, stages) are counted as they happen by
:mod:`tunelens.web.middleware.metrics`; :func:`scrape_registry` puts both into the registry one
``/metrics`` answer is rendered from.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from tunelens import __version__
from tunelens.web.middleware.metrics import REGISTRY, multiprocess_dir
from tunelens.web.services.state import ServiceState


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
    state: ServiceState, feedback: Mapping[str, Any] | None, database_up: bool | None
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
        facts.catalogue_tracks = engine.catalogue_size
        facts.load_seconds = state.load_seconds
    return facts
