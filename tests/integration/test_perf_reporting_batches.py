"""The reporting projection writes a batch of events in a few statements (new bookings in one,
changes to bookings in one per round): the read model is the one that applying the events one
by one gives, whatever the batch boundaries, and a batch fails where one by one fails."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from events import Envelope
from events.booking import PreAssessment
from infra.database import apply_schema
from infra.read_models import content_hash
from services.reporting.adapters.booking_projection import ReportingProjection, UnreportableEvent
from services.reporting.adapters.read_model import READ_MODEL
from tests.reporting_world import (
    at,
    booked,
    cancelled,
    completed,
    day_opened,
    no_show,
    pre_assessed,
    registered,
    rescheduled,
    seat_taken,
    survey_answered,
)


def again(event: Envelope[Any], version: int) -> Envelope[Any]:
    return event.model_copy(update={"aggregate_version": version})


def every_kind() -> list[Envelope[Any]]:
    """Each later event of a booking, several changes of one booking close together, events
    republished (an older version again, a second `booked` of one booking), and other events
    in between."""
    moved, kept, missed, online, asked = (
        booked(uuid4(), "2025-03-03", f"2025-03-{day:02}") for day in (10, 11, 12, 13, 14)
    )
    offline = booked(uuid4(), "2025-03-04", "2025-03-17")
    second_booked = booked(moved.aggregate_id, "2025-03-01", "2025-03-20")  # ignored: first wins
    return [
        registered("slagelse", target_working_days=5),
        moved,
        kept,
        rescheduled(moved.aggregate_id, "2025-03-10", "2025-03-18"),
        second_booked,
        again(rescheduled(moved.aggregate_id, "2025-03-18", "2025-03-21"), 3),
        again(rescheduled(moved.aggregate_id, "2025-03-18", "2025-03-24"), 2),  # older: no
        missed,
        completed(kept, 12.5),
        day_opened("2025-03-12", ["09:00", "09:15"], seats=2),
        no_show(missed),
        online,
        offline,
        pre_assessed(online, PreAssessment.solved_online),
        pre_assessed(offline, PreAssessment.documents_missing),
        again(cancelled(moved.aggregate_id, "2025-03-21"), 4),
        asked,
        survey_answered(asked, "2025-03-15", satisfied=True, easy=False, score=4, version=2),
        seat_taken("2025-03-12", "09:00", 1, observed_at=at("2025-03-05")),
        cancelled(asked.aggregate_id, "2025-03-14", version=3, bulk=True),
        completed(kept, 30, version=2),  # republished: changes nothing
    ]


async def one_by_one(connection: asyncpg.Connection, events: list[Envelope[Any]]) -> str:
    for event in events:
        await ReportingProjection().apply(connection, event)
    return await content_hash(connection, "public", READ_MODEL)


async def emptied(connection: asyncpg.Connection) -> asyncpg.Connection:
    for table in READ_MODEL.hashed_columns:
        await connection.execute(f"TRUNCATE {table}")
    return connection


@pytest.mark.parametrize("size", [2, 3, 7, 100])
async def test_every_kind_of_booking_event_in_batches_equals_one_by_one(
    pool: asyncpg.Pool, size: int
) -> None:
    await apply_schema(pool, "platform", "reporting")
    events = every_kind()
    async with pool.acquire() as connection:
        expected = await one_by_one(connection, events)
        await emptied(connection)
        for start in range(0, len(events), size):
            await ReportingProjection().apply_batch(connection, events[start : start + size])
        assert await content_hash(connection, "public", READ_MODEL) == expected
        row = await connection.fetchrow(
            "SELECT status, starts_at::date::text AS day, version FROM report_booking "
            "WHERE booking_id = $1",
            events[1].aggregate_id,
        )
        assert dict(row) == {"status": "cancelled", "day": "2025-03-21", "version": 4}


async def test_a_change_before_its_booking_fails_the_batch_as_it_fails_alone(
    pool: asyncpg.Pool,
) -> None:
    await apply_schema(pool, "platform", "reporting")
    late = booked(uuid4(), "2025-03-03", "2025-03-10")
    early_change = cancelled(late.aggregate_id, "2025-03-10")
    other_municipality = booked(uuid4(), "2025-03-03", "2025-03-10", municipality="herning")
    wrong_place = cancelled(other_municipality.aggregate_id, "2025-03-10")  # says slagelse
    projection = ReportingProjection()
    async with pool.acquire() as connection:
        for refused in ([early_change, late], [other_municipality, wrong_place]):
            with pytest.raises(UnreportableEvent):
                await projection.apply(connection, refused[0])
                await projection.apply(connection, refused[1])
            await emptied(connection)
            with pytest.raises(UnreportableEvent):
                async with connection.transaction():
                    await projection.apply_batch(connection, refused)
            assert await connection.fetchval("SELECT count(*) FROM report_booking") == 0
            await emptied(connection)
