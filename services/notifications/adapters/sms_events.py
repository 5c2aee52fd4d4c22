"""The service's own events (`sms.*`): written to `sms_event_outbox` in the transaction that
changes a message, and relayed from there onto JetStream.

Guarantees of the relay: every event recorded is published (a row is marked published only
after JetStream acknowledged it), in the order recorded, with its stable `event_id` as
Nats-Msg-Id; after a crash between the ack and the mark the event is published again with the
same id, which the stream's duplicate window drops (consumers are idempotent beyond it). One
relay publishes at a time: it holds a PostgreSQL advisory lock while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from nats.js import JetStreamContext

from events import Envelope, EventData, encode
from events.sms import SMS_NAMESPACE, message_id
from infra.health import Lag
from infra.leadership import SMS_RELAY_LOCK, Lease, lead

log = structlog.get_logger()


async def append(
    connection: asyncpg.Connection,
    municipality: str,
    idempotency_key: str,
    version: int,
    data: EventData,
    at: datetime,
) -> None:
    """Records event number `version` of the message `idempotency_key`; its id is derived
    from both, so the same change always has the same id."""
    envelope = Envelope[Any](
        event_id=uuid.uuid5(SMS_NAMESPACE, f"{idempotency_key}#{version}"),
        type=data.TYPE,
        schema_version=data.VERSION,
        municipality=municipality,
        aggregate_id=message_id(idempotency_key),
        aggregate_version=version,
        occurred_at=at,
        data=data,
    )
    await connection.execute(
        "INSERT INTO sms_event_outbox (event_id, subject, payload) VALUES ($1, $2, $3) "
        "ON CONFLICT (event_id) DO NOTHING",
        envelope.event_id,
        envelope.subject,
        encode(envelope),
    )


@dataclass
class SmsEventRelay:
    pool: asyncpg.Pool
    js: JetStreamContext
    batch: int = 200
    interval: float = 0.2
    name: str = "sms"

    async def lag(self) -> Lag:
        """The events recorded and not yet on the stream, and the age of the oldest."""
        row = await self.pool.fetchrow(
            "SELECT count(*) AS events, extract(epoch FROM now() - min(created_at)) AS seconds "
            "FROM sms_event_outbox WHERE published_at IS NULL"
        )
        return Lag(int(row["events"]), max(0.0, float(row["seconds"] or 0)))

    async def run(self, stop: asyncio.Event) -> None:
        await lead(
            self.pool,
            SMS_RELAY_LOCK,
            stop,
            lambda lock: self._run_leading(stop, lock),
            name="relay:sms",
        )

    async def _run_leading(self, stop: asyncio.Event, lock: Lease) -> None:
        while not stop.is_set() and not lock.is_closed():
            try:
                if await self.relay_once() >= self.batch:
                    continue
            except Exception as error:  # an outage or a refused publish: the rows stay, retried
                log.warning("sms_events.relay_failed", error=str(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)

    async def relay_once(self) -> int:
        """Publishes the oldest unpublished events; returns how many went onto the stream."""
        rows = await self.pool.fetch(
            "SELECT id, event_id, subject, payload FROM sms_event_outbox "
            "WHERE published_at IS NULL ORDER BY id LIMIT $1",
            self.batch,
        )
        # Sent in order on one connection, acknowledged concurrently; only the acknowledged
        # prefix is marked, the rest is published again (same ids) on the next round.
        results = await asyncio.gather(
            *(
                self.js.publish(
                    row["subject"],
                    bytes(row["payload"]),
                    headers={"Nats-Msg-Id": str(row["event_id"])},
                    timeout=5,
                )
                for row in rows
            ),
            return_exceptions=True,
        )
        acknowledged = []
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("sms_events.publish_failed", error=str(result))
                break
            acknowledged.append(row["id"])
        await self.pool.execute(
            "UPDATE sms_event_outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
            acknowledged,
        )
        return len(acknowledged)
