"""A projection runs one lane per municipality: a stuck municipality never holds up another,
and an upgraded deployment's lanes start where the projection's one runner was."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import asyncpg
from nats.js import JetStreamContext

from events import Envelope, encode
from events.schedule import DayOpened
from infra.projection import ProjectionRunner, lanes
from tests.support import eventually

MUNICIPALITIES = ("slagelse", "soroe")


class SeenDays:
    """Counts each municipality's days opened, in `seen_day`."""

    name = "seen"
    subjects: Sequence[str] = ("bs.*.schedule.*",)

    async def apply(self, connection: asyncpg.Connection, event: Envelope[Any]) -> None:
        await connection.execute(
            "INSERT INTO seen_day (municipality, days) VALUES ($1, 1) "
            "ON CONFLICT (municipality) DO UPDATE SET days = seen_day.days + 1",
            event.municipality,
        )


def day_opened(municipality: str) -> Envelope[DayOpened]:
    return Envelope[DayOpened](
        event_id=uuid4(),
        type=DayOpened.TYPE,
        schema_version=1,
        municipality=municipality,
        site="raadhuset",
        aggregate_id=uuid4(),
        aggregate_version=1,
        occurred_at=datetime.now(UTC),
        data=DayOpened(date=date(2030, 3, 4), slots=[]),
    )


async def publish(js: JetStreamContext, event: Envelope[Any]) -> int:
    ack = await js.publish(
        event.subject, encode(event), headers={"Nats-Msg-Id": str(event.event_id)}
    )
    return ack.seq


async def days(pool: asyncpg.Pool, municipality: str) -> int:
    return int(
        await pool.fetchval(
            "SELECT coalesce(max(days), 0) FROM seen_day WHERE municipality = $1", municipality
        )
    )


def runners(js: JetStreamContext, pool: asyncpg.Pool, **options: Any) -> Sequence[ProjectionRunner]:
    return lanes(SeenDays(), js, pool, MUNICIPALITIES, **options).runners


@contextlib.asynccontextmanager
async def running(workers: Sequence[ProjectionRunner]) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def test_a_municipality_stuck_on_a_row_lock_never_delays_another(
    js: JetStreamContext, pool: asyncpg.Pool
) -> None:
    await pool.execute("CREATE TABLE seen_day (municipality text PRIMARY KEY, days int)")
    await pool.execute("INSERT INTO seen_day VALUES ('soroe', 0)")
    async with pool.acquire() as holder, running(runners(js, pool)):
        locked = holder.transaction()
        await locked.start()
        try:  # Sorø's lane blocks on this row until the transaction ends
            await holder.execute("SELECT * FROM seen_day WHERE municipality = 'soroe' FOR UPDATE")
            await publish(js, day_opened("soroe"))
            await publish(js, day_opened("slagelse"))

            async def slagelse_applied() -> bool:
                return await days(pool, "slagelse") == 1

            await eventually(slagelse_applied, timeout=5)
            assert await days(pool, "soroe") == 0
        finally:
            await locked.rollback()
        await eventually(lambda: _soroe_applied(pool))  # released: Sorø's lane catches up


async def _soroe_applied(pool: asyncpg.Pool) -> bool:
    return await days(pool, "soroe") == 1


async def test_an_upgraded_projection_s_lanes_start_where_its_one_runner_was(
    js: JetStreamContext, pool: asyncpg.Pool
) -> None:
    await pool.execute("CREATE TABLE seen_day (municipality text PRIMARY KEY, days int)")
    applied_before = await publish(js, day_opened("slagelse"))  # applied by the one runner
    await pool.execute(
        "INSERT INTO projection_position (projection, stream_seq) VALUES ('seen', $1)",
        applied_before,
    )
    await publish(js, day_opened("slagelse"))
    await publish(js, day_opened("soroe"))
    async with running(runners(js, pool)):

        async def both_applied_once() -> bool:
            return (await days(pool, "slagelse"), await days(pool, "soroe")) == (1, 1)

        await eventually(both_applied_once)
    positions = dict(await pool.fetch("SELECT projection, stream_seq FROM projection_position"))
    assert positions == {"seen": applied_before, "seen-slagelse": 2, "seen-soroe": 3}
