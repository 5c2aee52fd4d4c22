"""What a process tells an operator: `/livez` (its event loop answers), `/readyz` (PostgreSQL
and NATS reachable, no relay or projection behind by more than READY_MAX_LAG_SECONDS, else
503 with the reasons) and `/metrics` (Prometheus text).

Each service describes itself once (`ServiceHealth`); the checks run at most once a second
(`cache_seconds`), however many probes and scrapers ask, each bounded by `timeout`, so a
scrape storm never hammers the database and a dependency that hangs never hangs the probe."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import asyncpg
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from nats.aio.client import Client as NatsClient
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.registry import Collector

from infra.metrics import NAMESPACE, Sample, Sampled, registry_of_process, request_latency
from infra.streams import DEADLETTER_STREAM, deadletter_subject

T = TypeVar("T")
_Found = tuple[list[str], list["Sample"]]  # a check's reasons not to be ready, and its samples
_POOL_IN_USE = f"{NAMESPACE}_db_pool_connections_in_use"
_POOL_OPEN = f"{NAMESPACE}_db_pool_connections"
_POOL_MAX = f"{NAMESPACE}_db_pool_max_connections"


@dataclass(frozen=True)
class Lag:
    """How far a relay or a projection is behind what it follows."""

    events: int
    seconds: float


class Lagging(Protocol):
    """A relay or a projection that can say how far behind it is (from the database and the
    stream, so any instance can tell, the leader or one standing by)."""

    @property
    def name(self) -> str: ...

    async def lag(self) -> Lag: ...


@dataclass(frozen=True)
class Reading:
    """A value read at each scrape (e.g. parked events): a gauge of `/metrics`."""

    name: str
    documentation: str
    read: Callable[[], Awaitable[float]]
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceHealth:
    service: str
    pool: asyncpg.Pool | None = None
    nc: NatsClient | None = None
    relays: Sequence[Lagging] = ()
    projections: Sequence[Lagging] = ()
    readings: Sequence[Reading] = ()
    collectors: Sequence[Collector] = ()  # the service's own counters (bookings, SMS)


@dataclass
class _Checked:
    reasons: list[str]
    samples: list[Sample]


class Operations:
    """The health and metrics of the services of one process, behind one HTTP app."""

    def __init__(
        self,
        services: Sequence[ServiceHealth] = (),
        max_lag_seconds: float = 30.0,
        timeout: float = 1.0,
        cache_seconds: float = 1.0,
    ) -> None:
        self.services, self.max_lag_seconds = list(services), max_lag_seconds
        self.timeout, self.cache_seconds = timeout, cache_seconds
        self.registry: CollectorRegistry = registry_of_process()
        self.latency = request_latency(self.registry)
        self._sampled = Sampled()
        self.registry.register(self._sampled)
        for service in self.services:
            for collector in service.collectors:
                self.registry.register(collector)
        self._checked: _Checked | None = None
        self._checked_at = 0.0
        self._lock = asyncio.Lock()

    async def check(self) -> _Checked:
        """The last check if younger than `cache_seconds`, else a new one (one at a time)."""
        async with self._lock:
            if self._checked is None or time.monotonic() - self._checked_at > self.cache_seconds:
                self._checked = await self._check_now()
                self._checked_at = time.monotonic()
            return self._checked

    async def _check_now(self) -> _Checked:
        reasons: list[str] = []
        samples: list[Sample] = []
        buses = {id(s.nc): s.nc for s in self.services if s.nc is not None}
        for nc in buses.values():
            if not nc.is_connected:
                reasons.append("nats: disconnected from the bus (reconnecting)")
        results = await asyncio.gather(*(self._check_service(s) for s in self.services))
        for service_reasons, service_samples in results:
            reasons += service_reasons
            samples += service_samples
        samples += await self._dead_letters(next(iter(buses.values()), None))
        samples.append(Sample(f"{NAMESPACE}_ready", "1 when /readyz answers 200", not reasons))
        return _Checked(reasons, samples)

    async def _within_timeout(self, work: Awaitable[T]) -> T:
        return await asyncio.wait_for(work, self.timeout)

    async def _check_service(self, service: ServiceHealth) -> tuple[list[str], list[Sample]]:
        """The service's pool, relays, projections and readings, all at once."""
        checks = [self._check_pool(service.service, service.pool)] if service.pool else []
        checks += [self._check_lag("relay", relay) for relay in service.relays]
        checks += [self._check_lag("projection", p) for p in service.projections]
        checks += [self._read(reading) for reading in service.readings]
        reasons: list[str] = []
        samples: list[Sample] = []
        for found_reasons, found_samples in await asyncio.gather(*checks):
            reasons += found_reasons
            samples += found_samples
        return reasons, samples

    async def _check_pool(self, service: str, pool: asyncpg.Pool) -> _Found:
        reasons = []
        try:
            await self._within_timeout(pool.fetchval("SELECT 1"))
        except Exception as error:
            reasons.append(f"postgres: {service} cannot reach the database ({_brief(error)})")
        whose = {"service": service}
        return reasons, [
            Sample(_POOL_IN_USE, "Connections lent out", _in_use(pool), whose),
            Sample(_POOL_OPEN, "Connections open", pool.get_size(), whose),
            Sample(_POOL_MAX, "The most the pool opens", pool.get_max_size(), whose),
        ]

    async def _check_lag(self, kind: str, source: Lagging) -> _Found:
        try:
            lag = await self._within_timeout(source.lag())
        except Exception as error:
            return [f"{kind} {source.name}: lag unknown ({_brief(error)})"], []
        labels = {kind: source.name}
        events, seconds = f"{NAMESPACE}_{kind}_lag_events", f"{NAMESPACE}_{kind}_lag_seconds"
        samples = [
            Sample(events, f"Events the {kind} is behind", lag.events, labels),
            Sample(
                seconds, f"Age of the first event the {kind} has not handled", lag.seconds, labels
            ),
        ]
        if lag.seconds <= self.max_lag_seconds:
            return [], samples
        reason = (
            f"{kind} {source.name}: {lag.seconds:.0f} s behind ({lag.events} events; "
            f"READY_MAX_LAG_SECONDS is {self.max_lag_seconds:g})"
        )
        return [reason], samples

    async def _read(self, reading: Reading) -> _Found:
        try:
            value = await self._within_timeout(reading.read())
        except Exception:  # its dependency's own check says why
            return [], []
        return [], [Sample(reading.name, reading.documentation, value, reading.labels)]

    async def _dead_letters(self, nc: NatsClient | None) -> list[Sample]:
        """The messages each consumer dead-lettered, as kept on the dead-letter stream (0 for
        each projection here that has none, so a rate can be taken from the start)."""
        if nc is None or not nc.is_connected:
            return []
        wanted = deadletter_subject(">")
        try:
            info = await self._within_timeout(
                nc.jetstream().stream_info(DEADLETTER_STREAM, subjects_filter=wanted)
            )
        except Exception:  # the bus's own check says why
            return []
        prefix = deadletter_subject("")
        counts = {p.name: 0 for s in self.services for p in s.projections}
        for subject, count in (info.state.subjects or {}).items():
            counts[subject.removeprefix(prefix)] = count
        documentation = f"Messages a consumer could not handle, kept on {DEADLETTER_STREAM}"
        return [
            Sample(f"{NAMESPACE}_dead_letters", documentation, count, {"consumer": consumer})
            for consumer, count in sorted(counts.items())
        ]

    async def ready(self) -> list[str]:
        return (await self.check()).reasons

    async def metrics_text(self) -> bytes:
        self._sampled.show((await self.check()).samples)
        return generate_latest(self.registry)

    def router(self) -> APIRouter:
        router = APIRouter(tags=["operations"])

        @router.get("/livez", include_in_schema=False)
        @router.get("/healthz", include_in_schema=False)  # the earlier name, kept
        async def livez() -> dict[str, str]:
            """The process's event loop answers; nothing else is checked."""
            return {"status": "ok"}

        @router.get("/readyz", include_in_schema=False)
        async def readyz() -> JSONResponse:
            reasons = await self.ready()
            if reasons:
                return JSONResponse({"ready": False, "reasons": reasons}, status_code=503)
            return JSONResponse({"ready": True})

        @router.get("/metrics", include_in_schema=False)
        async def metrics() -> Response:
            return Response(await self.metrics_text(), media_type=CONTENT_TYPE_LATEST)

        return router


def _in_use(pool: asyncpg.Pool) -> int:
    return pool.get_size() - pool.get_idle_size()


def _brief(error: BaseException) -> str:
    """One line: a timeout says so, anything else its type and message, without a traceback."""
    if isinstance(error, TimeoutError):
        return "no answer within the timeout"
    return f"{type(error).__name__}: {error}"[:200]
