"""bus: a booking answered 201 over HTTP → its event delivered from JetStream (an ordered push
consumer in this process), p50, p99 and the most, at a steady 200 bookings per second; ours
(`borgerservice serve booking`, its relay in the process) and the peer in alternating rounds.
Targets (issue 20): p99 at most twice the peer's, and never more than 200 ms behind."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time

from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from bench.availability import seed
from bench.book import wait_for_stream
from bench.environment import BenchEnvironment, ServiceProcess, Space
from bench.http_load import Connection, Response, connections, open_loop
from bench.report import ScenarioResult, percentile
from bench.versus import ROUNDS, Contender, Figures, add_comparison, alternate, ours, peer
from bench.world import MUNICIPALITY, Layout, booking_body
from services.booking.settings import BookingSettings

RATE = 200  # bookings per second
CONNECTIONS = 32
LATENCY = "201 → delivered from JetStream"


async def run(env: BenchEnvironment, space: Space, result: ScenarioResult) -> None:
    seconds = env.seconds(2, 10)
    per_round = round(RATE * seconds)
    layout = Layout(sites=4, days=math.ceil(per_round * ROUNDS / (4 * 144)), slots=144, capacity=1)
    settings = BookingSettings(database_url=space.database_url, nats_url=space.nats_url)
    await asyncio.to_thread(seed, settings, layout)
    created: dict[str, int] = {}
    undelivered: dict[str, int] = {}

    async def measure(contender: Contender, n: int) -> Figures:
        answered: dict[str, float] = {}
        delivered: dict[str, float] = {}
        everything = asyncio.Event()

        async def on_event(message: Msg) -> None:
            delivered.setdefault(json.loads(message.data)["aggregate_id"], time.perf_counter())
            if len(delivered) >= len(answered) and not sending:
                everything.set()

        async def send(connection: Connection, index: int) -> Response:
            answer = await connection.request(
                "POST",
                f"/api/v1/municipalities/{MUNICIPALITY}/bookings",
                booking_body(layout, n * per_round + index),
            )
            if answer.status == 201:
                answered[answer.json()["booking_id"]] = time.perf_counter()
            return answer

        sending = True
        subscription = await space.js.subscribe(
            contender.booked_subject,
            cb=on_event,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
        )
        try:
            async with connections("127.0.0.1", contender.server.port, CONNECTIONS) as pool:
                await open_loop(pool, RATE, seconds, send)
            sending = False
            if len(delivered) < len(answered):
                with contextlib.suppress(TimeoutError):  # the checks say which were not
                    await asyncio.wait_for(everything.wait(), timeout=60)
        finally:
            await subscription.unsubscribe()
        created[contender.name] = created.get(contender.name, 0) + len(answered)
        undelivered[contender.name] = undelivered.get(contender.name, 0) + sum(
            booking not in delivered for booking in answered
        )
        lags = [max(0.0, delivered[b] - at) for b, at in answered.items() if b in delivered]
        return {
            f"{LATENCY} p50": percentile(lags, 0.50) * 1000,
            f"{LATENCY} p99": percentile(lags, 0.99) * 1000,
            f"{LATENCY}, the most": max(lags, default=0.0) * 1000,
        }

    server = await ServiceProcess.start("booking", space)
    try:
        opened = layout.sites * layout.days
        await wait_for_stream(space, f"bs.{MUNICIPALITY}.schedule.day_opened", opened)
        async with peer(env, space, layout) as conventional:
            contenders = (ours(server), conventional)
            measured = await alternate(contenders, measure)
            on_the_bus = {c.name: await c.booked_on_the_bus(space) for c in contenders}
    finally:
        await server.stop()
    units = {name: "ms" for name in measured["ours"][0]}
    add_comparison(result, measured, units, worst=(f"{LATENCY}, the most",))
    for name in ("ours", "peer"):
        result.checks[f"{name}: every 201 delivered"] = undelivered[name] == 0
        result.checks[f"{name}: each booking on the bus once"] = on_the_bus[name] == created[name]
    result.target_against_peer(f"{LATENCY} p99", "<=", 2.0)
    result.target(f"ours: {LATENCY}, the most", "<", 200)
    result.notes.append(
        f"{per_round:,} bookings per round at {RATE}/s over {CONNECTIONS} connections, "
        f"each on its own time; the most (over every round) is how far the relay fell behind"
    )
