"""The `reporting` projection: one `report_booking` row per booking with what became of it, the
survey answers, the seats at each time (see `seats_projection`), guarantee breaches, and each
municipality's waiting target.

Idempotent on its own, beside the runner's position: a booking row carries the aggregate version
it reflects, so a republished event (a new stream sequence, an old version) changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from events import Envelope, subject_for
from events.booking import (
    BookingBooked,
    BookingCancelled,
    BookingCompleted,
    BookingNoShow,
    BookingPreAssessed,
    BookingRescheduled,
    BookingSurveyAnswered,
    PreAssessment,
)
from events.guarantee import WaitingTargetBreached, WaitingTargetRestored
from events.municipality import MunicipalityRegistered, WaitingTargetChanged
from services.reporting.adapters.seats_projection import SCHEDULE_EVENTS, apply_schedule
from services.reporting.domain.working_days import working_days_between


class UnreportableEvent(ValueError):
    """An event this projection cannot apply; the runner dead-letters it."""


BOOKING_EVENTS = (
    BookingBooked,
    BookingRescheduled,
    BookingCancelled,
    BookingCompleted,
    BookingNoShow,
    BookingPreAssessed,
    BookingSurveyAnswered,
)
HANDLED = (
    MunicipalityRegistered,
    WaitingTargetChanged,
    *BOOKING_EVENTS,
    *SCHEDULE_EVENTS,
    WaitingTargetBreached,
    WaitingTargetRestored,
)


class ReportingProjection:
    name: str = "reporting"
    subjects: Sequence[str] = tuple(subject_for("*", handled.TYPE) for handled in HANDLED)

    async def apply(self, connection: asyncpg.Connection, event: Envelope[Any]) -> None:
        data = event.data
        if isinstance(data, MunicipalityRegistered | WaitingTargetChanged):
            await _target_set(connection, event, data)
            return
        if isinstance(data, SCHEDULE_EVENTS):
            await apply_schedule(connection, event)
        elif isinstance(data, WaitingTargetBreached | WaitingTargetRestored):
            await _guarantee(connection, event, data)
        elif isinstance(data, BookingBooked):
            await _booked(connection, event, data)
        elif isinstance(data, BOOKING_EVENTS):
            await _booking_changed(connection, event, data)
        else:
            raise UnreportableEvent(f"reporting does not handle {event.type}")
        await connection.execute(
            "INSERT INTO report_municipality (municipality) VALUES ($1) ON CONFLICT DO NOTHING",
            event.municipality,
        )

    async def apply_batch(
        self, connection: asyncpg.Connection, events: Sequence[Envelope[Any]]
    ) -> None:
        """As `apply` one by one: a run of new bookings is inserted with one executemany."""
        booked: list[tuple[Any, ...]] = []
        for event in events:
            if isinstance(event.data, BookingBooked):
                booked.append(_booked_row(event, event.data))
                continue
            await _insert_booked(connection, booked)
            await self.apply(connection, event)
        await _insert_booked(connection, booked)


async def _target_set(
    connection: asyncpg.Connection,
    event: Envelope[Any],
    data: MunicipalityRegistered | WaitingTargetChanged,
) -> None:
    name = data.name if isinstance(data, MunicipalityRegistered) else None
    await connection.execute(
        """
        INSERT INTO report_municipality (municipality, name, waiting_target_working_days)
        VALUES ($1, $2, $3)
        ON CONFLICT (municipality) DO UPDATE
        SET name = coalesce(EXCLUDED.name, report_municipality.name),
            waiting_target_working_days = EXCLUDED.waiting_target_working_days
        """,
        event.municipality,
        name,
        data.waiting_target_working_days,
    )


INSERT_BOOKED = """
    INSERT INTO report_booking (booking_id, municipality, site, service, channel,
        booked_at, starts_at, waiting_working_days, status, version, acute)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'booked', $9, $10)
    ON CONFLICT (booking_id) DO NOTHING
