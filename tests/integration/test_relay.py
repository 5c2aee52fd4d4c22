"""The relay puts every stored event on the stream exactly once, in order, whatever happens."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from itertools import pairwise

import asyncpg
import pytest
from nats.js import JetStreamContext

from infra.streams import EVENTS_STREAM, ensure_streams
from services.booking.adapters.relay import NOTIFICATION_ID_HEADER, Relay, StreamAheadOfStore
from services.booking.adapters.wire import is_internal
from services.booking.commands import BookTime
from services.booking.service import BookingService
from tests.booking_world import FIRST_TIME, MUNICIPALITY, SITE, seed_world


class RelayKilled(Exception):
    pass


async def book_some(service: BookingService, count: int) -> None:
    def book() -> None:
        for i in range(count):
            service.app.book(
                BookTime(
                    municipality=MUNICIPALITY,
                    site=SITE,
                    service="pas",
                    starts_at=FIRST_TIME + timedelta(minutes=15 * (i % 4)),
                    citizen_name=f"Borger {i}",
                    phone=f"+45203040{i:02d}",  # one citizen each (the limit)
                )
            )

    await asyncio.to_thread(book)


async def stream_contents(js: JetStreamContext) -> list[tuple[int, str]]:
    """(notification id, event id) of every message on the events stream, in stream order."""
    info = await js.stream_info(EVENTS_STREAM)
    found = []
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        message = await js.get_msg(EVENTS_STREAM, sequence)
        assert message.headers is not None
        found.append((int(message.headers[NOTIFICATION_ID_HEADER]), message.headers["Nats-Msg-Id"]))
    return found


async def stored_notification_ids(service: BookingService) -> list[int]:
    """The stored events that belong on the bus (the service's internal ones do not)."""
    notifications = await asyncio.to_thread(
        service.app.recorder.select_notifications, start=0, limit=10_000, inclusive_of_start=False
    )
    return [n.id for n in notifications if not is_internal(n.topic)]


async def relay_all(relay: Relay) -> None:
    while await relay.relay_once():
        pass


async def relayed_world(service: BookingService, bookings: int) -> Relay:
    """A seeded world with `bookings` made and every event relayed; returns the relay."""
    await asyncio.to_thread(seed_world, service.app, 8)
    await book_some(service, bookings)
    relay = service.relay()
    await relay.resume()
    await relay_all(relay)
    return relay


async def test_every_stored_event_is_on_the_stream_once_in_order(
    booking_service: BookingService, js: JetStreamContext
) -> None:
    await relayed_world(booking_service, bookings=6)
    on_stream = await stream_contents(js)
    assert [n for n, _ in on_stream] == await stored_notification_ids(booking_service)
    assert len({event_id for _, event_id in on_stream}) == len(on_stream)


async def test_relay_killed_between_publish_and_recording_position_does_not_duplicate(
    booking_service: BookingService, js: JetStreamContext, pool: asyncpg.Pool
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app, 8)
    await book_some(booking_service, 6)

    async def die(_: int) -> None:
        raise RelayKilled

    doomed = Relay(booking_service.app, js, booking_service.pool, batch=5, after_publish=die)
    await doomed.resume()
    with pytest.raises(RelayKilled):
        await doomed.relay_once()
    assert await booking_service.pool.fetchval("SELECT count(*) FROM relay_position") == 0
    assert 0 < len(await stream_contents(js)) <= 5  # published, position not recorded

    restarted = Relay(booking_service.app, js, booking_service.pool, batch=5)
    await restarted.resume()
    await relay_all(restarted)
    on_stream = await stream_contents(js)
    assert [n for n, _ in on_stream] == await stored_notification_ids(booking_service)
    recorded = await booking_service.pool.fetchval("SELECT notification_id FROM relay_position")
    # the position passes the service's internal events too, published or not
    assert recorded == await asyncio.to_thread(booking_service.app.recorder.max_notification_id)
    assert recorded >= on_stream[-1][0]


async def test_gaps_in_notification_ids_are_relayed_past(
    booking_service: BookingService, js: JetStreamContext
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app, 8)
    await book_some(booking_service, 2)
    # A rolled-back transaction burns notification ids.
    await booking_service.pool.execute(
        "SELECT nextval(pg_get_serial_sequence('booking_events', 'notification_id')) "
        "FROM generate_series(1, 5)"
    )
    await book_some(booking_service, 2)
    relay = booking_service.relay()
    await relay.resume()
    await relay_all(relay)
    stored = await stored_notification_ids(booking_service)
    assert any(b - a > 1 for a, b in pairwise(stored)), "the test needs a gap"
    assert [n for n, _ in await stream_contents(js)] == stored


async def test_events_lost_by_jetstream_are_republished_from_the_store(
    booking_service: BookingService, js: JetStreamContext
) -> None:
    relay = await relayed_world(booking_service, bookings=3)
    await js.delete_stream(EVENTS_STREAM)
    await ensure_streams(js)
    await relay.resume()
    await relay_all(relay)
    assert [n for n, _ in await stream_contents(js)] == await stored_notification_ids(
        booking_service
    )


async def test_a_stream_from_another_database_is_refused_not_skipped(
    booking_service: BookingService, js: JetStreamContext
) -> None:
    relay = await relayed_world(booking_service, bookings=2)
    await booking_service.pool.execute("DELETE FROM booking_events")  # as if a fresh database
    with pytest.raises(StreamAheadOfStore, match="belongs to another database"):
        await relay.resume()
