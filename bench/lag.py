"""lag: a booking committed → its seat change visible in the availability projection, p50 and
p99, at a steady rate of bookings. Visibility is the projection's own commit, reported by a
bench-only trigger through LISTEN/NOTIFY, so nothing polls. Target: p99 under 100 ms."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time

import asyncpg

from bench.environment import BenchEnvironment, Space
from bench.report import ScenarioResult, add_latencies
from bench.world import Layout, book_command, open_world
from services.booking.service import BookingService
from services.booking.settings import BookingSettings

RATE = 200  # bookings per second
CHANNEL = "bench_availability"
TRIGGER = f"""
CREATE OR REPLACE FUNCTION bench_seat_visible() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify(
        '{CHANNEL}',
        NEW.site || ' ' || extract(epoch FROM NEW.starts_at)::bigint || ' ' || NEW.seats_left
    );
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER bench_seat_visible AFTER UPDATE ON availability_slot
    FOR EACH ROW EXECUTE FUNCTION bench_seat_visible();
"""


def seat_key(layout: Layout, index: int) -> str:
    """The seat as the trigger names it: site and epoch seconds."""
    site, starts_at = layout.seat(index)
    return f"{site} {int(starts_at.timestamp())}"


async def wait_until(check: asyncpg.Pool, query: str, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while await check.fetchval(query) < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"not {expected} within {timeout}s: {query}")
        await asyncio.sleep(0.05)


async def run(env: BenchEnvironment, space: Space, result: ScenarioResult) -> None:
    seconds = env.seconds(3, 30)
    bookings = round(RATE * seconds)
    layout = Layout(sites=4, days=math.ceil(bookings / (4 * 144)), slots=144, capacity=1)
    settings = BookingSettings(database_url=space.database_url, nats_url=space.nats_url)
    service = await BookingService.start(settings, space.nc)
    listener = await asyncpg.connect(space.database_url)
    committed: dict[str, float] = {}
    visible: dict[str, float] = {}
    all_visible = asyncio.Event()

    def on_notify(*args: object) -> None:
        site, _, rest = str(args[3]).partition(" ")
        starts_at, _, seats_left = rest.rpartition(" ")
        if seats_left == "0":
            visible.setdefault(f"{site} {starts_at}", time.perf_counter())
            if len(visible) >= bookings:
                all_visible.set()

    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(service.relay().run(stop)),
        asyncio.create_task(service.availability().run(stop)),
    ]
    try:
        await listener.execute(TRIGGER)
        await listener.add_listener(CHANNEL, on_notify)
        await asyncio.to_thread(open_world, service.app, layout)
        total = layout.sites * layout.days * layout.slots
        await wait_until(service.pool, "SELECT count(*) FROM availability_slot", total, 120)

        def book(index: int) -> None:
            service.app.book(book_command(layout, index))
            committed[seat_key(layout, index)] = time.perf_counter()

        started = time.perf_counter()
        pending = []
        for index in range(bookings):
            delay = started + index / RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            pending.append(asyncio.create_task(asyncio.to_thread(book, index)))
        await asyncio.gather(*pending)
        achieved = bookings / (time.perf_counter() - started)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_visible.wait(), timeout=60)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await listener.close()
        await service.close()
    lags = [max(0.0, visible[key] - at) for key, at in committed.items() if key in visible]
    result.add("bookings issued", achieved, "bookings/s")
    add_latencies(result, "commit → visible", lags)
    result.checks["every booking became visible"] = len(lags) == bookings
    result.target("commit → visible p99", "<", 100)
    result.notes.append(f"{bookings:,} bookings at {RATE}/s, each on its own time")
