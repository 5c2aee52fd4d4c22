"""The key figures a live dashboard shows, read from the reporting read models: the snapshot a
dashboard opens with, and the figures every frame of the live stream carries."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.reporting.adapters.booking_report import ensure_known, target_of
from services.reporting.adapters.sms_report import sms_figures
from services.reporting.domain.working_days import COPENHAGEN, working_days_between

TODAY_SQL = """
SELECT
    count(*) FILTER (WHERE (booked_at AT TIME ZONE 'Europe/Copenhagen')::date = $2)
        AS booked_today,
    count(*) FILTER (WHERE (cancelled_at AT TIME ZONE 'Europe/Copenhagen')::date = $2)
        AS cancelled_today,
    count(*) FILTER (WHERE (starts_at AT TIME ZONE 'Europe/Copenhagen')::date = $2)
        AS appointments_today,
    count(*) FILTER (WHERE (starts_at AT TIME ZONE 'Europe/Copenhagen')::date = $2
        AND outcome = 'no_show') AS no_shows_today
FROM report_booking
WHERE municipality = $1
"""

# Per service, at any of the municipality's sites: the first time after $2 with a seat left.
FIRST_FREE_SQL = """
SELECT service, min(starts_at) FILTER (WHERE seats_left > 0 AND NOT closed) AS first_free_at
FROM report_slot, unnest(services) AS service
WHERE municipality = $1 AND starts_at > $2
GROUP BY service
ORDER BY service
"""

POSITIONS_SQL = "SELECT projection, stream_seq FROM projection_position WHERE projection = ANY($1)"

REPORTING, REPORTING_SMS = "reporting", "reporting_sms"


class FirstFree(BaseModel):
    model_config = ConfigDict(frozen=True)

    starts_at: AwareDatetime | None = Field(description="None: no free time is open")
    working_days: int | None = Field(description="Working days from today to it")
    within_target: bool | None = Field(description="At most the municipality's waiting target")


class KeyFigures(BaseModel):
    model_config = ConfigDict(frozen=True)

    day: str = Field(description="The Copenhagen date the figures are of")
    booked_today: int
    cancelled_today: int
    appointments_today: int
    no_shows_today: int
    sms_sent_today: int
    sms_delivered_today: int
    sms_failed_today: int
    waiting_target_working_days: int
    first_free: dict[str, FirstFree] = Field(description="Per service id")
    reporting_position: int = Field(
        description="The BS_EVENTS stream sequence the reporting read model had applied"
    )
    sms_position: int = Field(
        description="The BS_SMS stream sequence the SMS delivery read model had applied"
    )


@dataclass
class LiveFigures:
    pool: asyncpg.Pool
    poll_seconds: float = 0.05

    async def key_figures(self, municipality: str, now: datetime) -> KeyFigures:
        """The figures of `now`'s Copenhagen day, read in one snapshot of the database."""
        today = now.astimezone(COPENHAGEN).date()
        async with (
            self.pool.acquire() as connection,
            connection.transaction(isolation="repeatable_read", readonly=True),
        ):
            row = await connection.fetchrow(TODAY_SQL, municipality, today)
            _, sms = await sms_figures(connection, municipality, today, today)
            target, _ = await target_of(connection, municipality)
            first_free = await connection.fetch(FIRST_FREE_SQL, municipality, now)
            rows = await connection.fetch(POSITIONS_SQL, [REPORTING, REPORTING_SMS])
        positions = {r["projection"]: r["stream_seq"] for r in rows}
        return KeyFigures(
            day=today.isoformat(),
            **dict(row),
            sms_sent_today=sms.sent,
            sms_delivered_today=sms.delivered,
            sms_failed_today=sms.failed,
            waiting_target_working_days=target,
            first_free={
                r["service"]: _first_free(now, r["first_free_at"], target) for r in first_free
            },
            reporting_position=positions.get(REPORTING, 0),
            sms_position=positions.get(REPORTING_SMS, 0),
        )

    async def snapshot(self, municipality: str, now: datetime) -> KeyFigures:
        """As `key_figures`; raises `UnknownMunicipality` if reporting never saw an event of it."""
        async with self.pool.acquire() as connection:
            await ensure_known(connection, municipality)
        return await self.key_figures(municipality, now)

    async def applied(self, projection: str, sequence: int, within: float) -> bool:
        """Waits until `projection` has applied stream sequence `sequence`, so that figures
        read next include it; False if it had not within `within` seconds."""
        deadline = time.monotonic() + within
        while True:
            position = await self.pool.fetchval(
                "SELECT stream_seq FROM projection_position WHERE projection = $1", projection
            )
            if position is not None and position >= sequence:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(self.poll_seconds)


def _first_free(now: datetime, starts_at: datetime | None, target: int) -> FirstFree:
    if starts_at is None:
        return FirstFree(starts_at=None, working_days=None, within_target=None)
    days = working_days_between(now, starts_at)
    return FirstFree(starts_at=starts_at, working_days=days, within_target=days <= target)
