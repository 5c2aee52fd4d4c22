"""The key figures a live dashboard shows, read from the reporting read model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from services.reporting.domain.working_days import COPENHAGEN

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

POSITION_SQL = "SELECT stream_seq FROM projection_position WHERE projection = 'reporting'"


class KeyFigures(BaseModel):
    model_config = ConfigDict(frozen=True)

    day: str = Field(description="The Copenhagen date the figures are of")
    booked_today: int
    cancelled_today: int
    appointments_today: int
    no_shows_today: int
    reporting_position: int = Field(
        description="The stream sequence the reporting read model had applied when read"
    )


@dataclass
class LiveFigures:
    pool: asyncpg.Pool

    async def key_figures(self, municipality: str, now: datetime) -> KeyFigures:
        today = now.astimezone(COPENHAGEN).date()
        async with self.pool.acquire() as connection:
            row = await connection.fetchrow(TODAY_SQL, municipality, today)
            position = await connection.fetchval(POSITION_SQL)
        return KeyFigures(day=today.isoformat(), reporting_position=position or 0, **dict(row))
