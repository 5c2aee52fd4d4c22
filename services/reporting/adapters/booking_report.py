"""Reads the booking and waiting-time reports out of `report_booking`, aggregated in PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from services.reporting.adapters.period_sql import in_municipality_and_period
from services.reporting.domain.report import (
    DEFAULT_TARGET_WORKING_DAYS,
    BookingCounts,
    BookingReport,
    Period,
    SiteServiceCounts,
    WaitingTime,
)
from services.reporting.domain.waiting_time import (
    TargetSource,
    WaitingFigures,
    WaitingGroup,
    WaitingTimeReport,
)

# Bookings made on the period's Copenhagen dates ($2 and $3, both included, null = open).
IN_MUNICIPALITY_AND_PERIOD = in_municipality_and_period("booked_at")

# One pass over the municipality's bookings: a row per group, then the total row (the highest
# grouping()), which the empty grouping set yields even when no booking matches.
# Waiting statistics count active bookings only.
REPORT_SQL = f"""
SELECT
    site,
    service,
    grouping(site, service) AS grouping,
    count(*) FILTER (WHERE status = 'booked') AS active_bookings,
    count(*) FILTER (WHERE status = 'cancelled') AS cancelled_bookings,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY waiting_working_days)
        FILTER (WHERE status = 'booked') AS median,
    avg(waiting_working_days) FILTER (WHERE status = 'booked')::float8 AS mean,
    avg((waiting_working_days <= $4)::int) FILTER (WHERE status = 'booked')::float8
        AS within_target_share
FROM report_booking
{IN_MUNICIPALITY_AND_PERIOD}
GROUP BY GROUPING SETS ((site, service), ())
ORDER BY grouping, site, service
"""

WAITING_TIME_SQL = f"""
SELECT
    site,
    service,
    channel,
    grouping(site, service, channel) AS grouping,
    count(*) AS bookings,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY waiting_working_days) AS median,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY waiting_working_days) AS p90,
    avg((waiting_working_days <= $4)::int)::float8 AS within_target_share
FROM report_booking
{IN_MUNICIPALITY_AND_PERIOD}
  AND status = 'booked'
GROUP BY GROUPING SETS ((site, service, channel), ())
ORDER BY grouping, site, service, channel
"""


class UnknownMunicipality(LookupError):
    """No event of this municipality has ever reached reporting."""


@dataclass
class BookingReports:
    pool: asyncpg.Pool

    async def booking_report(
        self, municipality: str, period: Period, target_override: int | None = None
    ) -> BookingReport:
        async with self.pool.acquire() as connection:
            target, _ = await _target(connection, municipality, target_override)
            rows = await connection.fetch(REPORT_SQL, municipality, period.from_, period.to, target)
        *groups, total = rows  # the total row is always there, and last
        return BookingReport(
            municipality=municipality,
            period=period,
            target_working_days=target,
            by_site_and_service=[
                SiteServiceCounts(site=row["site"], service=row["service"], **_counts(row))
                for row in groups
            ],
            total=BookingCounts(**_counts(total)),
        )

    async def waiting_time_report(
        self,
        municipality: str,
        period: Period,
        target_override: int | None = None,
        survey_half: str | None = None,
    ) -> WaitingTimeReport:
        async with self.pool.acquire() as connection:
            target, source = await _target(connection, municipality, target_override)
            rows = await connection.fetch(
                WAITING_TIME_SQL, municipality, period.from_, period.to, target
            )
        *groups, total = rows
        return WaitingTimeReport(
            municipality=municipality,
            period=period,
            survey_half=survey_half,
            target_working_days=target,
            target_source=source,
            by_site_service_and_channel=[
                WaitingGroup(
                    site=row["site"],
                    service=row["service"],
                    channel=row["channel"],
                    **_waiting(row),
                )
                for row in groups
            ],
            total=WaitingFigures(**_waiting(total)),
        )


async def ensure_known(connection: asyncpg.Connection, municipality: str) -> None:
    """Raises `UnknownMunicipality` unless an event of `municipality` has reached reporting."""
    known = await connection.fetchval(
        "SELECT 1 FROM report_municipality WHERE municipality = $1", municipality
    )
    if known is None:
        raise UnknownMunicipality(municipality)


async def target_of(
    connection: asyncpg.Connection, municipality: str, override: int | None = None
) -> tuple[int, TargetSource]:
    return await _target(connection, municipality, override)


async def _target(
    connection: asyncpg.Connection, municipality: str, override: int | None
) -> tuple[int, TargetSource]:
    """The caller's override, else the registered target, else the seeds' default."""
    row = await connection.fetchrow(
        "SELECT waiting_target_working_days FROM report_municipality WHERE municipality = $1",
        municipality,
    )
    if row is None:
        raise UnknownMunicipality(municipality)
    if override is not None:
        return override, TargetSource.query
    if row["waiting_target_working_days"] is not None:
        return row["waiting_target_working_days"], TargetSource.municipality
    return DEFAULT_TARGET_WORKING_DAYS, TargetSource.default


def _counts(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "active_bookings": row["active_bookings"],
        "cancelled_bookings": row["cancelled_bookings"],
        "waiting_working_days": WaitingTime(
            median=row["median"], mean=row["mean"], within_target_share=row["within_target_share"]
        ),
    }


def _waiting(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "bookings": row["bookings"],
        "median": row["median"],
        "p90": row["p90"],
        "within_target_share": row["within_target_share"],
    }
