"""HTTP routes of the reporting service, under `/api/v1`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response

from events.envelope import SLUG
from services.reporting.adapters.booking_report import BookingReports, UnknownMunicipality
from services.reporting.domain.report import BookingReport, Period
from services.reporting.domain.survey_periods import MalformedPeriod, SurveyHalves
from services.reporting.domain.waiting_time import WaitingTimeReport
from services.reporting.entrypoints.csv_export import CSV_MEDIA_TYPE, waiting_time_csv

Municipality = Annotated[str, Path(pattern=SLUG)]
TargetOverride = Annotated[
    int | None,
    Query(ge=0, le=365, description="Overrides the municipality's registered target"),
]
SurveyHalf = Annotated[
    str | None,
    Query(description="A survey half instead of from/to, e.g. 2025-H1", examples=["2025-H1"]),
]


def _not_found(municipality: str) -> HTTPException:
    return HTTPException(
        404, detail=f"no events have been reported for municipality {municipality!r}"
    )


def reporting_router(reports: BookingReports, halves: SurveyHalves) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["reports"])

    @router.get("/municipalities/{municipality}/reports/bookings")
    async def booking_report(
        municipality: Municipality,
        period: Annotated[Period, Query()],
        target_working_days: TargetOverride = None,
    ) -> BookingReport:
        """Bookings, cancellations and waiting working days per site and service, and in total."""
        try:
            return await reports.booking_report(municipality, period, target_working_days)
        except UnknownMunicipality:
            raise _not_found(municipality) from None

    async def waiting_time(
        municipality: str, period: Period, half: str | None, target_working_days: int | None
    ) -> WaitingTimeReport:
        if half is not None:
            if period.from_ is not None or period.to is not None:
                raise HTTPException(422, detail="give either 'half' or 'from'/'to', not both")
            try:
                period = halves.labelled(half)
            except MalformedPeriod as error:
                raise HTTPException(422, detail=str(error)) from None
        try:
            return await reports.waiting_time_report(
                municipality, period, target_working_days, survey_half=half
            )
        except UnknownMunicipality:
            raise _not_found(municipality) from None

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
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return router
