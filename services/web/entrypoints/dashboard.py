"""The staff dashboard: today's key figures from the reporting service's snapshot, rendered on
the server, kept live in the browser from its server-sent events; and the period report with
its charts."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from events.registry import EVENT_TYPES
from services.web import danish
from services.web.adapters.api import Api, ApiError, KeyFigures, StaffAuth
from services.web.entrypoints.pages import PageRoute, render
from services.web.entrypoints.staff import reports_only, staff_auth
from services.web.settings import WebSettings

Day = Annotated[date | None, Query()]
# The period report is the reporting service's document, framed by the dashboard: no script
# at all; its own inline styles and the charts' SVG style attributes are what it may bring.
REPORT_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


def dashboard_router(api: Api, settings: WebSettings) -> APIRouter:
    router = APIRouter(
        prefix="/staff/{municipality}", route_class=PageRoute, include_in_schema=False
    )

    async def snapshot(municipality: str, auth: StaffAuth) -> KeyFigures | None:
        """Today's figures now; None before reporting has seen anything of the municipality."""
        try:
            return await api.key_figures(municipality, auth)
        except ApiError as refused:
            if refused.status == 404:  # nothing reported yet, or an older reporting service
                return None
            raise

    @router.get("/dashboard")
    async def dashboard(
        request: Request,
        municipality: str,
        from_: Annotated[Day, Query(alias="from")] = None,
        to: Day = None,
    ) -> Response:
        """The figures of the page load, kept live by the script from the event stream."""
        auth = staff_auth(request, municipality)
        services, figures = await asyncio.gather(
            api.services(municipality), snapshot(municipality, auth)
        )
        last = to or danish.today()
        first = from_ or last - timedelta(days=30)
        return render(
            request,
            "staff/dashboard.html",
            municipality=municipality,
            account=auth.account,
            reports_only=reports_only(request),
            figures=figures or KeyFigures(),
            reported=figures is not None,
            services=services,
            event_types=sorted(EVENT_TYPES),
            period={"from": first.isoformat(), "to": last.isoformat()},
        )

    @router.get("/dashboard/figures")
    async def figures_now(request: Request, municipality: str) -> Response:
        """The snapshot as JSON, for the page's script to read again after a reconnect."""
        figures = await snapshot(municipality, staff_auth(request, municipality))
        return JSONResponse((figures or KeyFigures()).model_dump(mode="json"))

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
            shown: Response = HTMLResponse(await api.report_page(path, query, auth))
        except ApiError as refused:
            problem = "missing" if refused.route_missing else "empty"
            shown = render(request, "staff/report_missing.html", 200, problem=problem)
        shown.headers["Content-Security-Policy"] = REPORT_POLICY
        return shown

    return router
