"""Projections that apply a fetched batch at once (`apply_batch`) end with the same read model
as applying its events one by one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg

from bench.history import reporting_history
from events import Envelope, decode
from events.schedule import DayClosed, DayOpened, HoldReleased, SeatHeld, SeatReleased, SeatTaken
from infra.database import apply_schema
from infra.read_models import content_hash
from services.booking.adapters.availability import AvailabilityProjection
from services.reporting.adapters.booking_projection import ReportingProjection
from services.reporting.adapters.read_model import READ_MODEL
from tests.integration.test_availability_projection import DAY, T0, T1, T2, envelope, slot

HISTORY: list[Any] = [
    DayOpened(date=DAY, slots=[slot(T0, 2), slot(T1, 1), slot(T2, 2)]),
    SeatTaken(starts_at=T0, booking_id="b1", seats_left=1),
    SeatHeld(starts_at=T2, hold_id="h1", seats_left=1, expires_at=T0),
    SeatTaken(starts_at=T0, booking_id="b2", seats_left=0),
    SeatReleased(starts_at=T0, booking_id="b1", seats_left=1),
    DayClosed(
        date=DAY, closed_from=T1, closed_until=T1 + timedelta(minutes=1), reason="syg",
        by="mette", closed_at=T0,
    ),
    SeatTaken(starts_at=T1, booking_id="b3", seats_left=0),
    HoldReleased(starts_at=T2, hold_id="h1", seats_left=2, reason="expired"),
    SeatTaken(starts_at=T2, booking_id="b4", seats_left=1),
]  # fmt: skip


async def read_model(connection: asyncpg.Connection) -> list[tuple[Any, ...]]:
    rows = await connection.fetch(
        "SELECT starts_at, seats_left, closed FROM availability_slot ORDER BY starts_at"
    )
    return [tuple(row) for row in rows]


async def test_availability_applied_in_a_batch_equals_one_by_one(pool: asyncpg.Pool) -> None:
    await apply_schema(pool, "platform", "availability")
    events: list[Envelope[Any]] = [envelope(data, n) for n, data in enumerate(HISTORY, 1)]
    projection = AvailabilityProjection()
    async with pool.acquire() as connection:
        for event in events:
            await projection.apply(connection, event)
        one_by_one = await read_model(connection)
        await connection.execute("TRUNCATE availability_slot")
        await projection.apply_batch(connection, events)
        assert await read_model(connection) == one_by_one
    assert [(left, closed) for _, left, closed in one_by_one] == [(1, False), (0, True), (1, False)]


async def test_reporting_applied_in_a_batch_equals_one_by_one(pool: asyncpg.Pool) -> None:
    await apply_schema(pool, "platform", "reporting")
    events = [decode(message) for _, message in reporting_history(600)]
    assert {type(e.data).__name__ for e in events} >= {"BookingBooked", "BookingCancelled"}
    projection = ReportingProjection()
    async with pool.acquire() as connection:
        for event in events:
            await projection.apply(connection, event)
        one_by_one = await content_hash(connection, "public", READ_MODEL)
        for table in READ_MODEL.hashed_columns:
            await connection.execute(f"TRUNCATE {table}")
        for start in range(0, len(events), 100):
            await projection.apply_batch(connection, events[start : start + 100])
        assert await content_hash(connection, "public", READ_MODEL) == one_by_one
