"""Reads the operations report out of `report_booking` and `report_slot`: per site and service,
by appointment date, with the same period a year earlier."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from services.reporting.adapters.booking_report import ensure_known
from services.reporting.adapters.period_sql import in_municipality_and_period
from services.reporting.domain.operations import (
    Capacity,
    OperationsFigures,
    OperationsReport,
    SiteCapacity,
    SiteServiceOperations,
    compare,
    used_share,
    year_earlier,
)
from services.reporting.domain.report import Period

# Times on the period's Copenhagen dates ($2 and $3, both included, null = open).
STARTS_IN_PERIOD = in_municipality_and_period("starts_at")

OPERATIONS_SQL = f"""
SELECT
    site,
    service,
    grouping(site, service) AS grouping,
    count(*) AS bookings,
    count(*) FILTER (WHERE status = 'cancelled') AS cancellations,
    count(*) FILTER (WHERE status = 'cancelled' AND cancelled_in_bulk) AS bulk_cancellations,
    count(*) FILTER (WHERE outcome = 'no_show') AS no_shows,
    count(*) FILTER (WHERE acute) AS acute_bookings,
    count(*) FILTER (WHERE outcome = 'solved_online') AS solved_online,
    count(*) FILTER (WHERE outcome = 'completed') AS completed,
    avg(handling_minutes)::float8 AS handling_minutes_mean,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY handling_minutes) AS handling_minutes_median
FROM report_booking
{STARTS_IN_PERIOD}
GROUP BY GROUPING SETS ((site, service), ())
ORDER BY grouping, site, service
"""

CAPACITY_SQL = f"""
SELECT
    site,
    grouping(site) AS grouping,
    coalesce(sum(capacity + acute_capacity), 0) AS seats_offered,
    coalesce(sum(capacity + acute_capacity - seats_left - acute_seats_left), 0) AS seats_taken
FROM report_slot
{STARTS_IN_PERIOD}
  AND NOT closed
GROUP BY GROUPING SETS ((site), ())
ORDER BY grouping, site
"""

FIGURES = tuple(OperationsFigures.model_fields)


@dataclass
class OperationsReports:
    pool: asyncpg.Pool

    async def operations_report(
        self, municipality: str, period: Period, survey_half: str | None = None
    ) -> OperationsReport:
        earlier_period = year_earlier(period)
        async with self.pool.acquire() as connection:
            await ensure_known(connection, municipality)
            groups, total = await _figures(connection, municipality, period)
            capacity = await connection.fetch(CAPACITY_SQL, municipality, period.from_, period.to)
            earlier: dict[tuple[str, str], OperationsFigures] = {}
            earlier_total = None
            if earlier_period is not None:
                earlier, earlier_total = await _figures(connection, municipality, earlier_period)
        *sites, capacity_total = capacity
        return OperationsReport(
            municipality=municipality,
            period=period,
            survey_half=survey_half,
            year_earlier_period=earlier_period,
            by_site_and_service=[
                SiteServiceOperations(
                    site=site,
                    service=service,
                    figures=groups.get((site, service), OperationsFigures.zero()),
                    comparison=None
                    if earlier_period is None
                    else compare(
                        groups.get((site, service), OperationsFigures.zero()),
                        earlier.get((site, service), OperationsFigures.zero()),
                    ),
                )
                for site, service in sorted(groups.keys() | earlier.keys())
            ],
            capacity_by_site=[
                SiteCapacity(site=row["site"], **_capacity(row).model_dump()) for row in sites
            ],
            total=total,
            total_comparison=None if earlier_total is None else compare(total, earlier_total),
            total_capacity=_capacity(capacity_total),
        )


async def _figures(
    connection: asyncpg.Connection, municipality: str, period: Period
) -> tuple[dict[tuple[str, str], OperationsFigures], OperationsFigures]:
    *rows, total = await connection.fetch(OPERATIONS_SQL, municipality, period.from_, period.to)
    groups = {
        (row["site"], row["service"]): OperationsFigures(**{k: row[k] for k in FIGURES})
        for row in rows
    }
    return groups, OperationsFigures(**{k: total[k] for k in FIGURES})


def _capacity(row: asyncpg.Record) -> Capacity:
    offered, taken = row["seats_offered"], row["seats_taken"]
    return Capacity(seats_offered=offered, seats_taken=taken, used_share=used_share(offered, taken))
