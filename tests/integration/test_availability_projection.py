"""The availability projection shows citizens the seats they can book: holds take a seat
while they last, acute seats stay hidden until released, closed times show as not free."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from nats.js import JetStreamContext
from pydantic import TypeAdapter

from events import Envelope, encode
from events.schedule import (
    AcuteSeatsReleased,
    DayClosed,
    DayOpened,
    HoldReleased,
    SeatHeld,
    SeatReleased,
    SeatTaken,
    Slot,
    SlotSeats,
)
from infra.projection import ProjectionRunner
from services.booking.adapters.availability import (
    AvailabilityProjection,
    free_times,
    free_times_json,
)
from services.booking.domain.opening_hours import COPENHAGEN
from services.booking.entrypoints.schemas import FreeTimeView
from tests.support import eventually, running_in_background

DAY = date(2030, 3, 4)
T0 = datetime(2030, 3, 4, 9, 0, tzinfo=COPENHAGEN)
T1 = T0 + timedelta(minutes=15)
T2 = T1 + timedelta(minutes=15)
NEXT_DAY = T0 + timedelta(days=1)
SITE_DAY = uuid4()


def envelope(data: Any, version: int, site: str = "korsoer") -> Envelope[Any]:
    return Envelope[type(data)](  # type: ignore[misc]
        event_id=uuid4(),
        type=data.TYPE,
        schema_version=1,
        municipality="slagelse",
        site=site,
        aggregate_id=SITE_DAY,
        aggregate_version=version,
        occurred_at=datetime.now(UTC),
        data=data,
    )


def slot(starts_at: datetime, capacity: int, acute: int = 0) -> Slot:
    return Slot(
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=15),
        capacity=capacity,
        services=["pas"],
        acute_capacity=acute,
    )


OPENED = DayOpened(date=DAY, slots=[slot(T0, 2, acute=1), slot(T1, 1), slot(T2, 1)])


@pytest.fixture
async def projected(js: JetStreamContext, pool: asyncpg.Pool) -> AsyncIterator[None]:
    """The availability projection running on the stream."""
    async with running_in_background(ProjectionRunner(AvailabilityProjection(), js, pool)):
        yield


async def project(js: JetStreamContext, pool: asyncpg.Pool, *events: Envelope[Any]) -> None:
    """Publishes `events` and waits until the projection applied them all."""
    last = 0
    for event in events:
        ack = await js.publish(
            event.subject, encode(event), headers={"Nats-Msg-Id": str(event.event_id)}
        )
        last = ack.seq

    async def applied() -> bool:
        position = await pool.fetchval(
            "SELECT stream_seq FROM projection_position WHERE projection = 'availability'"
        )
        return bool(position is not None and position >= last)

    await eventually(applied)


async def seats(pool: asyncpg.Pool, day: date = DAY) -> dict[datetime, int]:
    found = await free_times(
        pool,
        "slagelse",
        service="pas",
        site="korsoer",
        start=datetime.combine(day, datetime.min.time(), COPENHAGEN),
        end=datetime.combine(day + timedelta(days=1), datetime.min.time(), COPENHAGEN),
    )
    return {f.starts_at: f.seats_left for f in found}


async def test_acute_seats_are_invisible_until_released(
    js: JetStreamContext, pool: asyncpg.Pool, projected: None
) -> None:
    await project(js, pool, envelope(OPENED, 1))
    assert await seats(pool) == {T0: 2, T1: 1, T2: 1}
    taken = SeatTaken(starts_at=T0, booking_id="b1", seats_left=2, acute=True, acute_seats_left=0)
    await project(js, pool, envelope(taken, 2))
    assert await seats(pool) == {T0: 2, T1: 1, T2: 1}  # an acute seat went; citizens see none
    released = AcuteSeatsReleased(
        released_at=T0 - timedelta(hours=1),
        slots=[SlotSeats(starts_at=T1, seats_left=2), SlotSeats(starts_at=T2, seats_left=0)],
    )
    await project(js, pool, envelope(released, 3))
    assert await seats(pool) == {T0: 2, T1: 2}


async def test_a_held_seat_is_not_free_until_the_hold_ends(
    js: JetStreamContext, pool: asyncpg.Pool, projected: None
) -> None:
    held = SeatHeld(starts_at=T1, hold_id="h1", seats_left=0, expires_at=T0)
    await project(js, pool, envelope(OPENED, 1), envelope(held, 2))
    assert await seats(pool) == {T0: 2, T2: 1}
    expired = HoldReleased(starts_at=T1, hold_id="h1", seats_left=1, reason="expired")
    await project(js, pool, envelope(expired, 3))
    assert await seats(pool) == {T0: 2, T1: 1, T2: 1}


async def test_closed_times_show_as_not_free_even_as_their_seats_are_given_back(
    js: JetStreamContext, pool: asyncpg.Pool, projected: None
) -> None:
    next_day = DayOpened(date=DAY + timedelta(days=1), slots=[slot(NEXT_DAY, 1)])
    taken = SeatTaken(starts_at=T1, booking_id="b1", seats_left=0)
    closed = DayClosed(
        date=DAY,
        closed_from=T1,
        closed_until=T2 + timedelta(minutes=15),
        reason="vandskade",
        by="mette",
        closed_at=T0 - timedelta(days=1),
    )
    given_back = SeatReleased(starts_at=T1, booking_id="b1", seats_left=1)
    await project(
        js,
        pool,
        envelope(OPENED, 1),
        envelope(next_day, 1, site="korsoer"),
        envelope(taken, 2),
        envelope(closed, 3),
        envelope(given_back, 4),
    )
    assert await seats(pool) == {T0: 2}  # closed from T1 to the end of the day
    assert await seats(pool, DAY + timedelta(days=1)) == {NEXT_DAY: 1}  # other days unaffected


async def test_the_json_postgresql_writes_is_the_json_pydantic_would_write(
    pool: asyncpg.Pool,
) -> None:
    """The availability endpoint answers with JSON built in SQL (`free_times_json`): the same
    times, in the same order and format, as FreeTimeView's own JSON of `free_times`, in winter
    and summer time and across the change between them."""
    starts = [
        datetime(2031, 1, 6, 8, 0, tzinfo=COPENHAGEN),
        datetime(2031, 1, 6, 8, 0, tzinfo=COPENHAGEN),  # the same time at another site
        datetime(2031, 1, 6, 23, 45, tzinfo=COPENHAGEN),  # ends on the next day in UTC terms
        datetime(2031, 3, 29, 15, 0, tzinfo=COPENHAGEN),  # the day before summer time
        datetime(2031, 3, 30, 9, 15, tzinfo=COPENHAGEN),  # the first day of summer time
        datetime(2031, 10, 26, 10, 30, tzinfo=COPENHAGEN),  # the first day of winter time
    ]
    for index, starts_at in enumerate(starts):
        await pool.execute(
            "INSERT INTO availability_slot (municipality, site, starts_at, ends_at, capacity, "
            "seats_left, services) VALUES ('slagelse', $1, $2, $3, 3, $4, $5)",
            "korsoer" if index != 1 else "skaelskoer",
            starts_at,
            starts_at + timedelta(minutes=15),
            1 + index % 3,
            ["pas"] if index % 2 else ["pas", "mitid"],
        )
    start, end = datetime(2031, 1, 1, tzinfo=UTC), datetime(2032, 1, 1, tzinfo=UTC)
    views = TypeAdapter(list[FreeTimeView])
    for service, site in [(None, None), ("mitid", None), ("pas", "korsoer"), ("id", None)]:
        found = await free_times(pool, "slagelse", service=service, site=site, start=start, end=end)
        written = await free_times_json(
            pool, "slagelse", service=service, site=site, start=start, end=end
        )
        expected = views.dump_json([FreeTimeView(**vars(t)) for t in found])

        assert json.loads(written) == json.loads(expected)
    assert len(json.loads(await free_times_json(
        pool, "slagelse", service=None, site=None, start=start, end=end
    ))) == len(starts)  # fmt: skip
