"""The dispatcher: sends pending messages through the SMS provider, retrying failures later."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import structlog

from infra.projection import OUTAGES
from services.notifications.adapters import messages
from services.notifications.adapters.sms import SmsProvider

log = structlog.get_logger()


@dataclass
class Dispatcher:
    """At most one SMS per idempotency key: a message is locked by one dispatcher while it is
    sent, and if the process dies between sending and marking it sent, the retry carries the
    same key, which the provider deduplicates."""

    pool: asyncpg.Pool
    provider: SmsProvider
    batch: int = 50
    interval: float = 0.5
    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=30)

    def retry_in(self, attempts_so_far: int) -> timedelta | None:
        """Delay before the next try after a failure; None once the attempts are used up."""
        attempts = attempts_so_far + 1
        if attempts >= self.max_attempts:
            return None
        return self.retry_base * 2 ** (attempts - 1)

    async def dispatch_due(self) -> int:
        """Sends one batch of due messages; returns how many were sent."""
        sent = 0
        async with self.pool.acquire() as connection, connection.transaction():
            for due in await messages.claim_due(connection, self.batch):
                key = due.sms.idempotency_key
                try:
                    await self.provider.send(due.sms)
                except Exception as error:  # any provider failure is this message's failure
                    retry_in = self.retry_in(due.attempts)
                    log.warning("sms.send_failed", key=key, error=str(error), gave_up=not retry_in)
                    await messages.record_failure(
                        connection, key, f"{type(error).__name__}: {error}", retry_in
                    )
                else:
                    await messages.mark_sent(connection, key)
                    sent += 1
        return sent

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatches until `stop` is set; a full batch is followed at once by the next."""
        log.info("sms.dispatcher_started", provider=type(self.provider).__name__)
        while not stop.is_set():
            try:
                if await self.dispatch_due() >= self.batch:
                    continue
            except OUTAGES as error:  # waited out; the messages stay pending
                log.warning("sms.dispatch_outage", error=str(error))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
