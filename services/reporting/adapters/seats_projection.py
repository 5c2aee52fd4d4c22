"""Reporting's own read model of the seats at each time (`report_slot`), from schedule events,
and the lead time to the first free time that a citizen met (`report_lead_time`), sampled after
every change that moved it.

Schedule events carry absolute seat counts, and each slot row keeps the site day's aggregate
version last applied: a republished event changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from events import Envelope
from events.schedule import (
    AcuteSeatsReleased,
    DayClosed,
    DayOpened,
    HoldReleased,
    SeatHeld,
    SeatReleased,
    SeatTaken,
)
from services.reporting.domain.working_days import working_days_between

SCHEDULE_EVENTS = (
    DayOpened,
    SeatTaken,
    SeatReleased,
    SeatHeld,
    HoldReleased,
    AcuteSeatsReleased,
    DayClosed,
)

SET_SEATS = """
UPDATE report_slot SET seats_left = $4, acute_seats_left = coalesce($5, acute_seats_left),
    version = $6
WHERE municipality = $1 AND site = $2 AND starts_at = $3 AND version < $6
"""

# Per service offered at the site after `observed_at`: the first time with a seat a citizen can
# book, beside the last sample taken of it. Each is one walk along a primary key (the site's
# slots from `observed_at`, the service's samples newest first): the slots ahead and the
# samples grow with history, and reading all of them on every schedule event made each event
# slower than the last (18.7 ms per event after a million events of history, now well under 1).
FIRST_FREE_SQL = """
SELECT s.service, f.first_free_at, l.observed_at IS NOT NULL AS sampled_before,
    l.first_free_at AS last_first_free_at, l.working_days AS last_working_days
FROM report_site_service s
LEFT JOIN LATERAL (
    SELECT r.starts_at AS first_free_at
    FROM report_slot r
    WHERE r.municipality = $1 AND r.site = $2 AND r.starts_at > $3
      AND r.seats_left > 0 AND NOT r.closed AND s.service = ANY(r.services)
    ORDER BY r.starts_at
    LIMIT 1
) f ON true
LEFT JOIN LATERAL (
    SELECT observed_at, first_free_at, working_days
    FROM report_lead_time
    WHERE municipality = $1 AND site = $2 AND service = s.service AND observed_at <= $3
    ORDER BY observed_at DESC
    LIMIT 1
) l ON true
WHERE s.municipality = $1 AND s.site = $2
  AND EXISTS (
      SELECT 1 FROM report_slot r
      WHERE r.municipality = $1 AND r.site = $2 AND r.starts_at > $3
        AND s.service = ANY(r.services)
  )
ORDER BY s.service
"""


async def apply_schedule(connection: asyncpg.Connection, event: Envelope[Any]) -> None:
    if event.site is None:
        raise ValueError(f"{event.type} {event.event_id} names no site")
    if await _apply_seats(connection, event):
        await sample_lead_times(connection, event.municipality, event.site, event.occurred_at)


async def _apply_seats(connection: asyncpg.Connection, event: Envelope[Any]) -> bool:
    """Applies the event to the slot rows; True if any changed."""
    data = event.data
    where = (event.municipality, event.site)
    version = event.aggregate_version
    if isinstance(data, DayOpened):
        await connection.executemany(
            """
            INSERT INTO report_slot (municipality, site, starts_at, ends_at, capacity,
                acute_capacity, services, seats_left, acute_seats_left, version)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $5, $6, $8)
            ON CONFLICT DO NOTHING
            """,
            [
                (
                    *where,
                    slot.starts_at,
                    slot.ends_at,
                    slot.capacity,
                    slot.acute_capacity,
                    slot.services,
                    version,
                )
                for slot in data.slots
            ],
        )
        await connection.execute(
            "INSERT INTO report_site_service (municipality, site, service) "
            "SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING",
            *where,
            sorted({service for slot in data.slots for service in slot.services}),
        )
        return True
    if isinstance(data, SeatTaken | SeatReleased):
        status = await connection.execute(
            SET_SEATS, *where, data.starts_at, data.seats_left, data.acute_seats_left, version
        )
        return bool(status != "UPDATE 0")
    if isinstance(data, SeatHeld | HoldReleased):
        status = await connection.execute(
            SET_SEATS, *where, data.starts_at, data.seats_left, None, version
        )
        return bool(status != "UPDATE 0")
    if isinstance(data, AcuteSeatsReleased):
        await connection.executemany(
            SET_SEATS, [(*where, s.starts_at, s.seats_left, 0, version) for s in data.slots]
        )
        return True
    if isinstance(data, DayClosed):
        status = await connection.execute(
            """
            UPDATE report_slot SET closed = true, version = $4
            WHERE municipality = $1 AND site = $2 AND version < $4
              AND (starts_at AT TIME ZONE 'Europe/Copenhagen')::date = $3
            """,
            *where,
            data.date,
            version,
        )
        return bool(status != "UPDATE 0")
    raise ValueError(f"not a schedule event: {event.type}")


async def sample_lead_times(
    connection: asyncpg.Connection, municipality: str, site: str, observed_at: datetime
) -> None:
    """Records, per service at the site, the first free time and the working days to it from
    `observed_at`, where either differs from the last sample."""
    rows = await connection.fetch(FIRST_FREE_SQL, municipality, site, observed_at)
    samples = []
    for row in rows:
        first_free_at = row["first_free_at"]
        days = None if first_free_at is None else working_days_between(observed_at, first_free_at)
        last = (row["last_first_free_at"], row["last_working_days"])
        if row["sampled_before"] and last == (first_free_at, days):
            continue
        samples.append((municipality, site, row["service"], observed_at, first_free_at, days))
    if samples:
        await connection.executemany(
            """
            INSERT INTO report_lead_time (municipality, site, service, observed_at,
                first_free_at, working_days)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT DO NOTHING
            """,
            samples,
        )
