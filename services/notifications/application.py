"""The dispatcher: sends the messages that are due through the SMS provider, keeps quiet
hours, and retries failures later."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog

from infra.projection import OUTAGES
from services.notifications.adapters import messages
from services.notifications.adapters.sms import RejectedByGateway, SmsProvider
from services.notifications.domain.sending import Drop, Hold, decide

log = structlog.get_logger()


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Dispatcher:
    """At most one SMS per idempotency key: a message is locked by one dispatcher while it is
    sent, and if the process dies between sending and marking it sent, the retry carries the
    same key, which the provider deduplicates. What is due is read from the database on every
    round, so the schedule survives restarts; `clock` says what time it is."""

    pool: asyncpg.Pool
    provider: SmsProvider
    batch: int = 50
    interval: float = 0.5
    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=30)
    reply_window: timedelta = timedelta(minutes=30)
    clock: Callable[[], datetime] = field(default=utc_now)

    def retry_in(self, attempts_so_far: int) -> timedelta | None:
        """Delay before the next try after a failure; None once the attempts are used up."""
        attempts = attempts_so_far + 1
        if attempts >= self.max_attempts:
            return None
        return self.retry_base * 2 ** (attempts - 1)

    async def dispatch_due(self) -> int:
        """Settles one batch of due messages; returns how many were sent."""
        sent = 0
        now = self.clock()
        async with self.pool.acquire() as connection, connection.transaction():
            for due in await messages.claim_due(connection, now, self.batch):
                sms = due.sms
                key = sms.idempotency_key
                decision = decide(now, sms.kind, sms.due_at, sms.appointment_at, self.reply_window)
                if isinstance(decision, Hold):
                    await messages.hold(connection, key, decision.until)
                    continue
                if isinstance(decision, Drop):
                    log.info("sms.dropped", key=key, reason=decision.reason)
                    await messages.drop(connection, key)
                    continue
                try:
                    await self.provider.send(sms)
                except Exception as error:  # any provider failure is this message's failure
                    retry_in = (
                        None
                        if isinstance(error, RejectedByGateway)
                        else (self.retry_in(due.attempts))
                    )
                    log.warning("sms.send_failed", key=key, error=str(error), gave_up=not retry_in)
                    await messages.record_failure(
                        connection,
                        key,
                        f"{type(error).__name__}: {error}",
                        None if retry_in is None else now + retry_in,
                    )
                else:
                    await messages.mark_sent(connection, key, now)
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
