"""The staff dashboard: key figures rendered on the server, kept live in the browser from
the reporting service's server-sent events, and the period report with its charts."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse
from starlette.background import BackgroundTask

from events.registry import EVENT_TYPES
from services.web import danish
from services.web.adapters.api import Api, ApiError, FreeTime, Service, StaffAuth
from services.web.entrypoints.pages import PageRoute, render
from services.web.entrypoints.staff import staff_auth
from services.web.settings import WebSettings

Day = Annotated[date | None, Query()]


def dashboard_router(api: Api, settings: WebSettings) -> APIRouter:
    router = APIRouter(
        prefix="/staff/{municipality}", route_class=PageRoute, include_in_schema=False
    )

    async def first_free(municipality: str, service: Service) -> FreeTime | None:
        first = danish.today()
        found = await api.free_times(
            municipality, service.id, None, first, first + timedelta(days=settings.days_shown)
        )
        return found[0] if found else None

    async def todays_report(municipality: str, auth: StaffAuth) -> dict[str, Any]:
        try:
            return await api.booking_report(municipality, danish.today(), danish.today(), auth)
        except ApiError as refused:
            if refused.status == 404:  # nothing reported for the municipality yet
                return {}
            raise

    @router.get("/dashboard")
    async def dashboard(
        request: Request,
        municipality: str,
        from_: Annotated[Day, Query(alias="from")] = None,
        to: Day = None,
    ) -> Response:
        auth = staff_auth(request, municipality)
        services = await api.services(municipality)
        report, *firsts = await asyncio.gather(
            todays_report(municipality, auth), *(first_free(municipality, s) for s in services)
        )
        last = to or danish.today()
        first = from_ or last - timedelta(days=30)
        return render(
            request,
            "staff/dashboard.html",
            municipality=municipality,
            account=auth.account,
            total=report.get("total", {}),
            event_types=sorted(EVENT_TYPES),
            target=report.get("target_working_days"),
            first_free=list(zip(services, firsts, strict=True)),
            period={"from": first.isoformat(), "to": last.isoformat()},
        )

    @router.get("/dashboard/stream")
    async def live_figures(request: Request, municipality: str) -> Response:
        """The reporting service's event stream, passed through with the staff login, so the
        browser's EventSource needs neither the token nor another origin."""
        auth = staff_auth(request, municipality)
        resume = request.headers.get("last-event-id")  # a reconnecting browser misses nothing
        upstream = await api.open_event_stream(municipality, auth, resume)
        return StreamingResponse(
            upstream.aiter_bytes(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            background=BackgroundTask(upstream.aclose),
        )

    @router.get("/report")
    async def period_report(
        request: Request,
        municipality: str,
        from_: Annotated[Day, Query(alias="from")] = None,
        to: Day = None,
        half: str | None = None,
    ) -> Response:
        """The reporting service's printable period report, shown inside the dashboard."""
        auth = staff_auth(request, municipality)
        params = {"from": from_, "to": to, "half": half}
        query = {k: str(v) for k, v in params.items() if v is not None}
        path = settings.report_page_path.format(municipality=municipality)
        try:
            return HTMLResponse(await api.report_page(path, query, auth))
        except ApiError as refused:
            problem = "missing" if refused.route_missing else "empty"
            return render(request, "staff/report_missing.html", 200, problem=problem)

    return router
