"""availability: free-time queries over HTTP against `borgerservice serve booking` in its own
process: the most it answers per second, and p50/p99 at a steady 500 queries per second.
Baseline: the same read-model query straight through asyncpg, as fast as it goes.
Target: p99 under 10 ms at 500 q/s."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from datetime import time as clock

from bench.environment import BenchEnvironment, ServiceProcess, Space
from bench.http_load import Connection, Response, closed_loop, connections, open_loop
from bench.lag import wait_until
from bench.report import ScenarioResult, add_latencies
from bench.world import MUNICIPALITY, Layout, open_world
from infra.database import create_pool
from services.booking.adapters.availability import free_times_json
from services.booking.application import BookingApplication
from services.booking.domain.opening_hours import COPENHAGEN
from services.booking.settings import BookingSettings

RATE = 500
CONNECTIONS = 16
OPEN_LOOP_CONNECTIONS = 64


def seed(settings: BookingSettings, layout: Layout) -> None:
    app = BookingApplication(settings.eventsourcing_env())
    try:
        open_world(app, layout)
    finally:
        app.close()


def query(layout: Layout, index: int) -> tuple[str, int]:
    """One site's free times for one day, for the pas service: what a citizen looks at."""
    return layout.site_ids[index % layout.sites], (index // layout.sites) % layout.days


async def raw_queries_per_second(space: Space, layout: Layout, seconds: float) -> float:
    pool = await create_pool(space.database_url, max_size=CONNECTIONS)
    done = 0
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**12))

    async def worker() -> None:
        nonlocal done
        for index in counter:
            site, day = query(layout, index)
            start = datetime.combine(layout.day(day), clock.min, COPENHAGEN)
            await free_times_json(
                pool,
                MUNICIPALITY,
                service="pas",
                site=site,
                start=start,
                end=start + timedelta(days=1),
            )
            done += 1
            if time.perf_counter() >= deadline:
                return

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
        return done / (time.perf_counter() - started)
    finally:
        await pool.close()


async def run(env: BenchEnvironment, space: Space, result: ScenarioResult) -> None:
    seconds = env.seconds(2, 10)
    layout = Layout(sites=3, days=env.size(3, 30), slots=96, capacity=3)
    settings = BookingSettings(database_url=space.database_url, nats_url=space.nats_url)
    await asyncio.to_thread(seed, settings, layout)
    server = await ServiceProcess.start("booking", space)
    try:
        check = await create_pool(space.database_url, max_size=1)
        total = layout.sites * layout.days * layout.slots
        await wait_until(check, "SELECT count(*) FROM availability_slot", total, 120)
        await check.close()

        async def send(connection: Connection, index: int) -> Response:
            site, day = query(layout, index)
            return await connection.request(
                "GET",
                f"/api/v1/municipalities/{MUNICIPALITY}/availability?service=pas&site={site}"
                f"&from={layout.day(day)}&to={layout.day(day)}",
            )

        async with connections("127.0.0.1", server.port, CONNECTIONS) as pool:
            await closed_loop(pool, send, count=200)  # warm up
            started = time.perf_counter()
            most = await closed_loop(pool, send, seconds=seconds)
            result.add("http: most queries", len(most) / (time.perf_counter() - started), "q/s")
        async with connections("127.0.0.1", server.port, OPEN_LOOP_CONNECTIONS) as pool:
            steady = await open_loop(pool, RATE, seconds, send)
        add_latencies(result, f"http: answer time at {RATE} q/s", [a.seconds for a in steady])
    finally:
        await server.stop()
    result.add(
        "baseline: the same query through asyncpg",
        await raw_queries_per_second(space, layout, seconds),
        "q/s",
    )
    answers = most + steady
    result.checks["every query answered 200 with times"] = all(
        a.status == 200 and len(a.json()) == layout.slots for a in answers
    )
    result.ratio("http: most queries", "baseline: the same query through asyncpg")
    result.target(f"http: answer time at {RATE} q/s p99", "<", 10)
    result.notes.append(f"{layout.slots} free times per answer; {CONNECTIONS} connections")
