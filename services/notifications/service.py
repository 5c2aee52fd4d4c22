"""The composition root of the notifications service: settings, pool, provider, projection,
dispatcher."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg
import nats.aio.client
from fastapi import APIRouter
from nats.js import JetStreamContext
from prometheus_client import Counter

from infra.database import apply_schema, create_pool
from infra.health import Reading, ServiceHealth
from infra.metrics import NAMESPACE
from infra.projection import ProjectionRunner
from infra.transient import Worker, keep_all_running
from services.notifications.adapters.http_gateway import HttpGatewayProvider
from services.notifications.adapters.sms import OutboxProvider, SmsProvider
from services.notifications.adapters.sms_events import SmsEventRelay
from services.notifications.application import Dispatcher, utc_now
from services.notifications.entrypoints.http import notifications_router
from services.notifications.entrypoints.projection import NotificationsProjection
from services.notifications.settings import NotificationsSettings

PROVIDERS = ("outbox", "http")
SEND_OUTCOMES = ("sent", "retry", "failed")


def sms_counter() -> Counter:
    """SMS sends by outcome; in no registry until the process's (infra/health.py) takes it."""
    counter = Counter(
        f"{NAMESPACE}_sms_sends",
        "SMS handed to the provider by outcome (retry: to be tried again; failed: given up)",
        ["outcome"],
        registry=None,
    )
    for outcome in SEND_OUTCOMES:
        counter.labels(outcome)
    return counter


async def queued(pool: asyncpg.Pool) -> int:
    """Messages waiting to go out or being sent now."""
    waiting = "SELECT count(*) FROM sms_message WHERE status IN ('pending', 'sending')"
    return int(await pool.fetchval(waiting))


def provider_for(settings: NotificationsSettings, pool: asyncpg.Pool) -> SmsProvider:
    """The provider `settings.sms_provider` names."""
    if settings.sms_provider == "outbox":
        return OutboxProvider(pool)
    if settings.sms_provider == "http":
        if not settings.sms_gateway_url or settings.sms_gateway_token is None:
            raise ValueError("SMS_PROVIDER=http needs SMS_GATEWAY_URL and SMS_GATEWAY_TOKEN")
        return HttpGatewayProvider(
            url=settings.sms_gateway_url,
            token=settings.sms_gateway_token.get_secret_value(),
            timeout=settings.sms_gateway_timeout_seconds,
        )
    raise ValueError(f"unknown SMS provider {settings.sms_provider!r}; known: {PROVIDERS}")


@dataclass
class NotificationsService:
    settings: NotificationsSettings
    pool: asyncpg.Pool
    js: JetStreamContext
    provider: SmsProvider
    clock: Callable[[], datetime] = utc_now
    nc: nats.aio.client.Client | None = None
    sends: Counter = field(default_factory=sms_counter)

    @classmethod
    async def start(
        cls,
        settings: NotificationsSettings,
        nc: nats.aio.client.Client,
        *,
        provider: SmsProvider | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> NotificationsService:
        """Connects to PostgreSQL and applies this service's schema. The events stream must
        exist already (declared by infra.streams); the service only binds to it. `provider`
        replaces the one the settings name (tests); `clock` decides what is due."""
        pool = await create_pool(settings.database_url, max_size=settings.database_pool_size)
        try:
            await apply_schema(pool, "platform", "notifications", "personal_data")
            chosen = provider or provider_for(settings, pool)
        except BaseException:
            await pool.close()
            raise
        return cls(settings, pool, nc.jetstream(), chosen, clock, nc)

    def projection(self) -> NotificationsProjection:
        return NotificationsProjection(
            links=self.settings.links(),
            reminder_lead=self.settings.reminder_lead,
            survey_periods=self.settings.survey_periods_of,
            master_key=self.settings.personal_data_master_key(),
        )

    def dispatcher(self) -> Dispatcher:
        return Dispatcher(
            pool=self.pool,
            provider=self.provider,
            batch=self.settings.dispatch_batch,
            interval=self.settings.dispatch_interval_seconds,
            concurrency=self.settings.dispatch_concurrency,
            lease=timedelta(seconds=self.settings.sms_lease_seconds),
            max_attempts=self.settings.sms_max_attempts,
            retry_base=timedelta(seconds=self.settings.sms_retry_seconds),
            reply_window=timedelta(minutes=self.settings.reply_window_minutes),
            clock=self.clock,
            outcome=lambda outcome: self.sends.labels(outcome).inc(),
        )

    def event_relay(self) -> SmsEventRelay:
        return SmsEventRelay(
            self.pool, self.js, interval=self.settings.sms_event_relay_interval_seconds
        )

    def router(self) -> APIRouter:
        """Delivery receipts and opt-outs."""
        secret = self.settings.sms_callback_secret
        return notifications_router(
            self.pool,
            None if secret is None else secret.get_secret_value(),
            self.settings.staff_token_keys(),
            self.settings.staff_token_max_lifetime,
        )

    def runner(self) -> ProjectionRunner:
        return ProjectionRunner(self.projection(), self.js, self.pool)

    def health(self) -> ServiceHealth:
        """What /readyz checks and /metrics shows of this service."""
        return ServiceHealth(
            "notifications",
            self.pool,
            self.nc,
            relays=[self.event_relay()],
            projections=[self.runner()],
            readings=[
                Reading(
                    f"{NAMESPACE}_sms_queued",
                    "SMS waiting to be sent or being sent",
                    lambda: queued(self.pool),
                )
            ],
            collectors=[self.sends],
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Projects booking events into messages, sends them when due and puts its own
        events on the bus, until `stop` is set."""
        workers: dict[str, Callable[[], Worker]] = {
            "projection": self.runner,
            "dispatcher": self.dispatcher,
            "sms-events": self.event_relay,
        }
        await keep_all_running("notifications", workers, stop)  # one failing stops no other

    async def close(self) -> None:
        if isinstance(self.provider, HttpGatewayProvider):
            await self.provider.aclose()
        await self.pool.close()