"""


async def _booked(
    connection: asyncpg.Connection, event: Envelope[Any], data: BookingBooked
) -> None:
    await connection.execute(INSERT_BOOKED, *_booked_row(event, data))


async def _insert_booked(connection: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    """New bookings' rows, and their municipalities', in one executemany each."""
    if rows:
        await connection.executemany(INSERT_BOOKED, rows)
        await connection.executemany(
            "INSERT INTO report_municipality (municipality) VALUES ($1) ON CONFLICT DO NOTHING",
            [(municipality,) for municipality in sorted({row[1] for row in rows})],
        )
        rows.clear()


def _booked_row(event: Envelope[Any], data: BookingBooked) -> tuple[Any, ...]:
    if event.site is None:
        raise UnreportableEvent(f"booking.booked {event.event_id} names no site")
    return (
        event.aggregate_id,
        event.municipality,
        event.site,
        data.service,
        data.channel.value,
        data.booked_at,
        data.starts_at,
        working_days_between(data.booked_at, data.starts_at),
        event.aggregate_version,
        data.acute,
    )


# What each later event of a booking sets on its row ($3, $4 ... are the values).
CHANGES: dict[type, str] = {
    BookingRescheduled: "starts_at = $3, waiting_working_days = $4",
    BookingCancelled: "status = 'cancelled', cancelled_at = $3, cancelled_in_bulk = $4",
    BookingCompleted: "outcome = 'completed', handling_minutes = $3",
    BookingNoShow: "outcome = 'no_show'",
    BookingPreAssessed: "outcome = CASE WHEN $3 THEN 'solved_online' ELSE outcome END",
    BookingSurveyAnswered: "",  # the answer has its own table; the row only moves its version
}


async def _booking_changed(connection: asyncpg.Connection, event: Envelope[Any], data: Any) -> None:
    booked_at = await _booked_at(connection, event)
    values: tuple[Any, ...] = ()
    if isinstance(data, BookingRescheduled):
        values = (data.starts_at, working_days_between(booked_at, data.starts_at))
    elif isinstance(data, BookingCancelled):
        values = (data.cancelled_at, data.bulk)
    elif isinstance(data, BookingCompleted):
        values = (data.handling_minutes,)
    elif isinstance(data, BookingPreAssessed):
        values = (data.outcome is PreAssessment.solved_online,)
    assignments = ", ".join(
        filter(None, (CHANGES[type(data)], "version = $2", "updated_at = now()"))
    )
    changed = await connection.execute(
        f"UPDATE report_booking SET {assignments} WHERE booking_id = $1 AND version < $2",
        event.aggregate_id,
        event.aggregate_version,
        *values,
    )
    if isinstance(data, BookingSurveyAnswered) and changed != "UPDATE 0":
        await _survey_answered(connection, event, data)


async def _survey_answered(
    connection: asyncpg.Connection, event: Envelope[Any], data: BookingSurveyAnswered
) -> None:
    await connection.execute(
        """
        INSERT INTO report_survey_answer (booking_id, municipality, site, service, answered_at,
            satisfied_with_booking, easy_to_find_time, score)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (booking_id) DO NOTHING
        """,
        event.aggregate_id,
        event.municipality,
        event.site,
        data.service,
        data.answered_at,
        data.satisfied_with_booking,
        data.easy_to_find_time,
        data.score,
    )


async def _booked_at(connection: asyncpg.Connection, event: Envelope[Any]) -> datetime:
    """When the booking was made; its `booked` event always comes first in stream order."""
    booked_at = await connection.fetchval(
        "SELECT booked_at FROM report_booking WHERE booking_id = $1 AND municipality = $2",
        event.aggregate_id,
        event.municipality,
    )
    if booked_at is None:
        raise UnreportableEvent(f"{event.type} for unknown booking {event.aggregate_id}")
    return booked_at


async def _guarantee(
    connection: asyncpg.Connection,
    event: Envelope[Any],
    data: WaitingTargetBreached | WaitingTargetRestored,
) -> None:
    await connection.execute(
        """
        INSERT INTO report_guarantee (event_id, municipality, site, service, kind, observed_at,
            working_days, target_working_days)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (event_id) DO NOTHING
        """,
        event.event_id,
        event.municipality,
        event.site,
        data.service,
        "breached" if isinstance(data, WaitingTargetBreached) else "restored",
        data.observed_at,
        data.working_days,
        data.target_working_days,
    )
