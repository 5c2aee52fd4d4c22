"""The dispatcher: sends the messages that are due through the SMS provider, keeps quiet
hours and opt-outs, and retries failures later."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog

from infra.projection import OUTAGES
from services.notifications.adapters import messages
from services.notifications.adapters.messages import DueSms
from services.notifications.adapters.sms import RejectedByGateway, SmsProvider
from services.notifications.domain.sending import Drop, Hold, decide

log = structlog.get_logger()


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Dispatcher:
    """Sends each message with no database transaction open: a short transaction claims a
    batch (status `sending`, a lease), the provider is called, another short transaction
    records the outcome with its `sms.*` event.

    The guarantee, stated honestly: at most one SMS per idempotency key *reaches the
    citizen*, provided the gateway deduplicates on the key (the local outbox does; the HTTP
    gateway gets it as `Idempotency-Key` and `reference`). The gateway may be *called* more
    than once for a key: when a dispatcher dies between the gateway's answer and the record
    (or the answer is lost), the claim lapses after `lease` and the message is sent again
    under the same key. No message is lost: an unrecorded claim always comes back. What is
    due is read from the database on every round, so the schedule survives restarts;
    `clock` says what time it is (leases run on database time)."""

    pool: asyncpg.Pool
    provider: SmsProvider
    batch: int = 50
    interval: float = 0.5
    concurrency: int = 10
    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=30)
    reply_window: timedelta = timedelta(minutes=30)
    clock: Callable[[], datetime] = field(default=utc_now)
    # Told each send's outcome ("sent", "retry", "failed": given up): the service counts.
    outcome: Callable[[str], None] = field(default=lambda outcome: None)

    def retry_in(self, attempts_so_far: int) -> timedelta | None:
        """Delay before the next try after a failure; None once the attempts are used up."""
        attempts = attempts_so_far + 1
        if attempts >= self.max_attempts:
            return None
        return self.retry_base * 2 ** (attempts - 1)

    async def dispatch_due(self) -> int:
        """Settles one batch of due messages; returns how many were sent."""
        now = self.clock()
        claim_id = uuid.uuid4()
        claimed = await self.claim(now, claim_id)
        slots = asyncio.Semaphore(self.concurrency)
        by_booking: dict[uuid.UUID, list[DueSms]] = defaultdict(list)
        for due in claimed:
            by_booking[due.sms.booking_id].append(due)

        async def send_in_order(group: list[DueSms]) -> int:
            """One citizen's messages one after the other, as they were due: a notice of a
            moved time never overtakes the confirmation."""
            async with slots:
                return sum([await self.send(due, claim_id, now) for due in group])

        return sum(await asyncio.gather(*(send_in_order(g) for g in by_booking.values())))

    async def claim(self, now: datetime, claim_id: uuid.UUID) -> list[DueSms]:
        """In one short transaction: holds back, drops or suppresses what must not go now,
        and claims the rest for `claim_id`."""
        to_send: list[DueSms] = []
        async with self.pool.acquire() as connection, connection.transaction():
            for due in await messages.lock_due(connection, now, self.batch):
                sms = due.sms
                if due.opted_out and not sms.kind.ignores_opt_out:
                    log.info("sms.opted_out", key=sms.idempotency_key)
                    await messages.settle_unsent(connection, sms.idempotency_key, "opted_out")
                    continue
                decision = decide(now, sms.kind, sms.due_at, sms.appointment_at, self.reply_window)
                if isinstance(decision, Hold):
                    await messages.hold(connection, sms.idempotency_key, decision.until)
                elif isinstance(decision, Drop):
                    log.info("sms.dropped", key=sms.idempotency_key, reason=decision.reason)
                    await messages.settle_unsent(connection, sms.idempotency_key, "dropped")
                else:
                    to_send.append(due)
            keys = [due.sms.idempotency_key for due in to_send]
            await messages.claim(connection, keys, claim_id, self.lease)
        return to_send

    async def send(self, due: DueSms, claim_id: uuid.UUID, now: datetime) -> bool:
        """Sends one claimed message and records the outcome; True if it was sent."""
        key = due.sms.idempotency_key
        try:
            provider_message_id = await self.provider.send(due.sms)
        except Exception as error:  # any provider failure is this message's failure
            rejected = isinstance(error, RejectedByGateway)
            retry_in = None if rejected else self.retry_in(due.attempts)
            log.warning("sms.send_failed", key=key, error=str(error), gave_up=retry_in is None)
            self.outcome("retry" if retry_in is not None else "failed")
            async with self.pool.acquire() as connection, connection.transaction():
                await messages.record_failure(
                    connection,
                    key,
                    claim_id,
                    f"{type(error).__name__}: {error}",
                    now,
                    None if retry_in is None else now + retry_in,
                )
            return False
        async with self.pool.acquire() as connection, connection.transaction():
            sent = await messages.mark_sent(connection, key, claim_id, now, provider_message_id)
        if sent:
            self.outcome("sent")
        return sent

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatches until `stop` is set; a full batch is followed at once by the next."""
        log.info("sms.dispatcher_started", provider=type(self.provider).__name__)
        while not stop.is_set():
            try:
                if await self.dispatch_due() >= self.batch:
                    continue
            except OUTAGES as error:  # waited out; unrecorded claims lapse and come back
                log.warning("sms.dispatch_outage", error=str(error))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
