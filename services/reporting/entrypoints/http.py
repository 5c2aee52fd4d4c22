"""HTTP routes of the reporting service, under `/api/v1`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from events.envelope import SLUG
from services.reporting.adapters.booking_report import BookingReports, UnknownMunicipality
from services.reporting.domain.report import DEFAULT_TARGET_WORKING_DAYS, BookingReport, Period


def reporting_router(reports: BookingReports) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["reports"])

    @router.get("/municipalities/{municipality}/reports/bookings")
    async def booking_report(
        municipality: Annotated[str, Path(pattern=SLUG)],
        period: Annotated[Period, Query()],
        target_working_days: Annotated[int, Query(ge=0, le=365)] = DEFAULT_TARGET_WORKING_DAYS,
    ) -> BookingReport:
        """Bookings, cancellations and waiting working days per site and service, and in total."""
        try:
            return await reports.booking_report(municipality, period, target_working_days)
        except UnknownMunicipality:
            raise HTTPException(
                404, detail=f"no bookings have been reported for municipality {municipality!r}"
            ) from None

    return router
