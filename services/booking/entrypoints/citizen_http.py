"""Citizen routes beyond booking itself: holding a time while typing, the waitlist for an
earlier time, and the survey after the visit. Booking actions need the manage token."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Header, Path, Response
from fastapi.responses import JSONResponse

from infra.manage_token import ManageTokens, citizen_actor
from services.booking.application import BookingApplication
from services.booking.commands import (
    HOLD_ID,
    AcceptOffer,
    AnswerSurvey,
    HoldTime,
    JoinWaitlist,
    LeaveWaitlist,
    ReleaseHold,
)
from services.booking.domain.booking import Booking
from services.booking.domain.errors import SlotFull
from services.booking.entrypoints.alternatives import alternative_times
from services.booking.entrypoints.manage_access import owned_by_token
from services.booking.entrypoints.schemas import (
    BookingView,
    HoldRequest,
    HoldView,
    SurveyAnswer,
    TimeTaken,
)

ManageToken = Annotated[str | None, Header(description="The manage token given at booking")]
HoldId = Annotated[str, Path(pattern=HOLD_ID, description="From POST …/holds")]


def citizen_router(
    app: BookingApplication, pool: asyncpg.Pool, tokens: ManageTokens, horizon_days: int = 60
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["booking"])

    async def owned(booking_id: UUID, token: str | None) -> Booking:
        """The booking, if `token` is a current manage token of it; 404 otherwise, the same
        for a booking that does not exist (a forged, expired or revoked token reveals nothing)."""
        return await owned_by_token(app, tokens, booking_id, token)

    @router.post(
        "/municipalities/{municipality}/holds",
        status_code=201,
        response_model=HoldView,
        responses={409: {"model": TimeTaken}},
    )
    async def hold(municipality: str, request: HoldRequest) -> Any:
        """Holds the time for a few minutes while the citizen enters name and phone."""
        command = HoldTime(municipality=municipality, **request.model_dump())
        try:
            hold_id, day = await asyncio.to_thread(app.hold, command)
        except SlotFull as full:
            taken = TimeTaken(
                detail=str(full),
                alternatives=await alternative_times(
                    app, pool, municipality, request.site, request.service, request.starts_at,
                    horizon_days,
                ),
            )  # fmt: skip
            return JSONResponse(taken.model_dump(mode="json"), status_code=409)
        return HoldView(
            hold_id=hold_id,
            site=request.site,
            service=request.service,
            starts_at=request.starts_at,
            expires_at=day.slot(request.starts_at).holds[hold_id],
        )

    @router.delete("/municipalities/{municipality}/holds/{hold_id}", status_code=204)
    async def release_hold(municipality: str, hold_id: HoldId) -> Response:
        command = ReleaseHold(municipality=municipality, hold_id=hold_id)
        await asyncio.to_thread(app.release_hold, command)
        return Response(status_code=204)

    @router.post("/bookings/{booking_id}/waitlist", response_model=BookingView)
    async def join_waitlist(booking_id: UUID, x_manage_token: ManageToken = None) -> BookingView:
        """Keep this time, and be offered an earlier one if it frees up."""
        await owned(booking_id, x_manage_token)
        command = JoinWaitlist(booking_id=booking_id, by=citizen_actor(x_manage_token))
        joined = await asyncio.to_thread(app.join_waitlist, command)
        return BookingView.of(joined)

    @router.delete("/bookings/{booking_id}/waitlist", response_model=BookingView)
    async def leave_waitlist(booking_id: UUID, x_manage_token: ManageToken = None) -> BookingView:
        await owned(booking_id, x_manage_token)
        command = LeaveWaitlist(booking_id=booking_id, by=citizen_actor(x_manage_token))
        left = await asyncio.to_thread(app.leave_waitlist, command)
        return BookingView.of(left)

    @router.post("/bookings/{booking_id}/waitlist/accept", response_model=BookingView)
    async def accept_offer(booking_id: UUID, x_manage_token: ManageToken = None) -> BookingView:
        """Takes the earlier time offered from the waitlist; the booking moves there."""
        await owned(booking_id, x_manage_token)
        command = AcceptOffer(booking_id=booking_id, by=citizen_actor(x_manage_token))
        moved = await asyncio.to_thread(app.accept_offer, command)
        return BookingView.of(moved)

    @router.post("/bookings/{booking_id}/survey", response_model=BookingView)
    async def answer_survey(
        booking_id: UUID,
        answer: SurveyAnswer,
        x_manage_token: ManageToken = None,
        token: str | None = None,
    ) -> BookingView:
        """The satisfaction survey after a completed visit; the SMS link carries the token."""
        await owned(booking_id, x_manage_token or token)
        command = AnswerSurvey(
            booking_id=booking_id,
            by=citizen_actor(x_manage_token or token),
            **answer.model_dump(),
        )
        return BookingView.of(await asyncio.to_thread(app.answer_survey, command))

    return router
