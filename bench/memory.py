"""memory: peak resident memory of each service, each in its own process, while it works
through a big history: the booking service relays it from its event store and projects
availability, notifications and reporting consume it. Target: under 300 MB each."""

from __future__ import annotations

import asyncio
import time

from nats.js.errors import NotFoundError

from bench.environment import BenchEnvironment, ServiceProcess, Space
from bench.history import store_booking_history
from bench.report import ScenarioResult
from bench.world import Layout
from infra.streams import EVENTS_STREAM
from services.booking.application import BookingApplication
from services.booking.settings import BookingSettings

SERVICES = {  # service: its durable consumers
    "booking": ("availability",),
    "notifications": ("notifications",),
    "reporting": ("reporting",),
}
LIMIT_MB = 300


def store(settings: BookingSettings, layout: Layout, events: int) -> int:
    app = BookingApplication(settings.eventsourcing_env())
    try:
        return store_booking_history(app, layout, events)
    finally:
        app.close()


async def caught_up(space: Space, stored: int) -> bool:
    if await space.stream_count() < stored:
        return False
    for consumers in SERVICES.values():
        for name in consumers:
            try:
                info = await space.js.consumer_info(EVENTS_STREAM, name)
            except NotFoundError:
                return False
            if info.num_pending or info.num_ack_pending:
                return False
    return True


async def run(env: BenchEnvironment, space: Space, result: ScenarioResult) -> None:
    events = env.size(4_000, 1_000_000)
    layout = Layout(sites=4, days=1, slots=96, capacity=4)
    settings = BookingSettings(database_url=space.database_url, nats_url=space.nats_url)
    started = time.perf_counter()
    stored = await asyncio.to_thread(store, settings, layout, events)
    result.notes.append(
        f"{stored:,} events stored in bulk in {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()  # the booking service relays as soon as it is up
    starting = await asyncio.gather(
        *(ServiceProcess.start(name, space) for name in SERVICES), return_exceptions=True
    )
    processes = [p for p in starting if isinstance(p, ServiceProcess)]
    try:
        failed = next((p for p in starting if isinstance(p, BaseException)), None)
        if failed is not None:
            raise failed
        relayed_at = None
        deadline = time.monotonic() + 3600
        while not await caught_up(space, stored):
            if relayed_at is None and await space.stream_count() >= stored:
                relayed_at = time.perf_counter()
            if time.monotonic() > deadline:
                raise TimeoutError("the services did not catch up within an hour")
            await asyncio.sleep(0.5)
        elapsed = time.perf_counter() - started
        relayed_at = relayed_at or time.perf_counter()
        result.add("relayed, from the services' start", stored / (relayed_at - started), "events/s")
        result.add("every consumer caught up", stored / elapsed, "events/s")
        for process in processes:
            now, peak = process.memory_mb()
            result.add(f"{process.service}: peak resident", peak, "MB")
            result.add(f"{process.service}: resident after", now, "MB")
    finally:
        for process in processes:
            await process.stop()
    for process in processes:
        result.target(f"{process.service}: peak resident", "<", LIMIT_MB)
