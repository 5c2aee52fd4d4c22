"""An event the relay can never publish is parked with its reason and the relay goes on, so one
bad event never holds back another municipality's (it used to retry such an event forever);
after a fix, `relay resend` publishes it at the end of the stream.

The events are written straight into the event store, past the check every save makes (as an
older version of the code, a restored backup or a hand-made repair would leave them)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import StoredEvent
from nats.js import JetStreamContext

from infra.streams import EVENTS_STREAM
from services.booking.adapters.relay import NOTIFICATION_ID_HEADER, RESENT_HEADER, Relay
from services.booking.service import BookingService
from tests.booking_world import MUNICIPALITY
from tests.integration.test_relay import book_some, relay_all, relayed_world, stream_contents


def store_directly(service: BookingService, *stored: StoredEvent) -> list[int]:
    """Inserts `stored` into the event store as they are; their notification ids."""
    ids = service.app.recorder.insert_events(list(stored))
    assert ids is not None
    return list(ids)


def of_unknown_type() -> StoredEvent:
    return StoredEvent(
        originator_id=uuid4(),
        originator_version=1,
        topic="services.booking.domain.booking:Booking.Teleported",
        state=b"{}",
    )


def oversized_service_edit(service: BookingService) -> StoredEvent:
    """A real `ServiceConfigured` of 3 MB: the bus takes at most 1 MB."""
    municipality = service.app.get_municipality(MUNICIPALITY, to_change=True)
    huge: dict[str, Any] = {"id": "pas", "name": "Pas", "duration_minutes": 15}
    municipality.configure_service({**huge, "documents": ["x" * 1000] * 3000}, "admin")
    (event,) = municipality.collect_events()
    return service.app.mapper.to_stored_event(event)


async def parked_reasons(relay: Relay) -> dict[int, str]:
    return {p.notification_id: p.reason for p in await relay.parked_events.listed()}


async def test_unpublishable_events_are_parked_and_later_events_flow(
    booking_service: BookingService, js: JetStreamContext
) -> None:
    relay = await relayed_world(booking_service, bookings=2)
    unknown, oversized = await asyncio.to_thread(
        store_directly, booking_service, of_unknown_type(), oversized_service_edit(booking_service)
    )
    await book_some(booking_service, 1)

    await asyncio.wait_for(relay_all(relay), timeout=20)  # it does not retry them forever

    reasons = await parked_reasons(relay)
    assert set(reasons) == {unknown, oversized}
    assert "Teleported" in reasons[unknown]
    assert "would be 3," in reasons[oversized] and "over its limit" in reasons[oversized]
    on_stream = [notification for notification, _ in await stream_contents(js)]
    assert unknown not in on_stream and oversized not in on_stream
    assert on_stream[-1] > oversized  # the booking made after them is on the stream

    # A restarted relay passes over them too, and publishes nothing twice.
    restarted = booking_service.relay()
    await restarted.resume()
    await relay_all(restarted)
    assert [n for n, _ in await stream_contents(js)] == on_stream


async def test_a_resend_after_the_fix_publishes_it_at_the_end_of_the_stream(
    booking_service: BookingService, js: JetStreamContext
) -> None:
    relay = await relayed_world(booking_service, bookings=1)
    (oversized,) = await asyncio.to_thread(
        store_directly, booking_service, oversized_service_edit(booking_service)
    )
    await relay_all(relay)
    assert set(await parked_reasons(relay)) == {oversized}
    before = (await js.stream_info(EVENTS_STREAM)).state.last_seq

    # Not fixed yet: the resend parks it again, and the relay still goes on.
    assert await relay.parked_events.request_resend() == 1
    assert await relay.resend_requested() == 0
    assert set(await parked_reasons(relay)) == {oversized}
    assert await relay.parked_events.requested() == []

    # Fixed (here by hand; in life a repair or a new code version): the relay publishes it
    # after everything already there, named as a resend, and the position it resumes after
    # stays the stream's last notification id.
    await asyncio.to_thread(shrink_documents, booking_service, oversized)
    assert await relay.parked_events.request_resend([oversized]) == 1
    assert await relay.resend_requested() == 1
    assert await relay.parked_events.listed() == []
    last = await js.get_msg(EVENTS_STREAM, before + 1)
    assert last.headers is not None
    assert last.headers[RESENT_HEADER] == str(oversized)
    assert int(last.headers[NOTIFICATION_ID_HEADER]) == relay.position
    restarted = booking_service.relay()
    await restarted.resume()
    assert restarted.position == relay.position
    await relay_all(restarted)  # nothing published twice
    assert (await js.stream_info(EVENTS_STREAM)).state.last_seq == relay.last_seq


def shrink_documents(service: BookingService, notification_id: int) -> None:
    """Rewrites the stored event's state as the same edit with a short list of documents."""
    municipality = service.app.get_municipality(MUNICIPALITY, to_change=True)
    small: dict[str, Any] = {"id": "pas", "name": "Pas", "duration_minutes": 15}
    municipality.configure_service({**small, "documents": ["Gammelt pas"]}, "admin")
    (event,) = municipality.collect_events()
    state = service.app.mapper.to_stored_event(event).state
    recorder: Any = service.app.recorder
    with recorder.datastore.get_connection() as connection, connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {recorder.events_table_name} SET state = %s WHERE notification_id = %s",
            (state, notification_id),
        )
        connection.commit()


def borgerservice(database_url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from borgerservice.cli import app; app()", *arguments],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_relay_parked_and_resend_commands(
    booking_service: BookingService, database_url: str
) -> None:
    listed = await asyncio.to_thread(borgerservice, database_url, "relay", "parked")
    assert (listed.returncode, listed.stdout.strip()) == (0, "no parked events"), listed.stderr
    events = booking_service.relay().parked_events
    await events.park(41, "services.booking.domain.booking:Booking.Teleported", "TopicError: x")

    listed = await asyncio.to_thread(borgerservice, database_url, "relay", "parked")
    assert "41 " in listed.stdout and "Booking.Teleported" in listed.stdout
    assert "TopicError: x" in listed.stdout
    unknown = await asyncio.to_thread(borgerservice, database_url, "relay", "resend", "42")
    assert unknown.returncode == 1 and "0 parked" in unknown.stdout
    asked = await asyncio.to_thread(borgerservice, database_url, "relay", "resend", "--all")
    assert asked.returncode == 0 and "1 parked event(s)" in asked.stdout, asked.stderr
    assert await events.requested() == [41]
