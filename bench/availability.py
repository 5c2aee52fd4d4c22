"""availability: free-time queries over HTTP against `borgerservice serve booking` in its own
process: the most it answers per second (baseline: the same read-model query straight through
asyncpg, as fast as it goes), and p50/p99 at a steady 500 queries per second while 50
bookings a second flow, ours and the peer in alternating rounds (the peer answers the same
bytes, checked first). Targets: p99 under 10 ms, p50 and p99 no more than the peer's."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from datetime import time as clock

from bench.environment import BenchEnvironment, ServiceProcess, Space
from bench.http_load import Connection, Request, Response, closed_loop, connections, open_loop
from bench.lag import wait_until
from bench.report import ScenarioResult, percentile
from bench.versus import Contender, Figures, add_comparison, alternate, ours, peer
from bench.world import MUNICIPALITY, Layout, booking_body, open_world
from infra.database import create_pool
from services.booking.adapters.availability import free_times_json
from services.booking.application import BookingApplication
from services.booking.domain.opening_hours import COPENHAGEN
from services.booking.settings import BookingSettings

RATE = 500
CONNECTIONS = 16
OPEN_LOOP_CONNECTIONS = 64
BOOKING_RATE = 50  # bookings per second beside the queries at RATE
BOOKING_CONNECTIONS = 8


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
    per_round = round(BOOKING_RATE * seconds)

    async def send(connection: Connection, index: int) -> Response:
        site, day = query(layout, index)
        return await connection.request(
            "GET",
            f"/api/v1/municipalities/{MUNICIPALITY}/availability?service=pas&site={site}"
            f"&from={layout.day(day)}&to={layout.day(day)}",
        )

    async def measure(contender: Contender, n: int) -> Figures:
        """RATE queries a second while BOOKING_RATE bookings a second flow."""

        async def book(connection: Connection, index: int) -> Response:
            return await connection.request(
                "POST",
                f"/api/v1/municipalities/{MUNICIPALITY}/bookings",
                booking_body(layout, n * per_round + index),
            )

        port = contender.server.port
        async with (
            connections("127.0.0.1", port, OPEN_LOOP_CONNECTIONS) as pool,
            connections("127.0.0.1", port, BOOKING_CONNECTIONS) as booking_pool,
        ):
            steady, booked = await asyncio.gather(
                open_loop(pool, RATE, seconds, send),
                open_loop(booking_pool, BOOKING_RATE, seconds, book),
            )
        answered[contender.name] += steady
        statuses[contender.name].update(a.status for a in booked)
        return {
            f"answer time at {RATE} q/s p50": percentile([a.seconds for a in steady], 0.5) * 1000,
            f"answer time at {RATE} q/s p99": percentile([a.seconds for a in steady], 0.99) * 1000,
        }

    answered: dict[str, list[Response]] = {"ours": [], "peer": []}
    statuses: dict[str, set[int]] = {"ours": set(), "peer": set()}
    server = await ServiceProcess.start("booking", space)
    try:
        check = await create_pool(space.database_url, max_size=1)
        total = layout.sites * layout.days * layout.slots
        await wait_until(check, "SELECT count(*) FROM availability_slot", total, 120)
        await check.close()
        async with peer(env, space, layout) as conventional:
            same = await same_answers(server.port, conventional.server.port, send, layout)
            async with connections("127.0.0.1", server.port, CONNECTIONS) as pool:
                await closed_loop(pool, send, count=200)  # warm up
                started = time.perf_counter()
                most = await closed_loop(pool, send, seconds=seconds)
                result.add("ours: most queries", len(most) / (time.perf_counter() - started), "q/s")
            measured = await alternate((ours(server), conventional), measure)
    finally:
        await server.stop()
    result.add(
        "baseline: the same query through asyncpg",
        await raw_queries_per_second(space, layout, seconds),
        "q/s",
    )
    add_comparison(result, measured, {name: "ms" for name in measured["ours"][0]})
    result.checks["every query answered 200 with every time while none was booked"] = all(
        a.status == 200 and len(a.json()) == layout.slots for a in most
    )
    result.checks["every query answered 200 while bookings flowed"] = all(
        a.status == 200 for name in answered for a in answered[name]
    )
    result.checks["every booking while querying answered 201"] = statuses == {
        "ours": {201},
        "peer": {201},
    }
    result.checks["the peer answers the same bytes as ours"] = same
    result.ratio("ours: most queries", "baseline: the same query through asyncpg")
    result.target(f"ours: answer time at {RATE} q/s p99", "<", 10)
    result.target_against_peer(f"answer time at {RATE} q/s p50", "<=")
    result.target_against_peer(f"answer time at {RATE} q/s p99", "<=")
    result.notes.append(
        f"{layout.slots} free times per answer; {CONNECTIONS} connections for the most, "
        f"{OPEN_LOOP_CONNECTIONS} at {RATE} q/s with {BOOKING_RATE} bookings/s beside"
    )


async def same_answers(ours_port: int, peer_port: int, send: Request, layout: Layout) -> bool:
    """Whether ours and the peer answer every site day's query with the same bytes."""
    async with (
        connections("127.0.0.1", ours_port, 1) as mine,
        connections("127.0.0.1", peer_port, 1) as theirs,
    ):
        for index in range(layout.sites * layout.days):
            if (await send(mine[0], index)).body != (await send(theirs[0], index)).body:
                return False
    return True
