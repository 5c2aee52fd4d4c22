"""HTTP routes of the regional report: the aggregate figures of the municipalities that share
them (REGIONAL_MUNICIPALITIES), side by side and in total.

Who may read it: a staff token with the `reporting` or `admin` role of a municipality that
shares its own figures in it. A municipality that keeps its figures to itself sees no one
else's; front-desk staff (`staff`) have their own municipality's dashboard, not the region's.
No token, or a forged or expired one, is a bare 401; any other genuine token is 403."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from infra.staff_auth import member_claims
from infra.staff_tokens import Role
from services.reporting.adapters.regional_report import regional_report
from services.reporting.adapters.reports import Reports
from services.reporting.domain.regional import RegionalReport
from services.reporting.domain.report import Period
from services.reporting.entrypoints.html_report import regional_report_html
from services.reporting.entrypoints.http_common import SurveyHalf, resolve_period
from services.reporting.settings import ReportingSettings

REGIONAL_ROLES = frozenset({Role.REPORTING, Role.ADMIN})


def regional_router(reports: Reports, settings: ReportingSettings) -> APIRouter:
    sharing = settings.regional_municipalities
    reader = member_claims(
        settings.staff_token_keys(), sharing, REGIONAL_ROLES, settings.staff_token_max_lifetime
    )
    router = APIRouter(prefix="/api/v1/regional", tags=["reports"], dependencies=[Depends(reader)])
    halves = settings.survey_halves

    async def regional(period: Period, half: str | None) -> RegionalReport:
        period = resolve_period(period, half, halves)
        return await regional_report(reports, sharing, period, half, settings.goals_of)

    @router.get("/reports/summary")
    async def regional_summary(
        period: Annotated[Period, Query()], half: SurveyHalf = None
    ) -> RegionalReport:
        """Aggregates of the municipalities that share them (REGIONAL_MUNICIPALITIES) only;
        for their `reporting` and `admin` roles."""
        return await regional(period, half)

    @router.get("/reports/summary.html", response_class=HTMLResponse)
    async def regional_summary_html(
        period: Annotated[Period, Query()], half: SurveyHalf = None
    ) -> HTMLResponse:
        report = await regional(period, half)
        return HTMLResponse(await asyncio.to_thread(regional_report_html, report))

    return router
