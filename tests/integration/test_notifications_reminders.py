"""Reminders on a real nats-server and PostgreSQL, with a clock the test sets: scheduled on
booking, moved by a reschedule, removed by a cancellation, held back by quiet hours."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from events import Envelope, EventData, encode
from events.booking import (
    BookingBooked,
    BookingCancelled,
    BookingManageTokensRevoked,
    BookingRescheduled,
    Channel,
)
from services.notifications.adapters.sms import read_outbox
from services.notifications.service import NotificationsService
from services.notifications.settings import NotificationsSettings
from tests.support import eventually, running_in_background

BOOKED_AT = datetime(2025, 5, 2, 9, 0, tzinfo=UTC)  # a Friday, 11:00 in Denmark
STARTS_AT = datetime(2025, 5, 6, 12, 15, tzinfo=UTC)  # Tuesday 14:15 in Denmark
REMINDER_DUE = STARTS_AT - timedelta(hours=24)


@dataclass
class Clock:
    """The time as the test says it is."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


def envelope(
    data: EventData, booking_id: UUID, version: int, at: datetime, municipality: str
) -> Envelope[Any]:
    return Envelope[Any](
        event_id=uuid.uuid4(),
        type=data.TYPE,
        schema_version=data.VERSION,
        municipality=municipality,
        site="korsoer",
        aggregate_id=booking_id,
        aggregate_version=version,
        occurred_at=at,
        data=data,
    )


def booked(
    booking_id: UUID,
    starts_at: datetime = STARTS_AT,
    at: datetime = BOOKED_AT,
    municipality: str = "slagelse",
) -> Envelope[Any]:
    data = BookingBooked(
        service="pas",
        service_name="Pas",
        site_name="Borgerservice Korsør",
        documents=["gammelt pas"],
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=15),
        citizen_name="Karen Jensen",
        phone="+4520304050",
        channel=Channel.web,
        booked_at=at,
        acute_reason=None,
    )
    return envelope(data, booking_id, 1, at, municipality)


def rescheduled(booking_id: UUID, starts_at: datetime, version: int = 2) -> Envelope[Any]:
    at = BOOKED_AT + timedelta(hours=1)
    data = BookingRescheduled(
        service="pas",
        previous_starts_at=STARTS_AT,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=15),
        rescheduled_at=at,
    )
    return envelope(data, booking_id, version, at, "slagelse")


def cancelled(
    booking_id: UUID, by: str = "citizen", reason: str = "", version: int = 2
) -> Envelope[Any]:
    at = BOOKED_AT + timedelta(hours=2)
    data = BookingCancelled(
        service="pas", starts_at=STARTS_AT, reason=reason, cancelled_by=by, cancelled_at=at
    )
    return envelope(data, booking_id, version, at, "slagelse")


async def publish(js: JetStreamContext, *events: Envelope[Any]) -> int:
    sequence = 0
    for event in events:
        ack = await js.publish(
            event.subject, encode(event), headers={"Nats-Msg-Id": str(uuid.uuid4())}
        )
        sequence = ack.seq
    return sequence


@asynccontextmanager
async def running(
    database_url: str, nc: NatsClient, clock: Clock, **settings: Any
) -> AsyncIterator[NotificationsService]:
    service = await NotificationsService.start(
        NotificationsSettings(
            database_url=database_url,
            dispatch_interval_seconds=0.05,
            public_base_url="https://tid.slagelse.example",
            **settings,
        ),
        nc,
        clock=clock,
    )
    try:
        async with running_in_background(service):
            yield service
    finally:
        await service.close()


async def projected(service: NotificationsService, sequence: int) -> None:
    async def reached() -> bool:
        position = await service.pool.fetchval(
            "SELECT stream_seq FROM projection_position WHERE projection = 'notifications'"
        )
        return position is not None and position >= sequence

    await eventually(reached)


async def sent_kinds(pool: asyncpg.Pool) -> list[str]:
    """The kind of every message in the outbox, oldest first (`<id>:<kind>:<version>`)."""
    return [entry.idempotency_key.split(":", 1)[1] for entry in await read_outbox(pool)]


