"""Found by the fault suite: the notifications service's `sms.*` events shared BS_EVENTS with
the booking relay, whose chaining (`Nats-Expected-Last-Msg-Id`) and resume (the stream's last
message carries `Bs-Notification-Id`) assume it is the only publisher there: after the first SMS
event every relay publish failed and every restart died of a KeyError. Now they go to BS_SMS;
these keep it so."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import pytest
from nats.js import JetStreamContext

from infra.streams import EVENTS_STREAM
from services.booking.adapters.relay import Relay
from services.booking.application import BookingApplication
from services.booking.settings import BookingSettings
from tests.booking_world import HOURS, MUNICIPALITY, SITE, seed_world

pytestmark = pytest.mark.faults


NEXT_MONDAY = date(2030, 3, 11)


async def relayed_then_sms_event(
    app: BookingApplication, relay: Relay, js: JetStreamContext
) -> None:
    """The booking world relayed, then one SMS event as the notifications service's
    SmsEventRelay publishes it, then a new booking event stored and not yet relayed."""
    await asyncio.to_thread(seed_world, app)
    await relay.resume()
    assert await relay.relay_once() > 0
    sms_event = {"event_id": str(uuid.uuid4()), "type": "sms.sent"}
    await js.publish(
        f"bs.{MUNICIPALITY}.sms.sent",
        json.dumps(sms_event).encode(),
        headers={"Nats-Msg-Id": sms_event["event_id"]},
    )
    slots = HOURS.slots_on(NEXT_MONDAY)
    await asyncio.to_thread(app.open_day, MUNICIPALITY, SITE, NEXT_MONDAY, slots)


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[BookingApplication]:
    settings = BookingSettings(database_url=database_url)
    created = await asyncio.to_thread(BookingApplication, settings.eventsourcing_env())
    yield created
    await asyncio.to_thread(created.close)


async def test_running_relay_publishes_after_an_sms_event(
    app: BookingApplication, pool: asyncpg.Pool, js: JetStreamContext
) -> None:
    relay = Relay(app, js, pool)
    await relayed_then_sms_event(app, relay, js)
    # today: BadRequestError 10070 "wrong last msg ID" (the SMS event is the stream's last)
    assert await relay.relay_once() == 1


async def test_relay_resumes_when_the_streams_last_message_is_an_sms_event(
    app: BookingApplication, pool: asyncpg.Pool, js: JetStreamContext
) -> None:
    relay = Relay(app, js, pool)
    await relayed_then_sms_event(app, relay, js)
    restarted = Relay(app, js, pool)
    await restarted.resume()  # today: KeyError: 'Bs-Notification-Id'
    assert restarted.position == relay.position
    assert await restarted.relay_once() == 1
    info = await js.stream_info(EVENTS_STREAM, subjects_filter="bs.*.schedule.day_opened")
    assert sum((info.state.subjects or {}).values()) == 2
