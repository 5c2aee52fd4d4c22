"""Reads the satisfaction report out of `report_survey_answer`, by the date answers were given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from services.reporting.adapters.booking_report import ensure_known
from services.reporting.adapters.period_sql import in_municipality_and_period
from services.reporting.domain.report import Period
from services.reporting.domain.satisfaction import (
    SatisfactionFigures,
    SatisfactionGoals,
    SatisfactionReport,
    SiteServiceSatisfaction,
    goals_met,
)

SATISFACTION_SQL = f"""
SELECT
    site,
    service,
    grouping(site, service) AS grouping,
    count(*) AS responses,
    avg(satisfied_with_booking::int)::float8 AS satisfied_with_booking_share,
    avg(easy_to_find_time::int)::float8 AS easy_to_find_time_share,
    count(score) AS scored_responses,
    avg(score)::float8 AS mean_score
FROM report_survey_answer
{in_municipality_and_period("answered_at")}
GROUP BY GROUPING SETS ((site, service), ())
ORDER BY grouping, site, service
"""

FIGURES = tuple(SatisfactionFigures.model_fields)


@dataclass
class SatisfactionReports:
    pool: asyncpg.Pool

    async def satisfaction_report(
        self,
        municipality: str,
        period: Period,
        goals: SatisfactionGoals,
        survey_half: str | None = None,
    ) -> SatisfactionReport:
        async with self.pool.acquire() as connection:
            await ensure_known(connection, municipality)
            *rows, total_row = await connection.fetch(
                SATISFACTION_SQL, municipality, period.from_, period.to
            )
        total = SatisfactionFigures(**_figures(total_row))
        return SatisfactionReport(
            municipality=municipality,
            period=period,
            survey_half=survey_half,
            goals=goals,
            by_site_and_service=[
                SiteServiceSatisfaction(site=row["site"], service=row["service"], **_figures(row))
                for row in rows
            ],
            total=total,
            goals_met=goals_met(total, goals),
        )


def _figures(row: asyncpg.Record) -> dict[str, Any]:
    return {name: row[name] for name in FIGURES}
