"""HTTP routes of the operations, satisfaction, lead-time and SMS delivery reports, per period or
survey half."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.reporting.adapters.booking_report import UnknownMunicipality
from services.reporting.adapters.reports import Reports
from services.reporting.domain.lead_time import LeadTimeReport
from services.reporting.domain.operations import OperationsReport
from services.reporting.domain.report import Period
from services.reporting.domain.satisfaction import SatisfactionReport
from services.reporting.domain.sms_delivery import SmsDeliveryReport
from services.reporting.entrypoints.csv_export import CSV_MEDIA_TYPE, operations_csv
from services.reporting.entrypoints.http_common import (
    Municipality,
    SurveyHalf,
    csv_response_headers,
    not_found,
    resolve_period,
)
from services.reporting.settings import ReportingSettings


def period_reports_router(reports: Reports, settings: ReportingSettings) -> APIRouter:
    router = APIRouter()
    halves = settings.survey_halves

    async def operations(municipality: str, period: Period, half: str | None) -> OperationsReport:
        period = resolve_period(period, half, halves)
        try:
            return await reports.operations.operations_report(municipality, period, half)
        except UnknownMunicipality:
            raise not_found(municipality) from None

    @router.get("/municipalities/{municipality}/reports/operations")
    async def operations_report(
        municipality: Municipality, period: Annotated[Period, Query()], half: SurveyHalf = None
    ) -> OperationsReport:
        """Bookings, cancellations, no-shows, acute bookings, solved online, handling time and
        capacity used, for times in the period, per site and service; against a year earlier."""
        return await operations(municipality, period, half)

    @router.get(
        "/municipalities/{municipality}/reports/operations.csv",
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}}},
    )
    async def operations_report_csv(
        municipality: Municipality, period: Annotated[Period, Query()], half: SurveyHalf = None
    ) -> Response:
        """The operations report as CSV, one row per site and service, the total last."""
        report = await operations(municipality, period, half)
        name = f"operations-{report.municipality}-{report.survey_half or 'period'}.csv"
        return Response(
            operations_csv(report), media_type=CSV_MEDIA_TYPE, headers=csv_response_headers(name)
        )

    @router.get("/municipalities/{municipality}/reports/satisfaction")
    async def satisfaction_report(
        municipality: Municipality, period: Annotated[Period, Query()], half: SurveyHalf = None
    ) -> SatisfactionReport:
        """Survey answers given in the period: share satisfied with having to book, share who
        found it easy to find a time, response counts and mean score, against the goals."""
        period = resolve_period(period, half, halves)
        try:
            return await reports.satisfaction.satisfaction_report(
                municipality, period, settings.goals_of(municipality), half
            )
        except UnknownMunicipality:
            raise not_found(municipality) from None

    @router.get("/municipalities/{municipality}/reports/lead-time")
    async def lead_time_report(
        municipality: Municipality, period: Annotated[Period, Query()], half: SurveyHalf = None
    ) -> LeadTimeReport:
        """Working days to the first free time per site and service as citizens met it over the
        period (sampled at each schedule change), and the guarantee breaches."""
        period = resolve_period(period, half, halves)
        try:
            return await reports.lead_time.lead_time_report(municipality, period, half)
        except UnknownMunicipality:
            raise not_found(municipality) from None

    @router.get("/municipalities/{municipality}/reports/sms")
    async def sms_report(
        municipality: Municipality, period: Annotated[Period, Query()], half: SurveyHalf = None
    ) -> SmsDeliveryReport:
        """SMS messages sent, delivered and failed in the period (each on its own date), per
        kind of message, with the share of those sent that were delivered."""
        period = resolve_period(period, half, halves)
        try:
            return await reports.sms.sms_report(municipality, period, half)
        except UnknownMunicipality:
            raise not_found(municipality) from None

    return router
