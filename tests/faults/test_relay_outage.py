"""Found by the fault suite (cluster failover): when a publish failed, the relay called
`resume()` outside its error handling, so a nats-server that was still away (stream_info timed
out, or had no responders) ended `Relay.run` with the exception, and the whole booking service
process (its HTTP API too) exited. The relay now waits the outage out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import asyncpg
import nats
import pytest

from infra.nats_server import EmbeddedNats
from infra.streams import EVENTS_STREAM, ensure_streams
from services.booking.adapters.relay import Relay
from services.booking.application import BookingApplication
from services.booking.settings import BookingSettings
from tests.booking_world import HOURS, MUNICIPALITY, SITE, seed_world
from tests.support import eventually

pytestmark = pytest.mark.faults

NEXT_MONDAY = date(2030, 3, 11)


@pytest.fixture
async def own_nats(tmp_path: Path) -> AsyncIterator[EmbeddedNats]:
    server = EmbeddedNats(tmp_path / "nats")
    await server.astart()
    yield server
    await server.astop()


async def test_relay_waits_out_a_nats_server_outage(
    database_url: str, pool: asyncpg.Pool, own_nats: EmbeddedNats
) -> None:
    nc = await nats.connect(own_nats.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    js = nc.jetstream()
    await ensure_streams(js)
    settings = BookingSettings(database_url=database_url)
    app = await asyncio.to_thread(BookingApplication, settings.eventsourcing_env())
    stop = asyncio.Event()
    relay = Relay(app, js, pool, idle_wait=0.1)
    running = asyncio.create_task(relay.run(stop))
    try:
        await asyncio.to_thread(seed_world, app)

        async def relayed(count: int) -> bool:
            return (await js.stream_info(EVENTS_STREAM)).state.messages == count

        await eventually(lambda: relayed(2))
        own_nats.kill()
        slots = HOURS.slots_on(NEXT_MONDAY)
        await asyncio.to_thread(app.open_day, MUNICIPALITY, SITE, NEXT_MONDAY, slots)
        await asyncio.sleep(12)  # publish times out (5 s), then resume() (5 s), retried
        await own_nats.astart()
        assert not running.done(), f"the relay ended during the outage: {running.exception()!r}"
        await eventually(lambda: relayed(3), timeout=20)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(running, return_exceptions=True), timeout=10)
        await asyncio.to_thread(app.close)
        await nc.close()
