"""The dispatcher claims messages in one short transaction, calls the gateway with nothing
locked, and records the outcome in another; a dispatcher that dies between the gateway's
answer and the record leaves a claim that lapses, and the message goes out again under the
same key, which the gateway deduplicates: the citizen gets it once."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg
import pytest

from services.notifications.adapters.sms import OutboxProvider, read_outbox
from services.notifications.application import Dispatcher
from services.notifications.domain.messages import Sms
from tests.integration.test_notifications_dispatcher import add, pending_sms


class ProcessDied(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no `except Exception` catches it."""


@dataclass
class DiesAfterSending:
    """The gateway takes the message; the dispatcher dies before it can record that."""

    outbox: OutboxProvider
    calls: Counter[str] = field(default_factory=Counter)

    async def send(self, message: Sms) -> str | None:
        self.calls[message.idempotency_key] += 1
        await self.outbox.send(message)
        raise ProcessDied


@dataclass
class LooksAtTheRow:
    """While the gateway is called: is the message's row free to lock, and what is its status?"""

    pool: asyncpg.Pool
    seen: list[tuple[str, bool]] = field(default_factory=list)

    async def send(self, message: Sms) -> str | None:
        async with self.pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                "SELECT status FROM sms_message WHERE idempotency_key = $1 FOR UPDATE NOWAIT",
                message.idempotency_key,
            )
            in_transaction = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
            )
        self.seen.append((row["status"], in_transaction == 0))
        return "gw-1"


async def test_the_gateway_is_called_with_nothing_locked_and_no_transaction_open(
    pool: asyncpg.Pool,
) -> None:
    await add(pool, pending_sms())
    gateway = LooksAtTheRow(pool)

    assert await Dispatcher(pool, gateway).dispatch_due() == 1

    assert gateway.seen == [("sending", True)]  # NOWAIT would have raised on a held lock
    row = await pool.fetchrow("SELECT status, provider_message_id, claim_id FROM sms_message")
    assert (row["status"], row["provider_message_id"]) == ("sent", "gw-1")


async def test_a_message_sent_by_a_dispatcher_that_died_before_recording_reaches_the_phone_once(
    pool: asyncpg.Pool,
) -> None:
    sms = pending_sms()
    await add(pool, sms)
    outbox = OutboxProvider(pool)
    dying = DiesAfterSending(outbox)
    lease = timedelta(milliseconds=300)

    with pytest.raises(ProcessDied):
        await Dispatcher(pool, dying, lease=lease).dispatch_due()
    claimed = await pool.fetchval("SELECT status FROM sms_message")
    while_leased = await Dispatcher(pool, outbox, lease=lease).dispatch_due()
    await asyncio.sleep(0.4)
    after_lease = await Dispatcher(pool, outbox, lease=lease).dispatch_due()

    assert (claimed, while_leased, after_lease) == ("sending", 0, 1)
    assert dying.calls == Counter({sms.idempotency_key: 1})
    assert [entry.idempotency_key for entry in await read_outbox(pool)] == [sms.idempotency_key]
    assert await pool.fetchval("SELECT status FROM sms_message") == "sent"
    assert await pool.fetchval("SELECT count(*) FROM sms_event_outbox") == 1  # one sms.sent


@dataclass
class SlowGateway:
    """Answers only when told to: its dispatcher's lease lapses meanwhile."""

    outbox: OutboxProvider
    answer: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, message: Sms) -> str | None:
        await self.outbox.send(message)
        await self.answer.wait()
        return "late-answer"


async def test_a_late_answer_after_the_lease_lapsed_does_not_overwrite_the_new_claims_record(
    pool: asyncpg.Pool,
) -> None:
    await add(pool, pending_sms())
    outbox = OutboxProvider(pool)
    slow = SlowGateway(outbox)
    lease = timedelta(milliseconds=200)

    first = asyncio.create_task(Dispatcher(pool, slow, lease=lease).dispatch_due())
    await asyncio.sleep(0.3)
    second = await Dispatcher(pool, outbox, lease=lease).dispatch_due()
    slow.answer.set()
    first_sent = await first

    assert (first_sent, second) == (0, 1)
    row = await pool.fetchrow("SELECT status, attempts, provider_message_id FROM sms_message")
    assert dict(row) == {
        "status": "sent",
        "attempts": 1,
        "provider_message_id": row["provider_message_id"],
    }
    assert row["provider_message_id"] != "late-answer"
    assert len(await read_outbox(pool)) == 1
