"""stampede: 1,000 concurrent booking attempts over HTTP for 100 seats, each attempt on its
own connection, against `borgerservice serve booking` and against the peer, in alternating
rounds (each round rushes a day of its own): exactly 100 succeed, every other attempt is
refused with alternatives, and the p99 answer time and server CPU per attempt. Targets:
p99 under 2 s, and p99 and CPU per attempt no more than the peer's."""

from __future__ import annotations

import asyncio

from bench.availability import seed
from bench.environment import BenchEnvironment, ServiceProcess, Space
from bench.http_load import Response, connections
from bench.lag import wait_until
from bench.report import ScenarioResult, percentile
from bench.versus import (
    ROUNDS,
    Contender,
    Figures,
    add_comparison,
    alternate,
    ours,
    peer,
    quiet_cpu,
)
from bench.world import MUNICIPALITY, Layout, booking_body
from infra.database import create_pool
from services.booking.settings import BookingSettings


def rush_body(layout: Layout, day: int, index: int) -> dict[str, object]:
    """An attempt at one of `day`'s times (each its own citizen); the days after stay free."""
    return {
        **booking_body(layout, day * 10_000 + index),
        "starts_at": layout.starts_at(day, index % layout.slots).isoformat(),
    }


async def run(env: BenchEnvironment, space: Space, result: ScenarioResult) -> None:
    attempts = env.size(1_000, 1_000)
    seats = max(1, attempts // 10)
    # A rush day per round, and a day after them for the refused attempts' alternatives.
    layout = Layout(sites=1, days=ROUNDS + 1, slots=max(1, seats // 10), capacity=min(10, seats))
    seats = layout.slots * layout.capacity
    settings = BookingSettings(database_url=space.database_url, nats_url=space.nats_url)
    await asyncio.to_thread(seed, settings, layout)
    answers: dict[str, list[Response]] = {"ours": [], "peer": []}

    async def measure(contender: Contender, day: int) -> Figures:
        server = contender.server
        async with connections("127.0.0.1", server.port, attempts) as pool:
            cpu = server.cpu_seconds()
            rush = await asyncio.gather(
                *(
                    connection.request(
                        "POST",
                        f"/api/v1/municipalities/{MUNICIPALITY}/bookings",
                        rush_body(layout, day, index),
                    )
                    for index, connection in enumerate(pool)
                )
            )
            cpu = await quiet_cpu(server, cpu)  # with the work the rush left it
        answers[contender.name] += rush
        statuses = [a.status for a in rush]
        exact = f"{contender.name}: exactly {seats} of {attempts} succeed, every round"
        result.checks[exact] = result.checks.get(exact, True) and statuses.count(201) == seats
        return {
            "answer time p50": percentile([a.seconds for a in rush], 0.50) * 1000,
            "answer time p99": percentile([a.seconds for a in rush], 0.99) * 1000,
            "CPU per attempt": cpu / attempts * 1000,
        }

    server = await ServiceProcess.start("booking", space)
    try:
        check = await create_pool(space.database_url, max_size=1)
        total = layout.sites * layout.days * layout.slots
        await wait_until(check, "SELECT count(*) FROM availability_slot", total, 60)
        await check.close()
        async with peer(env, space, layout) as conventional:
            measured = await alternate((ours(server), conventional), measure)
    finally:
        await server.stop()
    result.add("attempts per round", attempts, "")
    result.add("seats per round", seats, "")
    add_comparison(result, measured, {name: "ms" for name in measured["ours"][0]})
    for name, given in answers.items():
        statuses = [a.status for a in given]
        result.checks[f"{name}: every other attempt refused (409)"] = statuses.count(409) == (
            attempts - seats
        ) * len(measured[name])
        result.checks[f"{name}: every refusal offers alternatives"] = all(
            a.json().get("alternatives") for a in given if a.status == 409
        )
    result.target("ours: answer time p99", "<", 2000)
    result.target_against_peer("answer time p99", "<=")
    result.target_against_peer("CPU per attempt", "<=")
