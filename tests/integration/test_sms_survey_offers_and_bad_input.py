"""Survey invitations, waitlist offers and bulk-cancellation notices from the stream to the
outbox, and bad input going to the dead-letter subject with its reason; real NATS and
PostgreSQL, a clock the test sets."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import asyncpg
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from events import encode
from events.booking import BookingCancelled, BookingCompleted, BookingWaitlistOffered
from infra.streams import DEADLETTER_STREAM, deadletter_subject
from services.notifications.adapters.sms import read_outbox
from services.notifications.settings import NotificationsSettings
from tests.integration.test_notifications_reminders import (
    Clock,
    booked,
    envelope,
    projected,
    publish,
    running,
    sent_kinds_are,
)
from tests.support import eventually

STARTS_AT = datetime(2025, 6, 10, 8, 0, tzinfo=UTC)  # Tuesday 10:00 in Denmark
BOOKED_AT = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)


def completed(booking_id: uuid.UUID, at: datetime, municipality: str = "slagelse") -> object:
    data = BookingCompleted(
        service="pas", starts_at=STARTS_AT, completed_at=at, handling_minutes=11, by="anna"
    )
    return envelope(data, booking_id, 4, at, municipality)


async def test_completed_visit_in_june_gets_one_survey_invitation_held_until_morning(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    booking_id = uuid.uuid4()
    late = datetime(2025, 6, 10, 19, 30, tzinfo=UTC)  # 21:30 in Denmark: quiet
    done = completed(booking_id, late)
    clock = Clock(late)
    last = await publish(
        js,
        booked(booking_id, starts_at=STARTS_AT, at=BOOKED_AT),
        done,
        done,  # twice
    )

    async with running(database_url, nc, clock) as service:
        await projected(service, last)
        await service.dispatcher().dispatch_due()
        at_night = [e.idempotency_key.split(":")[1] for e in await read_outbox(service.pool)]
        clock.now = datetime(2025, 6, 11, 6, 0, tzinfo=UTC)  # 08:00 in Denmark
        await eventually(lambda: sent_kinds_are(service.pool, "survey_invitation:4"))
        [invitation] = await read_outbox(service.pool)  # the visit's own messages came too late

    assert at_night == []
    url = invitation.body.split(": ")[-1]
    assert url.startswith(f"https://tid.slagelse.example/survey/{booking_id}?token=")
    token = parse_qs(urlsplit(url).query)["token"][0]
    tokens = NotificationsSettings().manage_tokens()
    assert tokens.verify(booking_id, token, now=clock.now)
    assert not tokens.verify(booking_id, token, now=late + timedelta(days=14))


async def test_survey_periods_are_set_per_municipality(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    in_slagelse, in_herning = uuid.uuid4(), uuid.uuid4()
    at = datetime(2025, 6, 10, 8, 20, tzinfo=UTC)
    last = await publish(
        js,
        booked(in_slagelse, starts_at=STARTS_AT, at=BOOKED_AT),
        booked(in_herning, starts_at=STARTS_AT, at=BOOKED_AT, municipality="herning"),
        completed(in_slagelse, at),
        completed(in_herning, at, "herning"),
    )

    async with running(
        database_url,
        nc,
        Clock(at),
        survey_periods_by_municipality={"herning": ["09-01/09-30"]},
    ) as service:
        await projected(service, last)
        invited = await service.pool.fetch(
            "SELECT municipality FROM sms_message WHERE kind = 'survey_invitation'"
        )

    assert [row["municipality"] for row in invited] == ["slagelse"]


async def test_waitlist_offer_and_bulk_cancellation_reach_the_citizen(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    offered, closed = uuid.uuid4(), uuid.uuid4()
    at = datetime(2025, 6, 3, 8, 0, tzinfo=UTC)
    offer = BookingWaitlistOffered(
        service="pas",
        starts_at=STARTS_AT,
        offered_starts_at=STARTS_AT - timedelta(days=3),
        offered_ends_at=STARTS_AT - timedelta(days=3, minutes=-15),
        hold_expires_at=at + timedelta(hours=4),
        offered_at=at,
    )
    bulk = BookingCancelled(
        service="pas",
        starts_at=STARTS_AT,
        reason="Lokalet er vandskadet",
        cancelled_by="staff:ib",
        cancelled_at=at,
        bulk=True,
    )
    last = await publish(
        js,
        booked(offered, starts_at=STARTS_AT, at=BOOKED_AT),
        booked(closed, starts_at=STARTS_AT, at=BOOKED_AT),
        envelope(offer, offered, 3, at, "slagelse"),
        envelope(bulk, closed, 2, at, "slagelse"),
    )

    async with running(database_url, nc, Clock(at + timedelta(minutes=1))) as service:
        await projected(service, last)
        await eventually(lambda: outbox_has(service.pool, 4))
        bodies = {e.idempotency_key: e.body for e in await read_outbox(service.pool)}
        reminder = await service.pool.fetchval(
            "SELECT status FROM sms_message WHERE booking_id = $1 AND kind = 'reminder'", closed
        )

    offer_text = bodies[f"{offered}:waitlist_offer:3"]
    assert "lørdag den 7. juni 2025 kl. 10.00" in offer_text
    assert "Vi holder den til dig indtil tirsdag den 3. juni 2025 kl. 14.00" in offer_text
    assert "må desværre aflyse flere tider" in bodies[f"{closed}:cancelled:2"]
    assert "Lokalet er vandskadet" in bodies[f"{closed}:cancelled:2"]
    assert reminder == "cancelled"


async def outbox_has(pool: asyncpg.Pool, size: int) -> bool:
    return len(await read_outbox(pool)) >= size


async def test_an_event_missing_fields_goes_to_the_dead_letter_subject_with_the_reason(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    booking_id = uuid.uuid4()
    broken = json.loads(encode(booked(booking_id)))
    del broken["data"]["phone"], broken["data"]["citizen_name"]
    await js.publish("bs.slagelse.booking.booked", json.dumps(broken).encode())
    last = await publish(js, booked(uuid.uuid4()))

    async with running(database_url, nc, Clock(BOOKED_AT)) as service:
        await projected(service, last)
        dead = await js.get_last_msg(DEADLETTER_STREAM, deadletter_subject("notifications"))
        kept = await service.pool.fetchval("SELECT count(*) FROM sms_message")

    reason = (dead.headers or {})["Bs-Reason"]
    assert reason.startswith("invalid booking.booked:")
    assert "data.phone: Field required" in reason
    assert "data.citizen_name: Field required" in reason
    assert json.loads(dead.data)["aggregate_id"] == str(booking_id)
    assert kept == 2  # the next booking's confirmation and reminder: the consumer went on


async def test_an_offer_for_a_booking_never_seen_goes_to_the_dead_letter_subject(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    stranger = uuid.uuid4()
    at = datetime(2025, 6, 3, 8, 0, tzinfo=UTC)
    offer = BookingWaitlistOffered(
        service="pas",
        starts_at=STARTS_AT,
        offered_starts_at=STARTS_AT - timedelta(days=3),
        offered_ends_at=STARTS_AT - timedelta(days=3, minutes=-15),
        hold_expires_at=at + timedelta(hours=4),
        offered_at=at,
    )
    await publish(js, envelope(offer, stranger, 3, at, "slagelse"))

    async with running(database_url, nc, Clock(at)):
        await eventually(lambda: dead_lettered(js))
    dead = await js.get_last_msg(DEADLETTER_STREAM, deadletter_subject("notifications"))

    assert "UnknownBooking" in (dead.headers or {})["Bs-Reason"]
    assert (dead.headers or {})["Bs-Subject"] == "bs.slagelse.booking.waitlist_offered"


async def dead_lettered(js: JetStreamContext) -> bool:
    info = await js.stream_info(DEADLETTER_STREAM)
    return info.state.messages > 0
