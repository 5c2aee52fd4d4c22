"""Prometheus metrics of one process: one registry per HTTP app (never prometheus-client's
global default), request latency per route template, and what is read afresh at each scrape.

Why a registry per app: `up` runs every service in one process behind one app, `serve` one
service per process, and the tests and the bench build many apps in one interpreter; metrics
in the global registry would collide when an app is built twice and mix the counts of apps
that have nothing to do with each other. A family is defined once per app: the services'
metrics have names of their own (`borgerservice_bookings_total`, `..._sms_...`), and what
several services share (a pool, a projection) carries a label naming whose it is."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Histogram,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NAMESPACE = "borgerservice"
UNMATCHED = "unmatched"  # a path no route answers (scans, typos): one series, not one per path
# Seconds until the response starts; a booking under load takes 10-100 ms, a report up to 1 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def registry_of_process() -> CollectorRegistry:
    """A registry of its own with the process's memory, CPU, file descriptors and GC."""
    registry = CollectorRegistry()
    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(collector)
    return registry


def request_latency(registry: CollectorRegistry) -> Histogram:
    return Histogram(
        f"{NAMESPACE}_http_request_duration_seconds",
        "Time until the response started, by route template (not raw path), method and status",
        ["route", "method", "status"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )


class RequestLatency:
    """Times every HTTP request to the start of its response (an SSE stream counts until its
    headers go, not for its whole life), labelled by the route's template, e.g.
    `/api/v1/bookings/{booking_id}`: ids never become labels."""

    def __init__(self, app: ASGIApp, histogram: Histogram) -> None:
        self.app, self.histogram = app, histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        timed = False

        def observe(status: int) -> None:
            nonlocal timed
            if not timed:
                timed = True
                route = getattr(scope.get("route"), "path", None) or UNMATCHED
                self.histogram.labels(route, scope["method"], str(status)).observe(
                    time.perf_counter() - started
                )

        async def timing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                observe(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, timing_send)
        finally:
            observe(500)  # no response started: the server answers 500


@dataclass(frozen=True)
class Sample:
    """One value read at a scrape: a gauge `name` with its labels."""

    name: str
    documentation: str
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)


class Sampled(Collector):
    """Shows the samples last read (`show`) as gauge families, one family per name."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []

    def show(self, samples: Iterable[Sample]) -> None:
        self.samples = list(samples)

    def collect(self) -> Iterator[Metric]:
        families: dict[str, GaugeMetricFamily] = {}
        for sample in self.samples:
            family = families.get(sample.name)
            if family is None:
                family = GaugeMetricFamily(
                    sample.name, sample.documentation, labels=list(sample.labels)
                )
                families[sample.name] = family
            family.add_metric(list(sample.labels.values()), sample.value)
        yield from families.values()
