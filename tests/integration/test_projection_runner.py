"""The durable consumer every service uses: redelivery changes nothing, bad messages are
dead-lettered with the reason and the consumer keeps going."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import asyncpg
from nats.js import JetStreamContext

from events import Envelope, decode, encode
from events.schedule import DayOpened, SeatTaken, Slot
from infra.projection import ProjectionRunner
from infra.streams import DEADLETTER_STREAM
from services.booking.adapters.availability import AvailabilityProjection
from tests.support import eventually

T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
T1 = datetime(2030, 3, 4, 9, 15, tzinfo=UTC)


def envelope(data: Any, version: int) -> Envelope[Any]:
    return Envelope[type(data)](  # type: ignore[misc]
        event_id=uuid4(),
        type=data.TYPE,
        schema_version=1,
        municipality="slagelse",
        site="korsoer",
        aggregate_id=uuid4(),
        aggregate_version=version,
        occurred_at=datetime.now(UTC),
        data=data,
    )


async def publish(js: JetStreamContext, event: Envelope[Any]) -> None:
    await js.publish(event.subject, encode(event), headers={"Nats-Msg-Id": str(event.event_id)})


DAY = DayOpened(
    date=date(2030, 3, 4),
    slots=[Slot(starts_at=T0, ends_at=T1, capacity=3, services=["pas"])],
)


async def seats_left(pool: asyncpg.Pool) -> int | None:
    value = await pool.fetchval("SELECT seats_left FROM availability_slot WHERE starts_at = $1", T0)
    return None if value is None else int(value)


async def test_a_redelivered_event_changes_nothing(
    js: JetStreamContext, pool: asyncpg.Pool
) -> None:
    runner = ProjectionRunner(AvailabilityProjection(), js, pool)
    subscription = await runner.bind()
    await publish(js, envelope(DAY, 1))
    await publish(js, envelope(SeatTaken(starts_at=T0, booking_id="b1", seats_left=2), 2))
    opened, taken = await subscription.fetch(2, timeout=2)
    await runner.handle(opened)
    # Applied and committed, but the acknowledgement is lost: the server delivers it again.
    assert await runner.apply(taken.metadata.sequence.stream, decode(taken.data))
    await taken.nak()
    await pool.execute("UPDATE availability_slot SET seats_left = 3")  # would show a re-apply
    [again] = await subscription.fetch(1, timeout=5)
    assert again.metadata.sequence.stream == taken.metadata.sequence.stream
    assert again.metadata.num_delivered == 2
    await runner.handle(again)
    assert await seats_left(pool) == 3


async def test_malformed_messages_are_dead_lettered_and_the_consumer_keeps_going(
    js: JetStreamContext, pool: asyncpg.Pool
) -> None:
    subject = "bs.slagelse.schedule.day_opened"
    await js.publish(subject, b"{not json", headers={"Nats-Msg-Id": "garbage"})
    incomplete = envelope(DAY, 1).model_dump(mode="json")
    del incomplete["data"]["slots"]
    await js.publish(
        subject, json.dumps(incomplete).encode(), headers={"Nats-Msg-Id": "incomplete"}
    )
    await publish(js, envelope(DAY, 1))
    stop = asyncio.Event()
    task = asyncio.create_task(ProjectionRunner(AvailabilityProjection(), js, pool).run(stop))

    async def applied() -> bool:
        return await seats_left(pool) == 3

    await eventually(applied)
    stop.set()
    await task
    dead = await js.pull_subscribe(
        "deadletter.availability", durable="inspect", stream=DEADLETTER_STREAM
    )
    reasons = [m.headers["Bs-Reason"] for m in await dead.fetch(2, timeout=2) if m.headers]
    assert reasons[0].startswith("not JSON")
    assert "data.slots" in reasons[1]
    assert "Field required" in reasons[1]


class RefusesVersion99(AvailabilityProjection):
    async def apply(self, connection: asyncpg.Connection, event: Envelope[Any]) -> None:
        if event.aggregate_version == 99:
            raise ValueError("refused")
        await super().apply(connection, event)


async def test_a_refused_event_in_a_batch_is_dead_lettered_and_the_rest_applied(
    js: JetStreamContext, pool: asyncpg.Pool
) -> None:
    await publish(js, envelope(DAY, 1))
    await publish(js, envelope(SeatTaken(starts_at=T0, booking_id="b1", seats_left=2), 2))
    await publish(js, envelope(SeatTaken(starts_at=T0, booking_id="bx", seats_left=0), 99))
    await publish(js, envelope(SeatTaken(starts_at=T0, booking_id="b2", seats_left=1), 3))
    runner = ProjectionRunner(RefusesVersion99(), js, pool, retry_delay=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))  # all four arrive in one fetched batch

    async def applied() -> bool:
        return await seats_left(pool) == 1

    await eventually(applied)
    stop.set()
    await task
    assert await pool.fetchval("SELECT stream_seq FROM projection_position") == 4
    dead = await js.pull_subscribe(
        "deadletter.availability", durable="inspect", stream=DEADLETTER_STREAM
    )
    [refused] = await dead.fetch(1, timeout=2)
    assert refused.headers is not None
    assert refused.headers["Bs-Reason"] == "ValueError: refused"
    assert refused.headers["Bs-Stream-Seq"] == "3"


class Recording(AvailabilityProjection):
    """Availability, plus a row per applied event: shows what was skipped."""

    @property
    def name(self) -> str:
        return "recording"

    async def apply(self, connection: asyncpg.Connection, event: Envelope[Any]) -> None:
        await connection.execute(
            "INSERT INTO recorded (version) VALUES ($1)", event.aggregate_version
        )
        await super().apply(connection, event)


async def test_messages_a_killed_instance_fetched_are_not_lost(
    js: JetStreamContext, pool: asyncpg.Pool
) -> None:
    """A process dies holding fetched, unacknowledged messages; the next one must apply them,
    not skip them when the server redelivers them behind later ones."""
    await pool.execute("CREATE TABLE recorded (version int NOT NULL)")
    await publish(js, envelope(DAY, 1))
    dead = ProjectionRunner(Recording(), js, pool, ack_wait=1)
    subscription = await dead.bind()
    [opened] = await subscription.fetch(1, timeout=2)
    await dead.handle(opened)  # applied and acknowledged
    for version, left in ((2, 2), (3, 1)):
        taken = SeatTaken(starts_at=T0, booking_id=f"b{version}", seats_left=left)
        await publish(js, envelope(taken, version))
    lost_in_flight = await subscription.fetch(1, timeout=2)  # fetched, never acknowledged
    assert [m.metadata.sequence.stream for m in lost_in_flight] == [2]
    await subscription.unsubscribe()  # the process is gone

    stop = asyncio.Event()
    task = asyncio.create_task(ProjectionRunner(Recording(), js, pool, ack_wait=1).run(stop))

    async def applied_all() -> bool:
        return await pool.fetchval("SELECT count(*) FROM recorded") >= 3

    try:
        await eventually(applied_all, timeout=10)
        await asyncio.sleep(1.5)  # past the ack wait: a redelivery would show now
    finally:
        stop.set()
        await task
    versions = [r["version"] for r in await pool.fetch("SELECT version FROM recorded")]
    assert sorted(versions) == [1, 2, 3]


async def test_a_second_instance_stands_by_and_takes_over(
    js: JetStreamContext, pool: asyncpg.Pool
) -> None:
    first_stop, second_stop = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(
        ProjectionRunner(AvailabilityProjection(), js, pool).run(first_stop)
    )
    second = asyncio.create_task(
        ProjectionRunner(AvailabilityProjection(), js, pool, standby_poll=0.1).run(second_stop)
    )
    try:
        await publish(js, envelope(DAY, 1))

        async def seats(expected: int) -> bool:
            return await seats_left(pool) == expected

        await eventually(lambda: seats(3))
        first_stop.set()
        await first
        assert not second.done()
        await publish(js, envelope(SeatTaken(starts_at=T0, booking_id="b1", seats_left=2), 2))
        await eventually(lambda: seats(2))
    finally:
        first_stop.set()
        second_stop.set()
        await asyncio.gather(first, second)
