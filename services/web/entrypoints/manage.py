"""The citizen's own booking, from the link in the SMS: see it, move it, cancel it, or wait
for an earlier time. The manage token in the link is the only proof needed."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Form, Request, Response
from pydantic import AwareDatetime

from services.web import danish
from services.web.adapters.api import Api, ApiError
from services.web.entrypoints.pages import PageRoute, render, see_other
from services.web.settings import WebSettings

Token = Annotated[str, Form()]
DONE = {"moved", "cancelled", "waitlist-join", "waitlist-leave", "waitlist-accept"}


def manage_router(api: Api, settings: WebSettings) -> APIRouter:
    router = APIRouter(route_class=PageRoute, include_in_schema=False)

    def back(booking_id: UUID, token: str, done: str) -> Response:
        query = urlencode({"token": token, "done": done})
        return see_other(f"/manage/{booking_id}?{query}")

    async def page(
        request: Request,
        booking_id: UUID,
        token: str,
        done: str = "",
        status_code: int = 200,
        refused: ApiError | None = None,
        problem: str = "",
    ) -> Response:
        booking = await api.booking(booking_id, token)
        free = []
        if booking.status == "booked":
            first = danish.today()
            last = first + timedelta(days=settings.days_shown - 1)
            found = await api.free_times(
                booking.municipality, booking.service, booking.site, first, last
            )
            free = [t for t in found if t.starts_at != booking.starts_at]
        return render(
            request,
            "manage.html",
            status_code,
            booking=booking,
            token=token,
            free=free,
            done=done if done in DONE else "",
            refused=refused,
            problem=problem,
        )

    @router.get("/manage/{booking_id}", name="manage_page")
    async def manage(request: Request, booking_id: UUID, token: str, done: str = "") -> Response:
        return await page(request, booking_id, token, done)

    @router.post("/manage/{booking_id}/reschedule")
    async def reschedule(
        request: Request,
        booking_id: UUID,
        token: Token,
        starts_at: Annotated[AwareDatetime, Form()],
    ) -> Response:
        try:
            await api.reschedule(booking_id, token, starts_at)
        except ApiError as refused:
            if refused.status in (404, 401):
                raise
            return await page(
                request, booking_id, token, status_code=refused.status, refused=refused
            )
        return back(booking_id, token, "moved")

    @router.post("/manage/{booking_id}/cancel")
    async def cancel(
        request: Request,
        booking_id: UUID,
        token: Token,
        confirm: Annotated[str, Form()] = "",
    ) -> Response:
        if confirm != "yes":
            return await page(request, booking_id, token, status_code=422, problem="confirm")
        await api.cancel(booking_id, token)
        return back(booking_id, token, "cancelled")

    @router.post("/manage/{booking_id}/waitlist")
    async def waitlist(
        request: Request, booking_id: UUID, token: Token, step: Annotated[str, Form()]
    ) -> Response:
        if step not in ("join", "leave", "accept"):
            return await page(request, booking_id, token, status_code=422, problem="waitlist")
        try:
            await api.waitlist(booking_id, token, step)
        except ApiError as refused:
            if refused.status == 404 and not refused.route_missing:
                raise
            problem = "waitlist-missing" if refused.route_missing else "waitlist"
            return await page(request, booking_id, token, status_code=409, problem=problem)
        return back(booking_id, token, f"waitlist-{step}")

    return router
