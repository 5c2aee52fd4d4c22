"""HTTP route of the printable HTML period report."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from services.reporting.adapters.booking_report import UnknownMunicipality
from services.reporting.adapters.reports import Reports
from services.reporting.domain.report import Period
from services.reporting.entrypoints.html_report import PeriodReports, period_report_html
from services.reporting.entrypoints.http_common import (
    Municipality,
    SurveyHalf,
    not_found,
    resolve_period,
)
from services.reporting.settings import ReportingSettings


def html_reports_router(reports: Reports, settings: ReportingSettings) -> APIRouter:
    router = APIRouter()
    halves = settings.survey_halves

    @router.get("/municipalities/{municipality}/reports/period.html", response_class=HTMLResponse)
    async def period_report(
        municipality: Municipality, period: Annotated[Period, Query()], half: SurveyHalf = None
    ) -> HTMLResponse:
        """Waiting time, operations, lead time, satisfaction and SMS delivery of a period, with
        charts; made to be printed."""
        period = resolve_period(period, half, halves)
        try:
            figures = PeriodReports(
                waiting=await reports.bookings.waiting_time_report(
                    municipality, period, survey_half=half
                ),
                operations=await reports.operations.operations_report(municipality, period, half),
                satisfaction=await reports.satisfaction.satisfaction_report(
                    municipality, period, settings.goals_of(municipality), half
                ),
                lead_time=await reports.lead_time.lead_time_report(municipality, period, half),
                sms=await reports.sms.sms_report(municipality, period, half),
            )
        except UnknownMunicipality:
            raise not_found(municipality) from None
        # Drawing is CPU work: off the event loop.
        return HTMLResponse(await asyncio.to_thread(period_report_html, figures))

    return router
