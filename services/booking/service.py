"""The booking service's composition root: the application, its HTTP routes and NATS
command handlers, the relay onto JetStream and the availability projection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

import asyncpg
from fastapi import APIRouter
from faststream.nats import NatsBroker
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from prometheus_client import Counter

from infra.database import apply_schema, create_pool
from infra.health import Reading, ServiceHealth
from infra.manage_token import ManageTokens
from infra.metrics import NAMESPACE
from infra.projection import ProjectionRunner
from infra.ratelimit import citizen_rate_limit
from infra.transient import Worker, keep_all_running
from services.booking.adapters.audit import AuditProjection
from services.booking.adapters.availability import AvailabilityProjection
from services.booking.adapters.deadlines import DeadlineRunner, DeadlinesProjection
from services.booking.adapters.erasure import ErasureRunner
from services.booking.adapters.parked_events import ParkedEvents
from services.booking.adapters.relay import Relay
from services.booking.adapters.relay_lag import RelayLag
from services.booking.application import BookingApplication
from services.booking.domain.errors import Conflict, Invalid, NotFound
from services.booking.entrypoints.asyncapi_http import asyncapi_router
from services.booking.entrypoints.audit_http import audit_router
from services.booking.entrypoints.citizen_http import citizen_router
from services.booking.entrypoints.http import booking_router
from services.booking.entrypoints.manage_access import manage_links_router
from services.booking.entrypoints.nats_commands import register_command_handlers
from services.booking.entrypoints.staff_http import staff_router
from services.booking.settings import BookingSettings

ERROR_STATUSES: dict[type[Exception], int] = {NotFound: 404, Conflict: 409, Invalid: 422}
BOOKING_OUTCOMES = ("created", "replayed", "conflict", "rejected", "not_found", "failed")


def booking_counter() -> Counter:
    """Booking commands by outcome, over HTTP and NATS alike; in no registry until the
    process's (infra/health.py) takes it."""
    counter = Counter(
        f"{NAMESPACE}_bookings",
        "Booking commands by outcome (replayed: the same Idempotency-Key again)",
        ["outcome"],
        registry=None,
    )
    for outcome in BOOKING_OUTCOMES:
        counter.labels(outcome)
    return counter


@dataclass
class BookingService:
    settings: BookingSettings
    app: BookingApplication
    pool: asyncpg.Pool
    js: JetStreamContext
    broker: NatsBroker
    tokens: ManageTokens
    nc: NatsClient | None = None
    bookings: Counter = field(default_factory=booking_counter)

    @classmethod
    async def start(cls, settings: BookingSettings, nc: NatsClient) -> BookingService:
        if settings.nats_url is None:
            raise ValueError("BookingService needs settings.nats_url")
        pool = await create_pool(settings.database_url, max_size=settings.database_pool_size)
        await apply_schema(pool, "platform", "availability", "deadlines", "personal_data", "audit")
        app = await asyncio.to_thread(
            BookingApplication,
            settings.eventsourcing_env(),
            hold_ttl=timedelta(minutes=settings.hold_minutes),
            offer_ttl=timedelta(minutes=settings.waitlist_offer_minutes),
        )
        tokens = settings.manage_tokens()
        broker = NatsBroker(settings.nats_url, logger=None)
        register_command_handlers(broker, app, tokens)
        service = cls(settings, app, pool, nc.jetstream(), broker, tokens, nc)
        app.booking_outcome = lambda outcome: service.bookings.labels(outcome).inc()
        return service

    def router(self) -> APIRouter:
        router = APIRouter()
        limit = citizen_rate_limit(self.settings)  # one budget across the citizen routes: 429
        router.include_router(
            booking_router(
                self.app, self.pool, self.tokens, self.settings.availability_horizon_days
            ),
            dependencies=[limit],
        )
        router.include_router(
            citizen_router(
                self.app, self.pool, self.tokens, self.settings.availability_horizon_days
            ),
            dependencies=[limit],
        )
        keys, lifetime = self.settings.staff_token_keys(), self.settings.staff_token_max_lifetime
        router.include_router(staff_router(self.app, keys, lifetime))
        router.include_router(audit_router(self.pool, keys, lifetime))
        router.include_router(manage_links_router(self.app, self.tokens, keys, lifetime))
        router.include_router(asyncapi_router())  # the bus's document, beside its commands
        return router

    def relay(self) -> Relay:
        return Relay(self.app, self.js, self.pool, batch=self.settings.relay_batch)

    def availability(self) -> ProjectionRunner:
        return ProjectionRunner(AvailabilityProjection(), self.js, self.pool)

    def audit(self) -> ProjectionRunner:
        return ProjectionRunner(AuditProjection(), self.js, self.pool)

    def deadlines(self) -> ProjectionRunner:
        return ProjectionRunner(DeadlinesProjection(), self.js, self.pool)

    def deadline_runner(self) -> DeadlineRunner:
        return DeadlineRunner(self.app, self.pool)

    def erasure_runner(self) -> ErasureRunner:
        days = self.settings.erase_after_days
        retention = timedelta(days=days) if days else None
        return ErasureRunner(self.app, self.pool, retention, self.settings.erasure_interval_seconds)

    def health(self) -> ServiceHealth:
        """What /readyz checks and /metrics shows of this service."""
        return ServiceHealth(
            "booking",
            self.pool,
            self.nc,
            relays=[self.relay_lag],
            projections=[self.availability(), self.audit(), self.deadlines()],
            readings=[
                Reading(
                    f"{NAMESPACE}_relay_parked_events",
                    "Events the relay parked (borgerservice relay parked)",
                    ParkedEvents(self.pool).count,
                    {"relay": self.relay_lag.name},
                )
            ],
            collectors=[self.bookings],
        )

    @cached_property
    def relay_lag(self) -> RelayLag:
        return RelayLag(self.app, self.pool)

    async def run(self, stop: asyncio.Event) -> None:
        """Commands over NATS, the relay, the availability projection and the deadlines
        (holds, waitlist offers, acute release) and the erasure of personal data, until `stop`."""
        await self.broker.start()
        workers: dict[str, Callable[[], Worker]] = {
            "relay": self.relay,
            "availability": self.availability,
            "audit": self.audit,
            "deadlines": self.deadlines,
            "deadline-runner": self.deadline_runner,
            "erasure": self.erasure_runner,
        }
        try:  # each worker on its own: one failing never stops the others
            await keep_all_running("booking", workers, stop)
        finally:
            await self.broker.stop()

    async def close(self) -> None:
        self.relay_lag.close()
        await self.pool.close()
        await asyncio.to_thread(self.app.close)
