"""HTTP routes of the booking service, under /api/v1. Thin: validate, build the command,
call the application in a worker thread, map domain errors to status codes."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.responses import JSONResponse, Response

from infra.manage_token import ManageTokens, citizen_actor
from services.booking.adapters.availability import KnownMunicipalities, free_times_json
from services.booking.application import BookingApplication
from services.booking.commands import BookTime, CancelBooking, RescheduleBooking
from services.booking.domain.errors import SlotFull
from services.booking.domain.opening_hours import COPENHAGEN
from services.booking.entrypoints.alternatives import alternative_times
from services.booking.entrypoints.manage_access import booking_token, owned_by_token
from services.booking.entrypoints.schemas import (
    BookingCreated,
    BookingRequest,
    BookingView,
    CalendarDate,
    CancelRequest,
    FreeTimeView,
    RescheduleRequest,
    ServiceView,
    SiteView,
    TimeTaken,
)

ManageToken = Annotated[str | None, Header(description="The manage token given at booking")]


def booking_router(
    app: BookingApplication, pool: asyncpg.Pool, tokens: ManageTokens, horizon_days: int = 60
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["booking"])

    async def alternatives(
        municipality: str, site: str, service: str, near: datetime
    ) -> list[FreeTimeView]:
        return await alternative_times(app, pool, municipality, site, service, near, horizon_days)

    async def owned_booking(booking_id: UUID, token: str | None) -> Any:
        return await owned_by_token(app, tokens, booking_id, token)

    @router.get("/municipalities/{municipality}/services", response_model=list[ServiceView])
    async def list_services(municipality: str) -> list[ServiceView]:
        found = await asyncio.to_thread(app.get_municipality, municipality)
        return [ServiceView.of(s) for s in found.services.values()]

    @router.get("/municipalities/{municipality}/sites", response_model=list[SiteView])
    async def list_sites(municipality: str) -> list[SiteView]:
        found = await asyncio.to_thread(app.get_municipality, municipality)
        return [SiteView.of(s) for s in found.sites.values()]

    known = KnownMunicipalities(app.get_municipality)

    @router.get("/municipalities/{municipality}/availability", response_model=list[FreeTimeView])
    async def availability(
        municipality: str,
        service: str | None = None,
        site: str | None = None,
        from_: Annotated[CalendarDate | None, Query(alias="from")] = None,
        to: CalendarDate | None = None,
    ) -> Response:
        await known.check(municipality)  # 404 if unknown
        now = datetime.now(COPENHAGEN)
        first = from_ or now.date()
        last = to or first + timedelta(days=14)
        if last < first:
            raise HTTPException(422, "'to' is before 'from'")
        found = await free_times_json(
            pool,
            municipality,
            service=service,
            site=site,
            # A time that has begun is not offered: booking it would be refused.
            start=max(datetime.combine(first, time.min, COPENHAGEN), now),
            end=datetime.combine(last + timedelta(days=1), time.min, COPENHAGEN),
        )
        # Written by PostgreSQL in FreeTimeView's JSON: the hot path of a rush.
        return Response(found, media_type="application/json")

    @router.post(
        "/municipalities/{municipality}/bookings",
        status_code=201,
        response_model=BookingCreated,
        responses={409: {"model": TimeTaken}},
    )
    async def book(
        municipality: str,
        request: BookingRequest,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> Any:
        command = BookTime(
            municipality=municipality, idempotency_key=idempotency_key, **request.model_dump()
        )
        try:
            booking = await asyncio.to_thread(app.book, command)
        except SlotFull as full:
            taken = TimeTaken(
                detail=str(full),
                alternatives=await alternatives(
                    municipality, request.site, request.service, request.starts_at
                ),
            )
            return JSONResponse(taken.model_dump(mode="json"), status_code=409)
        return BookingCreated(
            **BookingView.of(booking).model_dump(),
            manage_token=booking_token(tokens, booking),
        )

    @router.get("/bookings/{booking_id}", response_model=BookingView)
    async def get_booking(booking_id: UUID, x_manage_token: ManageToken = None) -> BookingView:
        return BookingView.of(await owned_booking(booking_id, x_manage_token))

    @router.post(
        "/bookings/{booking_id}/reschedule",
        response_model=BookingView,
        responses={409: {"model": TimeTaken}},
    )
    async def reschedule(
        booking_id: UUID, request: RescheduleRequest, x_manage_token: ManageToken = None
    ) -> Any:
        booking = await owned_booking(booking_id, x_manage_token)
        try:
            moved = await asyncio.to_thread(
                app.reschedule,
                RescheduleBooking(
                    booking_id=booking_id,
                    starts_at=request.starts_at,
                    by=citizen_actor(x_manage_token),
                ),
            )
        except SlotFull as full:
            taken = TimeTaken(
                detail=str(full),
                alternatives=await alternatives(
                    booking.municipality, booking.site, booking.service, request.starts_at
                ),
            )
            return JSONResponse(taken.model_dump(mode="json"), status_code=409)
        return BookingView.of(moved)

    @router.post("/bookings/{booking_id}/cancel", response_model=BookingView)
    async def cancel(
        booking_id: UUID, request: CancelRequest, x_manage_token: ManageToken = None
    ) -> BookingView:
        await owned_booking(booking_id, x_manage_token)
        cancelled = await asyncio.to_thread(
            app.cancel,
            CancelBooking(
                booking_id=booking_id,
                reason=request.reason,
                cancelled_by=citizen_actor(x_manage_token),
            ),
        )
        return BookingView.of(cancelled)

    return router
