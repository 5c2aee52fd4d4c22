"""The notifications service on a real nats-server and PostgreSQL: a booking event on the
stream becomes exactly one SMS in the outbox, however often it is delivered."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import asyncpg
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from events import Envelope, encode
from events.booking import BookingBooked, Channel
from services.notifications.adapters.sms import (
    FailingProvider,
    OutboxEntry,
    SmsProvider,
    read_outbox,
)
from services.notifications.service import NotificationsService
from services.notifications.settings import NotificationsSettings
from tests.support import eventually, running_in_background

BOOKED_AT = datetime(2025, 5, 2, 9, 0, tzinfo=UTC)


def clock_from(start: datetime) -> Callable[[], datetime]:
    """A clock that reads `start` now and runs at real speed from there."""
    offset = start - datetime.now(UTC)
    return lambda: datetime.now(UTC) + offset


def booked(municipality: str = "slagelse", phone: str = "+4520123456") -> Envelope[BookingBooked]:
    return Envelope[BookingBooked](
        event_id=uuid.uuid4(),
        type=BookingBooked.TYPE,
        schema_version=BookingBooked.VERSION,
        municipality=municipality,
        site="korsoer",
        aggregate_id=uuid.uuid4(),
        aggregate_version=1,
        occurred_at=BOOKED_AT,
        data=BookingBooked(
            service="koerekort",
            service_name="Kørekort",
            site_name="Borgerservice Korsør",
            documents=["gyldigt billedlegitimation", "lægeerklæring"],
            starts_at=datetime(2025, 5, 6, 12, 15, tzinfo=UTC),
            ends_at=datetime(2025, 5, 6, 12, 30, tzinfo=UTC),
            citizen_name="Jens Nielsen",
            phone=phone,
            channel=Channel.phone,
            booked_at=BOOKED_AT,
            acute_reason=None,
        ),
    )


async def publish(js: JetStreamContext, envelope: Envelope[BookingBooked], msg_id: str) -> int:
    ack = await js.publish(envelope.subject, encode(envelope), headers={"Nats-Msg-Id": msg_id})
    return ack.seq


def settings_for(database_url: str) -> NotificationsSettings:
    return NotificationsSettings(
        database_url=database_url,
        dispatch_interval_seconds=0.05,
        sms_retry_seconds=0.1,
        public_base_url="https://tid.slagelse.example",
    )


@asynccontextmanager
async def running(
    database_url: str,
    nc: NatsClient,
    provider: SmsProvider | None = None,
    clock: Callable[[], datetime] | None = None,
) -> AsyncIterator[NotificationsService]:
    """The service running; its clock, unless given, starts a minute after the booking."""
    service = await NotificationsService.start(
        settings_for(database_url),
        nc,
        provider=provider,
        clock=clock or clock_from(BOOKED_AT + timedelta(minutes=1)),
    )
    try:
        async with running_in_background(service):
            yield service
    finally:
        await service.close()


async def outbox_size(pool: asyncpg.Pool, size: int) -> bool:
    return len(await read_outbox(pool)) >= size


async def projected_up_to(pool: asyncpg.Pool, sequence: int) -> bool:
    position = await pool.fetchval(
        "SELECT stream_seq FROM projection_position WHERE projection = 'notifications'"
    )
    return position is not None and position >= sequence


async def test_booking_produces_one_confirmation_sms(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    envelope = booked()
    await publish(js, envelope, str(envelope.event_id))

    async with running(database_url, nc) as service:
        await eventually(lambda: outbox_size(service.pool, 1))
        [sms] = await read_outbox(service.pool)

    assert sms.idempotency_key == f"{envelope.aggregate_id}:confirmation:1"
    assert sms.municipality == "slagelse"
    assert sms.phone == "+4520123456"
    assert "tirsdag den 6. maj 2025 kl. 14.15" in sms.body  # 12:15 UTC in Danish summer time
    assert "Kørekort hos Borgerservice Korsør" in sms.body
    assert "Husk at medbringe: gyldigt billedlegitimation og lægeerklæring." in sms.body
    assert f"https://tid.slagelse.example/manage/{envelope.aggregate_id}?token=" in sms.body


async def test_republished_booking_event_still_gives_one_sms(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    envelope = booked()
    await publish(js, envelope, str(envelope.event_id))
    await publish(js, envelope, "republished-after-outage")  # new stream sequence, same event

    async with running(database_url, nc) as service:
        await eventually(lambda: projected_up_to(service.pool, 2))
        await eventually(lambda: outbox_size(service.pool, 1))

    last = await publish(js, envelope, "republished-after-restart")
    async with running(database_url, nc) as service:
        await eventually(lambda: projected_up_to(service.pool, last))
        messages = await service.pool.fetch(
            "SELECT status FROM sms_message WHERE kind = 'confirmation'"
        )
        outbox = await read_outbox(service.pool)

    assert last == 3
    assert [row["status"] for row in messages] == ["sent"]
    assert [entry.idempotency_key for entry in outbox] == [
        f"{envelope.aggregate_id}:confirmation:1"
    ]


async def test_outbox_shows_one_municipality_only_when_asked(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    slagelse, herning = booked("slagelse", "+4520000001"), booked("herning", "+4520000002")
    for envelope in (slagelse, herning):
        await publish(js, envelope, str(envelope.event_id))

    async with running(database_url, nc) as service:
        await eventually(lambda: outbox_size(service.pool, 2))
        in_herning: list[OutboxEntry] = await read_outbox(service.pool, "herning")

    assert [entry.phone for entry in in_herning] == ["+4520000002"]


async def test_failed_sms_stays_pending_with_its_error_and_is_sent_once_later(
    js: JetStreamContext, nc: NatsClient, database_url: str, pool: asyncpg.Pool
) -> None:
    envelope = booked()
    await publish(js, envelope, str(envelope.event_id))
    gateway_down = FailingProvider("gateway unavailable")

    async def failed_once() -> bool:
        attempts = await pool.fetchval(
            "SELECT attempts FROM sms_message WHERE kind = 'confirmation'"
        )
        return attempts is not None and attempts >= 1

    async with running(database_url, nc, provider=gateway_down):
        await eventually(failed_once)
    failed = await pool.fetchrow("SELECT * FROM sms_message WHERE kind = 'confirmation'")

    assert failed is not None
    assert failed["status"] == "pending"
    assert failed["last_error"] == "SmsGatewayError: gateway unavailable"
    assert failed["sent_at"] is None
    assert gateway_down.calls == failed["attempts"] >= 1
    assert await read_outbox(pool) == []

    async with running(database_url, nc):
        await eventually(lambda: outbox_size(pool, 1))
        await asyncio.sleep(0.3)  # several more dispatch rounds: nothing is sent twice
    sent = await pool.fetchrow("SELECT * FROM sms_message WHERE kind = 'confirmation'")
    outbox = await read_outbox(pool)

    assert sent is not None
    assert sent["status"] == "sent"
    assert sent["attempts"] == failed["attempts"] + 1
    assert [entry.idempotency_key for entry in outbox] == [failed["idempotency_key"]]
