"""The `reporting` projection: one `report_booking` row per booking with what became of it, the
survey answers, the seats at each time (see `seats_projection`), guarantee breaches, and each
municipality's waiting target.

Idempotent on its own, beside the runner's position: a booking row carries the aggregate version
it reflects, so a republished event (a new stream sequence, an old version) changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

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
        """As `apply` one by one, in a few statements: a run of new bookings and changes to
        bookings is written as one executemany of the new rows, then one of the changes in
        stream order. Any other event first writes the run gathered so far."""
        run = _Run()
        for event in events:
            data = event.data
            if isinstance(data, BookingBooked):
                run.booked.append(_booked_row(event, data))
            elif isinstance(data, BATCHED_CHANGES):
                run.changes.append((event, len(run.booked)))
            else:
                await run.write(connection)
                await self.apply(connection, event)
        await run.write(connection)


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


# New bookings' rows, as many as given, in one statement (arrays, one per column).
INSERT_BOOKED = """
    INSERT INTO report_booking (booking_id, municipality, site, service, channel,
        booked_at, starts_at, waiting_working_days, status, version, acute)
    SELECT booking_id, municipality, site, service, channel, booked_at, starts_at,
        waiting_working_days, 'booked', version, acute
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
        $6::timestamptz[], $7::timestamptz[], $8::integer[], $9::integer[], $10::boolean[])
        AS booked(booking_id, municipality, site, service, channel, booked_at, starts_at,
            waiting_working_days, version, acute)
    ON CONFLICT (booking_id) DO NOTHING
"""


async def _booked(
    connection: asyncpg.Connection, event: Envelope[Any], data: BookingBooked
) -> None:
    await _insert_booked(connection, [_booked_row(event, data)])


async def _insert_booked(connection: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Of several rows of one booking only the first is inserted, as one by one."""
    first: dict[UUID, tuple[Any, ...]] = {}
    for row in rows:
        first.setdefault(row[0], row)
    await connection.execute(INSERT_BOOKED, *_columns(first.values()))


def _columns(rows: Iterable[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


@dataclass
class _Run:
    """New bookings' rows, and changes to bookings with how many rows came before each."""

    booked: list[tuple[Any, ...]] = field(default_factory=list)
    changes: list[tuple[Envelope[Any], int]] = field(default_factory=list)

    async def write(self, connection: asyncpg.Connection) -> None:
        """The same outcome as applying the run's events one by one: a change sees its
        booking as stored before the run, or else as first booked earlier in the run."""
        stored = await _bookings(connection, {e.aggregate_id for e, _ in self.changes})
        first: dict[UUID, tuple[int, str, datetime]] = {}  # the row inserted of each booking
        for index, row in enumerate(self.booked):
            first.setdefault(row[0], (index, row[1], row[5]))
        rows = []
        for event, booked_before in self.changes:
            made = stored.get(event.aggregate_id)
            gathered = first.get(event.aggregate_id)
            if made is None and gathered is not None and gathered[0] < booked_before:
                made = gathered[1:]
            if made is None or made[0] != event.municipality:
                raise UnreportableEvent(f"{event.type} for unknown booking {event.aggregate_id}")
            rows.append(_change_row(event, made[1]))
        municipalities = {row[1] for row in self.booked} | {e.municipality for e, _ in self.changes}
        if self.booked:
            await _insert_booked(connection, self.booked)
        await _update_bookings(connection, rows)
        if municipalities:
            await connection.execute(
                "INSERT INTO report_municipality (municipality) SELECT unnest($1::text[]) "
                "ON CONFLICT DO NOTHING",
                sorted(municipalities),
            )
        self.booked.clear()
        self.changes.clear()


async def _bookings(
    connection: asyncpg.Connection, booking_ids: set[UUID]
) -> dict[UUID, tuple[str, datetime]]:
    """The municipality and booking time of each of these bookings, as stored now."""
    if not booking_ids:
        return {}
    rows = await connection.fetch(
        "SELECT booking_id, municipality, booked_at FROM report_booking "
        "WHERE booking_id = ANY($1::uuid[])",
        list(booking_ids),
    )
    return {r["booking_id"]: (r["municipality"], r["booked_at"]) for r in rows}


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


# Later events of bookings, at most one per booking, in one statement (arrays, one per
# column; NULL: that column stays as it is). Each applied only over an older version.
UPDATE_BOOKING = """
    UPDATE report_booking AS b SET
        starts_at = coalesce(c.starts_at, b.starts_at),
        waiting_working_days = coalesce(c.waiting, b.waiting_working_days),
        status = coalesce(c.status, b.status),
        cancelled_at = coalesce(c.cancelled_at, b.cancelled_at),
        cancelled_in_bulk = coalesce(c.bulk, b.cancelled_in_bulk),
        outcome = coalesce(c.outcome, b.outcome),
        handling_minutes = coalesce(c.minutes, b.handling_minutes),
        version = c.version,
        updated_at = now()
    FROM unnest($1::uuid[], $2::integer[], $3::timestamptz[], $4::integer[], $5::text[],
        $6::timestamptz[], $7::boolean[], $8::text[], $9::double precision[])
        AS c(booking_id, version, starts_at, waiting, status, cancelled_at, bulk, outcome, minutes)
    WHERE b.booking_id = c.booking_id AND b.version < c.version
"""


async def _update_bookings(connection: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> str:
    """Changes to bookings in order: a statement per round, each booking's first change in
    the first, its second in the next... Returns the last statement's status."""
    status = "UPDATE 0"
    while rows:
        now: list[tuple[Any, ...]] = []
        later: list[tuple[Any, ...]] = []
        seen: set[UUID] = set()
        for row in rows:
            (later if row[0] in seen else now).append(row)
            seen.add(row[0])
        status = await connection.execute(UPDATE_BOOKING, *_columns(now))
        rows = later
    return status


# The changes written in a run; a survey answer is applied alone (its own row is written only
# if the booking's row took the change).
BATCHED_CHANGES = (
    BookingRescheduled,
    BookingCancelled,
    BookingCompleted,
    BookingNoShow,
    BookingPreAssessed,
)


def _change_row(event: Envelope[Any], booked_at: datetime) -> tuple[Any, ...]:
    """A row of UPDATE_BOOKING for a later event of a booking made at `booked_at`."""
    data = event.data
    starts_at = waiting = status = cancelled_at = bulk = outcome = minutes = None
    if isinstance(data, BookingRescheduled):
        starts_at, waiting = data.starts_at, working_days_between(booked_at, data.starts_at)
    elif isinstance(data, BookingCancelled):
        status, cancelled_at, bulk = "cancelled", data.cancelled_at, data.bulk
    elif isinstance(data, BookingCompleted):
        outcome, minutes = "completed", data.handling_minutes
    elif isinstance(data, BookingNoShow):
        outcome = "no_show"
    elif isinstance(data, BookingPreAssessed):
        outcome = "solved_online" if data.outcome is PreAssessment.solved_online else None
    return (
        event.aggregate_id, event.aggregate_version,
        starts_at, waiting, status, cancelled_at, bulk, outcome, minutes,
    )  # fmt: skip


async def _booking_changed(connection: asyncpg.Connection, event: Envelope[Any], data: Any) -> None:
    changed = await _update_bookings(
        connection, [_change_row(event, await _booked_at(connection, event))]
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
