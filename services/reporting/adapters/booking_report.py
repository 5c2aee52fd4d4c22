"""Reads the booking report out of `report_booking`, aggregated in PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from services.reporting.domain.report import (
    BookingCounts,
    BookingReport,
    Period,
    SiteServiceCounts,
    WaitingTime,
)

# One pass over the municipality's bookings: a row per (site, service), then the total row
# (grouping() = 3), which the empty grouping set yields even when no booking matches.
# Waiting statistics count active bookings only.
REPORT_SQL = """
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
WHERE municipality = $1
  AND ($2::date IS NULL OR (booked_at AT TIME ZONE 'Europe/Copenhagen')::date >= $2::date)
  AND ($3::date IS NULL OR (booked_at AT TIME ZONE 'Europe/Copenhagen')::date <= $3::date)
GROUP BY GROUPING SETS ((site, service), ())
ORDER BY grouping, site, service
"""


class UnknownMunicipality(LookupError):
    """No event of this municipality has ever reached reporting."""


@dataclass
class BookingReports:
    pool: asyncpg.Pool

    async def booking_report(
        self, municipality: str, period: Period, target_working_days: int
    ) -> BookingReport:
        async with self.pool.acquire() as connection:
            known = await connection.fetchval(
                "SELECT true FROM report_municipality WHERE municipality = $1", municipality
            )
            if not known:
                raise UnknownMunicipality(municipality)
            rows = await connection.fetch(
                REPORT_SQL, municipality, period.from_, period.to, target_working_days
            )
        *groups, total = rows  # the total row is always there, and last
        return BookingReport(
            municipality=municipality,
            period=period,
            target_working_days=target_working_days,
            by_site_and_service=[
                SiteServiceCounts(site=row["site"], service=row["service"], **_counts(row))
                for row in groups
            ],
            total=BookingCounts(**_counts(total)),
        )


def _counts(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "active_bookings": row["active_bookings"],
        "cancelled_bookings": row["cancelled_bookings"],
        "waiting_working_days": WaitingTime(
            median=row["median"], mean=row["mean"], within_target_share=row["within_target_share"]
        ),
    }
