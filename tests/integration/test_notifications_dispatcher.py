"""The SMS dispatcher on real PostgreSQL: each message sent once, failures retried later,
given up after the last attempt."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

from services.notifications.adapters.messages import add_pending
from services.notifications.adapters.sms import FailingProvider, OutboxProvider, read_outbox
from services.notifications.application import Dispatcher
from services.notifications.domain.messages import MessageKind, Sms, message_key


def pending_sms(municipality: str = "hvidovre") -> Sms:
    booking_id = uuid.uuid4()
    return Sms(
        idempotency_key=message_key(booking_id, MessageKind.confirmation, 1),
        municipality=municipality,
        booking_id=booking_id,
        kind=MessageKind.confirmation,
        phone="+4520123456",
        body="Hej. Din tid er bekræftet.",
        booking_version=1,
        due_at=datetime.now(UTC),
        appointment_at=datetime.now(UTC) + timedelta(days=3),
    )


async def add(pool: asyncpg.Pool, *messages: Sms) -> None:
    async with pool.acquire() as connection:
        for sms in messages:
            await add_pending(connection, sms)


@dataclass
class SlowCountingProvider:
    """Sends through the outbox, slowly, counting how often each key reached the gateway."""

    outbox: OutboxProvider
    sends: Counter[str] = field(default_factory=Counter)

    async def send(self, message: Sms) -> None:
        self.sends[message.idempotency_key] += 1
        await asyncio.sleep(0.01)
        await self.outbox.send(message)


@dataclass
class AcceptsThenTimesOut:
    """A gateway that takes the message but whose answer never arrives."""

    outbox: OutboxProvider

    async def send(self, message: Sms) -> None:
        await self.outbox.send(message)
        raise TimeoutError("no answer from the gateway")


async def test_a_send_repeated_after_a_lost_answer_is_not_doubled(pool: asyncpg.Pool) -> None:
    sms = pending_sms()
    await add(pool, sms)
    outbox = OutboxProvider(pool)

    await Dispatcher(pool, AcceptsThenTimesOut(outbox), retry_base=timedelta(0)).dispatch_due()
    assert await pool.fetchval("SELECT status FROM sms_message") == "pending"
    assert await Dispatcher(pool, outbox).dispatch_due() == 1

    assert [entry.idempotency_key for entry in await read_outbox(pool)] == [sms.idempotency_key]
    assert await pool.fetchval("SELECT status FROM sms_message") == "sent"


async def test_the_same_message_recorded_twice_is_pending_once(pool: asyncpg.Pool) -> None:
    sms = pending_sms()
    async with pool.acquire() as connection:
        assert await add_pending(connection, sms) is True
        assert await add_pending(connection, sms) is False

    assert await pool.fetchval("SELECT count(*) FROM sms_message") == 1


async def test_two_dispatchers_at_once_send_each_message_once(pool: asyncpg.Pool) -> None:
    messages = [pending_sms() for _ in range(20)]
    await add(pool, *messages)
    provider = SlowCountingProvider(OutboxProvider(pool))
    first, second = (Dispatcher(pool, provider, batch=5) for _ in range(2))

    while await pool.fetchval("SELECT count(*) FROM sms_message WHERE status = 'pending'"):
        await asyncio.gather(first.dispatch_due(), second.dispatch_due())

    assert provider.sends == Counter({sms.idempotency_key: 1 for sms in messages})
    assert len(await read_outbox(pool)) == 20


async def test_a_failed_message_waits_before_its_next_try(pool: asyncpg.Pool) -> None:
    await add(pool, pending_sms())
    provider = FailingProvider()
    dispatcher = Dispatcher(pool, provider, retry_base=timedelta(hours=1))

    assert await dispatcher.dispatch_due() == 0
    assert await dispatcher.dispatch_due() == 0

    assert provider.calls == 1
    waits = await pool.fetchval("SELECT next_attempt_at - now() FROM sms_message")
    assert timedelta(minutes=59) < waits <= timedelta(hours=1)


async def test_a_message_is_given_up_after_the_last_attempt(pool: asyncpg.Pool) -> None:
    await add(pool, pending_sms())
    provider = FailingProvider("number unreachable")
    dispatcher = Dispatcher(pool, provider, max_attempts=3, retry_base=timedelta(0))

    for _ in range(5):
        await dispatcher.dispatch_due()

    row = await pool.fetchrow("SELECT status, attempts, last_error FROM sms_message")
    assert provider.calls == 3
    assert dict(row) == {
        "status": "failed",
        "attempts": 3,
        "last_error": "SmsGatewayError: number unreachable",
    }


def test_retry_delay_doubles_with_each_failure() -> None:
    dispatcher = Dispatcher(
        pool=None,  # retry_in needs no database
        provider=FailingProvider(),
        max_attempts=4,
        retry_base=timedelta(seconds=30),
    )

    assert [dispatcher.retry_in(n) for n in range(4)] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
        None,
    ]
