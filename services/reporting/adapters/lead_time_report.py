"""Reads the lead-time report out of `report_lead_time` and `report_guarantee`, by the date the
lead time was observed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import asyncpg

from services.reporting.adapters.booking_report import target_of
from services.reporting.domain.lead_time import (
    DailyLeadTime,
    LeadTimeReport,
    SiteServiceLeadTime,
)
from services.reporting.domain.report import Period


def _observed_in_period(column: str) -> str:
    local = f"({column} AT TIME ZONE 'Europe/Copenhagen')::date"
    return f"""
WHERE municipality = $1
  AND ($2::date IS NULL OR {local} >= $2::date)
  AND ($3::date IS NULL OR {local} <= $3::date)
"""


# A sample with no free time at all counts as outside the target.
SUMMARY_SQL = f"""
SELECT
    site,
    service,
    count(*) AS samples,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY working_days) AS median_working_days,
    max(working_days) AS max_working_days,
    avg(coalesce(working_days <= $4, false)::int)::float8 AS within_target_share,
    (array_agg(first_free_at ORDER BY observed_at DESC))[1] AS latest_first_free_at,
    (array_agg(working_days ORDER BY observed_at DESC))[1] AS latest_working_days
FROM report_lead_time
{_observed_in_period("observed_at")}
GROUP BY site, service
"""

DAILY_SQL = f"""
SELECT
    site,
    service,
    (observed_at AT TIME ZONE 'Europe/Copenhagen')::date AS day,
    max(working_days) AS max_working_days,
    bool_or(first_free_at IS NULL) AS no_free_time
FROM report_lead_time
{_observed_in_period("observed_at")}
GROUP BY site, service, day
ORDER BY site, service, day
"""

BREACHES_SQL = f"""
SELECT coalesce(site, '') AS site, service, count(*) AS breaches
FROM report_guarantee
{_observed_in_period("observed_at")}
  AND kind = 'breached'
GROUP BY 1, service
"""


@dataclass
class LeadTimeReports:
    pool: asyncpg.Pool

    async def lead_time_report(
        self, municipality: str, period: Period, survey_half: str | None = None
    ) -> LeadTimeReport:
        window = (municipality, period.from_, period.to)
        async with self.pool.acquire() as connection:
            target, _ = await target_of(connection, municipality)
            summary = await connection.fetch(SUMMARY_SQL, *window, target)
            daily_rows = await connection.fetch(DAILY_SQL, *window)
            breach_rows = await connection.fetch(BREACHES_SQL, *window)
        summaries = {(row["site"], row["service"]): row for row in summary}
        breaches = {(row["site"], row["service"]): row["breaches"] for row in breach_rows}
        daily: dict[tuple[str, str], list[DailyLeadTime]] = defaultdict(list)
        for row in daily_rows:
            daily[row["site"], row["service"]].append(
                DailyLeadTime(
                    day=row["day"],
                    max_working_days=row["max_working_days"],
                    no_free_time=row["no_free_time"],
                )
            )
        return LeadTimeReport(
            municipality=municipality,
            period=period,
            survey_half=survey_half,
            target_working_days=target,
            by_site_and_service=[
                SiteServiceLeadTime(
                    site=site,
                    service=service,
                    **_summary(summaries.get((site, service))),
                    breaches=breaches.get((site, service), 0),
                    daily=daily.get((site, service), []),
                )
                for site, service in sorted(summaries.keys() | breaches.keys())
            ],
            breaches=sum(breaches.values()),
        )


def _summary(row: asyncpg.Record | None) -> dict[str, Any]:
    names = (
        "samples",
        "median_working_days",
        "max_working_days",
        "within_target_share",
        "latest_first_free_at",
        "latest_working_days",
    )
    if row is None:
        return {name: 0 if name == "samples" else None for name in names}
    return {name: row[name] for name in names}
