"""Reads SMS delivery out of `report_sms`: the period report's SMS section and the dashboard's
figures of the day, by one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from services.reporting.adapters.booking_report import ensure_known
from services.reporting.domain.report import Period
from services.reporting.domain.sms_delivery import SmsDeliveryReport, SmsFigures, SmsKindFigures


def _on(column: str) -> str:
    """`column` falls on the period's Copenhagen dates ($2 and $3, both included, null = open)."""
    local = f"({column} AT TIME ZONE 'Europe/Copenhagen')::date"
    return (
        f"{column} IS NOT NULL AND ($2::date IS NULL OR {local} >= $2::date) "
        f"AND ($3::date IS NULL OR {local} <= $3::date)"
    )


SMS_SQL = f"""
SELECT
    kind,
    grouping(kind) AS grouping,
    count(*) FILTER (WHERE {_on("sent_at")}) AS sent,
    count(*) FILTER (WHERE {_on("delivered_at")}) AS delivered,
    count(*) FILTER (WHERE {_on("failed_at")}) AS failed,
    count(*) FILTER (WHERE {_on("sent_at")} AND delivered_at IS NOT NULL) AS sent_and_delivered
FROM report_sms
WHERE municipality = $1
GROUP BY GROUPING SETS ((kind), ())
ORDER BY grouping, kind
"""


async def sms_figures(
    connection: asyncpg.Connection, municipality: str, first: date | None, last: date | None
) -> tuple[list[SmsKindFigures], SmsFigures]:
    """Per kind with anything in the period, and in total."""
    *rows, total = await connection.fetch(SMS_SQL, municipality, first, last)
    by_kind = [
        SmsKindFigures(kind=row["kind"], **_figures(row))
        for row in rows
        if row["sent"] or row["delivered"] or row["failed"]
    ]
    return by_kind, SmsFigures(**_figures(total))


def _figures(row: asyncpg.Record) -> dict[str, Any]:
    sent = row["sent"]
    return {
        "sent": sent,
        "delivered": row["delivered"],
        "failed": row["failed"],
        "delivered_share": row["sent_and_delivered"] / sent if sent else None,
    }


@dataclass
class SmsDeliveryReports:
    pool: asyncpg.Pool

    async def sms_report(
        self, municipality: str, period: Period, survey_half: str | None = None
    ) -> SmsDeliveryReport:
        async with self.pool.acquire() as connection:
            await ensure_known(connection, municipality)
            by_kind, total = await sms_figures(connection, municipality, period.from_, period.to)
        return SmsDeliveryReport(
            municipality=municipality,
            period=period,
            survey_half=survey_half,
            by_kind=by_kind,
            total=total,
        )
