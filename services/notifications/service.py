"""The composition root of the notifications service: settings, pool, projection, dispatcher."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import nats.aio.client
from nats.js import JetStreamContext

from infra.database import apply_schema, create_pool
from infra.projection import ProjectionRunner
from services.notifications.adapters.sms import SmsProvider, provider_named
from services.notifications.application import Dispatcher
from services.notifications.entrypoints.projection import NotificationsProjection
from services.notifications.settings import NotificationsSettings


@dataclass
class NotificationsService:
    settings: NotificationsSettings
    pool: asyncpg.Pool
    js: JetStreamContext
    provider: SmsProvider | None = None  # None: the one `settings.sms_provider` names

    @classmethod
    async def start(
        cls,
        settings: NotificationsSettings,
        nc: nats.aio.client.Client,
        *,
        provider: SmsProvider | None = None,
    ) -> NotificationsService:
        """Connects to PostgreSQL and applies this service's schema. The events stream must
        exist already (declared by infra.streams); the service only binds to it."""
        pool = await create_pool(settings.database_url)
        try:
            await apply_schema(pool, "platform", "notifications")
        except BaseException:
            await pool.close()
            raise
        return cls(settings=settings, pool=pool, js=nc.jetstream(), provider=provider)

    def projection(self) -> NotificationsProjection:
        return NotificationsProjection(manage_base_url=self.settings.manage_base_url)

    def dispatcher(self) -> Dispatcher:
        return Dispatcher(
            pool=self.pool,
            provider=self.provider or provider_named(self.settings.sms_provider, self.pool),
            batch=self.settings.dispatch_batch,
            interval=self.settings.dispatch_interval_seconds,
            max_attempts=self.settings.sms_max_attempts,
            retry_base=timedelta(seconds=self.settings.sms_retry_seconds),
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Projects booking events into messages and sends them, until `stop` is set."""
        runner = ProjectionRunner(self.projection(), self.js, self.pool)
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(runner.run(stop))
            tasks.create_task(self.dispatcher().run(stop))

    async def close(self) -> None:
        await self.pool.close()
