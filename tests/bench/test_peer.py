"""The peer (`bench.peer`), served as the bench serves it, on a real PostgreSQL and
nats-server: it books exactly and relays every booking to JetStream once."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from bench.environment import Space
from bench.http_load import connections
from bench.versus import PEER_STREAM, peer_on
from bench.world import MUNICIPALITY, Layout, booking_body
from infra.nats_server import EmbeddedNats

BOOKINGS = f"/api/v1/municipalities/{MUNICIPALITY}/bookings"


@pytest.fixture
async def space(
    database_url: str,
    nats_server: EmbeddedNats,
    nc: NatsClient,
    js: JetStreamContext,
    tmp_path: Path,
) -> Space:
    """The empty database of the test, as the bench gives the peer its own."""
    return Space(database_url, nats_server.url, nc, js, tmp_path)


async def until(holds: Callable[[], Awaitable[bool]], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not await holds():
        assert time.monotonic() < deadline, "not within the timeout"
        await asyncio.sleep(0.05)


async def test_concurrent_bookings_of_a_time_with_n_seats_give_exactly_n_201s(
    space: Space,
) -> None:
    layout = Layout(sites=1, days=2, slots=1, capacity=5)
    same_time = booking_body(layout, 0)
    async with (
        peer_on(space.database_url, space, layout) as peer,
        connections("127.0.0.1", peer.server.port, 40) as pool,
    ):
        answers = await asyncio.gather(
            *(
                connection.request("POST", BOOKINGS, same_time | {"phone": f"+452610{n:04d}"})
                for n, connection in enumerate(pool)
            )
        )
    statuses = [a.status for a in answers]
    assert (statuses.count(201), statuses.count(409)) == (5, 35)
    # every refusal offers the next day's time, as ours does
    assert all(a.json()["alternatives"] for a in answers if a.status == 409)
    connection = await asyncpg.connect(space.database_url)
    try:
        assert (
            await connection.fetchval(
                "SELECT booked FROM slot WHERE starts_at = $1", layout.starts_at(0, 0)
            )
            == 5
        )
        assert await connection.fetchval("SELECT count(*) FROM booking") == 5
        assert await connection.fetchval("SELECT count(*) FROM outbox") == 5
    finally:
        await connection.close()


async def test_every_booking_is_on_the_bus_once_even_when_its_row_is_published_again(
    space: Space,
) -> None:
    layout = Layout(sites=2, days=1, slots=5, capacity=2)
    connection = await asyncpg.connect(space.database_url)
    try:
        async with peer_on(space.database_url, space, layout) as peer:
            async with connections("127.0.0.1", peer.server.port, 4) as pool:
                answers = [
                    await pool[n % 4].request("POST", BOOKINGS, booking_body(layout, n))
                    for n in range(layout.seats)
                ]
            assert [a.status for a in answers] == [201] * layout.seats

            async def all_sent() -> bool:
                unsent = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
                return bool(await connection.fetchval(unsent) == 0)

            await until(all_sent)
            assert await peer.booked_on_the_bus(space) == layout.seats
            # as after a crash between publishing and marking: every row is published again
            await connection.execute("UPDATE outbox SET sent_at = NULL")
            await until(all_sent)
            assert await peer.booked_on_the_bus(space) == layout.seats
    finally:
        await connection.close()
    stored = await space.js.pull_subscribe(peer.booked_subject, stream=PEER_STREAM)
    events = [json.loads(m.data) for m in await stored.fetch(layout.seats, timeout=5)]
    assert sorted(e["aggregate_id"] for e in events) == sorted(
        a.json()["booking_id"] for a in answers
    )
    assert {e["type"] for e in events} == {"booking.booked"}
