"""The availability read model: which times are free, built from schedule events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
from infra.read_models import ReadModel
from services.booking.domain.opening_hours import COPENHAGEN

SET_SEATS_LEFT = (
    "UPDATE availability_slot SET seats_left = $4 "
    "WHERE municipality = $1 AND site = $2 AND starts_at = $3"
)


class AvailabilityProjection:
    """Seats citizens can book per time. Every schedule event carries `seats_left` as an
    absolute figure, so applying one again is harmless; the runner applies them in stream
    order. Acute seats are staff's: citizens never see them, so only `seats_left` is shown.
    Closed times (`day_closed`, all or part of a day) stay closed whatever seat changes
    follow, such as the seats their bulk cancellation gives back."""

    name = "availability"
    subjects = ("bs.*.schedule.*",)

    async def apply(self, connection: asyncpg.Connection, event: Envelope[Any]) -> None:
        data = event.data
        if isinstance(data, DayOpened):
            await connection.executemany(
                "INSERT INTO availability_slot "
                "(municipality, site, starts_at, ends_at, capacity, seats_left, services) "
                "VALUES ($1, $2, $3, $4, $5, $5, $6) ON CONFLICT DO NOTHING",
                [
                    (event.municipality, event.site, s.starts_at, s.ends_at, s.capacity, s.services)
                    for s in data.slots
                ],
            )
        elif isinstance(data, SeatTaken | SeatReleased | SeatHeld | HoldReleased):
            await connection.execute(
                SET_SEATS_LEFT, event.municipality, event.site, data.starts_at, data.seats_left
            )
        elif isinstance(data, AcuteSeatsReleased):
            await connection.executemany(
                SET_SEATS_LEFT,
                [(event.municipality, event.site, s.starts_at, s.seats_left) for s in data.slots],
            )
        elif isinstance(data, DayClosed):
            await connection.execute(
                "UPDATE availability_slot SET closed = true WHERE municipality = $1 "
                "AND site = $2 AND starts_at >= $3 AND starts_at < $4",
                event.municipality,
                event.site,
                data.closed_from,
                data.closed_until,
            )
        else:
            raise ValueError(f"availability cannot apply {event.type}")

    async def apply_batch(
        self, connection: asyncpg.Connection, events: Sequence[Envelope[Any]]
    ) -> None:
        """As `apply` one by one: a run of seat changes is written as one executemany, each
        time keeping its last figure (they are absolute)."""
        seats: dict[tuple[str, str | None, datetime], int] = {}
        for event in events:
            data = event.data
            if isinstance(data, SeatTaken | SeatReleased | SeatHeld | HoldReleased):
                seats[(event.municipality, event.site, data.starts_at)] = data.seats_left
                continue
            await _set_seats_left(connection, seats)
            await self.apply(connection, event)
        await _set_seats_left(connection, seats)


async def _set_seats_left(
    connection: asyncpg.Connection, seats: dict[tuple[str, str | None, datetime], int]
) -> None:
    if seats:
        await connection.executemany(
            SET_SEATS_LEFT, [(*slot, left) for slot, left in seats.items()]
        )
        seats.clear()


@dataclass(frozen=True)
class FreeTime:
    site: str
    starts_at: datetime
    ends_at: datetime
    seats_left: int


FREE_TIMES_SQL = (
    "SELECT site, starts_at, ends_at, seats_left FROM availability_slot "
    "WHERE municipality = $1 AND seats_left > 0 AND NOT closed "
    "AND starts_at >= $2 AND starts_at < $3 "
    "AND ($4::text IS NULL OR $4 = ANY(services)) AND ($5::text IS NULL OR site = $5) "
    "ORDER BY starts_at, site LIMIT $6"
)


def _local_iso(column: str) -> str:
    """SQL for `column` as pydantic writes an aware datetime in Copenhagen's time:
    2031-01-06T07:00:00+01:00 (whole seconds, as every slot time is; Copenhagen is always
    ahead of UTC, so the offset's sign is +)."""
    local = f"({column} AT TIME ZONE 'Europe/Copenhagen')"
    return (
        f"to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+' || "
        f"to_char({local} - ({column} AT TIME ZONE 'UTC'), 'HH24:MI')"
    )


FREE_TIMES_JSON_SQL = (
    "SELECT coalesce(json_agg(json_build_object('site', site, "
    f"'starts_at', {_local_iso('starts_at')}, 'ends_at', {_local_iso('ends_at')}, "
    "'seats_left', seats_left) ORDER BY starts_at, site), '[]')::text "
    f"FROM ({FREE_TIMES_SQL}) AS free"
)


async def free_times(
    pool: asyncpg.Pool,
    municipality: str,
    *,
    service: str | None,
    site: str | None,
    start: datetime,
    end: datetime,
    limit: int = 500,
) -> list[FreeTime]:
    rows = await pool.fetch(FREE_TIMES_SQL, municipality, start, end, service, site, limit)
    return [
        FreeTime(
            site=row["site"],
            starts_at=row["starts_at"].astimezone(COPENHAGEN),
            ends_at=row["ends_at"].astimezone(COPENHAGEN),
            seats_left=row["seats_left"],
        )
        for row in rows
    ]


async def free_times_json(
    pool: asyncpg.Pool,
    municipality: str,
    *,
    service: str | None,
    site: str | None,
    start: datetime,
    end: datetime,
    limit: int = 500,
) -> bytes:
    """The same free times as `free_times`, as the JSON array the API answers with, built by
    PostgreSQL: the hot path of a rush makes no Python object per time."""
    found: str = await pool.fetchval(
        FREE_TIMES_JSON_SQL, municipality, start, end, service, site, limit
    )
    return found.encode()


class KnownMunicipalities:
    """Whether a municipality exists, answered from memory once it has been found: a
    municipality is never removed, so a free-time query reads no aggregate. `lookup` raises
    for an unknown one (asked each time, so a newly registered one is found at once)."""

    def __init__(self, lookup: Callable[[str], object]) -> None:
        self._lookup = lookup
        self._known: set[str] = set()

    async def check(self, municipality: str) -> None:
        if municipality not in self._known:
            await asyncio.to_thread(self._lookup, municipality)
            self._known.add(municipality)


# What replay needs of it; the columns the history alone decides, for the content hash.
READ_MODEL = ReadModel(
    AvailabilityProjection,
    "availability",
    {
        "availability_slot": (
            "municipality", "site", "starts_at", "ends_at", "capacity", "seats_left", "services",
            "closed",
        )
    },
)  # fmt: skip