async def settle_at(service: NotificationsService, clock: Clock, moment: datetime) -> list[str]:
    """Sets the clock, lets one full dispatch round run at it, returns what has been sent."""
    clock.now = moment
    await service.dispatcher().dispatch_due()
    return await sent_kinds(service.pool)


async def test_reminder_goes_out_when_due_and_not_before(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    booking_id = uuid.uuid4()
    clock = Clock(BOOKED_AT)
    last = await publish(js, booked(booking_id))

    async with running(database_url, nc, clock) as service:
        await projected(service, last)
        assert await settle_at(service, clock, REMINDER_DUE - timedelta(minutes=1)) == [
            "confirmation:1"
        ]
        clock.now = REMINDER_DUE
        await eventually(lambda: sent_kinds_are(service.pool, "confirmation:1", "reminder:1"))
        [_, reminder] = await read_outbox(service.pool)

    assert reminder.body == (
        "Hej Karen Jensen. Husk din tid til Pas hos Borgerservice Korsør tirsdag den 6. maj "
        "2025 kl. 14.15. Husk at medbringe: gammelt pas. Se eller ændr din tid: "
        f"https://tid.slagelse.example/manage/{booking_id}?token="
        f"{NotificationsSettings().manage_tokens().issue(booking_id, appointment_at=STARTS_AT)}"
    )


async def sent_kinds_are(pool: asyncpg.Pool, *kinds: str) -> bool:
    return await sent_kinds(pool) == list(kinds)


async def test_cancelled_booking_gets_no_reminder_and_no_notice_when_the_citizen_cancelled(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    booking_id = uuid.uuid4()
    clock = Clock(BOOKED_AT + timedelta(hours=3))
    last = await publish(js, booked(booking_id), cancelled(booking_id))

    async with running(database_url, nc, clock) as service:
        await projected(service, last)
        assert await settle_at(service, clock, REMINDER_DUE + timedelta(minutes=5)) == [
            "confirmation:1"
        ]
        statuses = await service.pool.fetch("SELECT kind, status FROM sms_message ORDER BY kind")

    assert [tuple(row) for row in statuses] == [
        ("confirmation", "sent"),
        ("reminder", "cancelled"),
    ]


async def test_cancellation_by_staff_is_told_with_its_reason(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    booking_id = uuid.uuid4()
    clock = Clock(BOOKED_AT + timedelta(hours=3))
    last = await publish(
        js, booked(booking_id), cancelled(booking_id, by="staff:anna", reason="Sygdom.")
    )

    async with running(database_url, nc, clock) as service:
        await projected(service, last)
        await eventually(lambda: sent_kinds_are(service.pool, "confirmation:1", "cancelled:2"))
        notice = (await read_outbox(service.pool))[1]

    assert notice.body == (
        "Hej Karen Jensen. Borgerservice har desværre aflyst din tid til Pas hos "
        "Borgerservice Korsør tirsdag den 6. maj 2025 kl. 14.15. Begrundelse: Sygdom. "
        "Book en ny tid: https://tid.slagelse.example"
    )


async def test_reschedule_moves_the_reminder_and_tells_the_new_time(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    booking_id = uuid.uuid4()
    new_start = STARTS_AT + timedelta(days=2)  # Thursday 8 May, 14:15 in Denmark
    clock = Clock(BOOKED_AT + timedelta(hours=1))
    last = await publish(js, booked(booking_id), rescheduled(booking_id, new_start))

    async with running(database_url, nc, clock) as service:
        await projected(service, last)
        await eventually(lambda: sent_kinds_are(service.pool, "confirmation:1", "rescheduled:2"))
        notice = (await read_outbox(service.pool))[1]
        at_old_time = await settle_at(service, clock, REMINDER_DUE + timedelta(minutes=5))
        clock.now = new_start - timedelta(hours=24)
        await eventually(
            lambda: sent_kinds_are(service.pool, "confirmation:1", "rescheduled:2", "reminder:2")
        )
        reminder = (await read_outbox(service.pool))[2]

    assert "er flyttet til torsdag den 8. maj 2025 kl. 14.15" in notice.body
    assert at_old_time == ["confirmation:1", "rescheduled:2"]
    assert "torsdag den 8. maj 2025 kl. 14.15" in reminder.body


async def test_booking_made_within_the_lead_time_gets_no_reminder(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    booking_id = uuid.uuid4()
    booked_late = STARTS_AT - timedelta(hours=23)
    clock = Clock(booked_late)
    last = await publish(js, booked(booking_id, at=booked_late))

    async with running(database_url, nc, clock) as service:
        await projected(service, last)
        kinds = await service.pool.fetch("SELECT kind FROM sms_message")

    assert [row["kind"] for row in kinds] == ["confirmation"]


async def test_republished_booking_after_cancellation_brings_no_reminder_back(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    booking_id = uuid.uuid4()
    first = booked(booking_id)
    clock = Clock(BOOKED_AT + timedelta(hours=3))
    last = await publish(js, first, cancelled(booking_id), first)  # republished after a restart

    async with running(database_url, nc, clock) as service:
        await projected(service, last)
        sent = await settle_at(service, clock, REMINDER_DUE + timedelta(minutes=5))
        reminder = await service.pool.fetchval(
            "SELECT status FROM sms_message WHERE kind = 'reminder'"
        )

    assert sent == ["confirmation:1"]
    assert reminder == "cancelled"


async def test_reminder_lead_is_set_per_municipality_and_quiet_hours_hold_it_until_8(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    booking_id = uuid.uuid4()
    starts_at = datetime(2025, 5, 6, 7, 0, tzinfo=UTC)  # Tuesday 09:00 in Denmark
    due = starts_at - timedelta(hours=12)  # Monday 21:00 in Denmark: quiet
    eight = datetime(2025, 5, 6, 6, 0, tzinfo=UTC)  # Tuesday 08:00 in Denmark
    clock = Clock(BOOKED_AT)
    last = await publish(js, booked(booking_id, starts_at=starts_at, municipality="herning"))

    async with running(
        database_url, nc, clock, reminder_lead_hours_by_municipality={"herning": 12}
    ) as service:
        await projected(service, last)
        await eventually(lambda: sent_kinds_are(service.pool, "confirmation:1"))
        due_at = await service.pool.fetchval(
            "SELECT due_at FROM sms_message WHERE kind = 'reminder'"
        )
        at_due = await settle_at(service, clock, due)
        before_eight = await settle_at(service, clock, eight - timedelta(minutes=1))
        clock.now = eight
        await eventually(lambda: sent_kinds_are(service.pool, "confirmation:1", "reminder:1"))

    assert due_at == due
    assert at_due == before_eight == ["confirmation:1"]


async def test_a_revocation_rewrites_the_pending_reminder_with_the_new_link(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    booking_id = uuid.uuid4()
    clock = Clock(BOOKED_AT + timedelta(hours=3))
    revoked = BookingManageTokensRevoked(
        service="pas", starts_at=STARTS_AT, generation=1, by="mette", revoked_at=clock.now
    )
    last = await publish(
        js, booked(booking_id), envelope(revoked, booking_id, 2, clock.now, "slagelse")
    )

    async with running(database_url, nc, clock) as service:
        await projected(service, last)
        clock.now = REMINDER_DUE
        await eventually(lambda: sent_kinds_are(service.pool, "confirmation:1", "reminder:2"))
        [_, reminder] = await read_outbox(service.pool)
        statuses = await service.pool.fetch(
            "SELECT booking_version, status FROM sms_message WHERE kind = 'reminder' "
            "ORDER BY booking_version"
        )

    tokens = NotificationsSettings().manage_tokens()
    new = tokens.issue(booking_id, appointment_at=STARTS_AT, generation=1)
    old = tokens.issue(booking_id, appointment_at=STARTS_AT)
    assert reminder.body.endswith(f"/manage/{booking_id}?token={new}")
    assert old not in reminder.body
    assert [tuple(row) for row in statuses] == [(1, "cancelled"), (2, "sent")]
