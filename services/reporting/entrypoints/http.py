"""HTTP routes of the reporting service, under `/api/v1/municipalities/{municipality}`, for a
staff token of that municipality only: the booking and waiting-time reports here, the other
reports beside them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from infra.staff_auth import ClaimsCheck
from services.reporting.adapters.booking_report import UnknownMunicipality
from services.reporting.adapters.reports import Reports
from services.reporting.domain.report import BookingReport, Period
from services.reporting.domain.waiting_time import WaitingTimeReport
from services.reporting.entrypoints.csv_export import CSV_MEDIA_TYPE, waiting_time_csv
from services.reporting.entrypoints.http_common import (
    Municipality,
    SurveyHalf,
    csv_response_headers,
    not_found,
    resolve_period,
)
from services.reporting.entrypoints.http_html import html_reports_router
from services.reporting.entrypoints.http_period_reports import period_reports_router
from services.reporting.settings import ReportingSettings

TargetOverride = Annotated[
    int | None,
    Query(ge=0, le=365, description="Overrides the municipality's registered target"),
]


def reporting_router(
    reports: Reports, settings: ReportingSettings, reader: ClaimsCheck
) -> APIRouter:
    """`reader` admits staff of the path's municipality (401 without a genuine token, 404 with
    another municipality's)."""
    router = APIRouter(prefix="/api/v1", tags=["reports"], dependencies=[Depends(reader)])
    halves = settings.survey_halves

    @router.get("/municipalities/{municipality}/reports/bookings")
    async def booking_report(
        municipality: Municipality,
        period: Annotated[Period, Query()],
        target_working_days: TargetOverride = None,
    ) -> BookingReport:
        """Bookings, cancellations and waiting working days per site and service, and in total."""
        try:
            return await reports.bookings.booking_report(municipality, period, target_working_days)
        except UnknownMunicipality:
            raise not_found(municipality) from None

    async def waiting_time(
        municipality: str, period: Period, half: str | None, target_working_days: int | None
    ) -> WaitingTimeReport:
        period = resolve_period(period, half, halves)
        try:
            return await reports.bookings.waiting_time_report(
                municipality, period, target_working_days, survey_half=half
            )
        except UnknownMunicipality:
            raise not_found(municipality) from None

    @router.get("/municipalities/{municipality}/reports/waiting-time")
    async def waiting_time_report(
        municipality: Municipality,
        period: Annotated[Period, Query()],
        half: SurveyHalf = None,
        target_working_days: TargetOverride = None,
    ) -> WaitingTimeReport:
        """Median, 90th percentile and share within target of the working days waited, per
        site, service and channel, and in total."""
        return await waiting_time(municipality, period, half, target_working_days)

    @router.get(
        "/municipalities/{municipality}/reports/waiting-time.csv",
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}}},
    )
    async def waiting_time_report_csv(
        municipality: Municipality,
        period: Annotated[Period, Query()],
        half: SurveyHalf = None,
        target_working_days: TargetOverride = None,
    ) -> Response:
        """The waiting-time report as CSV, with a header row; the last row is the total."""
        report = await waiting_time(municipality, period, half, target_working_days)
        name = f"waiting-time-{report.municipality}-{report.survey_half or 'period'}.csv"
        return Response(
            waiting_time_csv(report),
            media_type=CSV_MEDIA_TYPE,
            headers=csv_response_headers(name),
        )

    router.include_router(period_reports_router(reports, settings))
    router.include_router(html_reports_router(reports, settings))
    return router
