"""stampede: 1,000 concurrent booking attempts over HTTP for 100 seats, each attempt on its
own connection, against `borgerservice serve booking`: exactly 100 succeed, and the p99
answer time. Target: p99 under 2 s."""

from __future__ import annotations

import asyncio

from bench.availability import seed
from bench.environment import BenchEnvironment, ServiceProcess, Space
from bench.http_load import connections
from bench.lag import wait_until
from bench.report import ScenarioResult, add_latencies
from bench.world import MUNICIPALITY, Layout, booking_body
from infra.database import create_pool
from services.booking.settings import BookingSettings


def rush_body(layout: Layout, index: int) -> dict[str, object]:
    """An attempt at one of the first day's times; the second day stays free."""
    return {
        **booking_body(layout, index),
        "starts_at": layout.starts_at(0, index % layout.slots).isoformat(),
    }


async def run(env: BenchEnvironment, space: Space, result: ScenarioResult) -> None:
    attempts = env.size(1_000, 1_000)
    seats = max(1, attempts // 10)
    # The rush day's seats, and a second day for the refused attempts' alternatives.
    layout = Layout(sites=1, days=2, slots=max(1, seats // 10), capacity=min(10, seats))
    settings = BookingSettings(database_url=space.database_url, nats_url=space.nats_url)
    await asyncio.to_thread(seed, settings, layout)
    server = await ServiceProcess.start("booking", space)
    try:
        check = await create_pool(space.database_url, max_size=1)
        total = layout.sites * layout.days * layout.slots
        await wait_until(check, "SELECT count(*) FROM availability_slot", total, 60)
        await check.close()
        async with connections("127.0.0.1", server.port, attempts) as pool:
            answers = await asyncio.gather(
                *(
                    connection.request(
                        "POST",
                        f"/api/v1/municipalities/{MUNICIPALITY}/bookings",
                        rush_body(layout, index),
                    )
                    for index, connection in enumerate(pool)
                )
            )
    finally:
        await server.stop()
    seats = layout.slots * layout.capacity
    statuses = [a.status for a in answers]
    result.add("attempts", attempts, "")
    result.add("booked", statuses.count(201), "")
    result.add("refused with alternatives", statuses.count(409), "")
    add_latencies(result, "answer time", [a.seconds for a in answers])
    result.checks[f"exactly {seats} of {attempts} succeed"] = statuses.count(201) == seats
    result.checks["every other attempt refused (409)"] = statuses.count(409) == attempts - seats
    result.checks["every refusal offers alternatives"] = all(
        a.json()["alternatives"] for a in answers if a.status == 409
    )
    result.target("answer time p99", "<", 2000)
