"""How a citizen reaches their own booking: with a current manage token of it, and nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from infra.manage_token import ManageTokens, claimed_generation
from infra.staff_auth import staff_guard
from infra.staff_tokens import MAX_TTL
from services.booking.application import BookingApplication
from services.booking.commands import RevokeManageTokens
from services.booking.domain.booking import Booking
from services.booking.domain.errors import NotFound


def booking_token(tokens: ManageTokens, booking: Booking) -> str:
    """The manage token of the booking reply: valid for the tokens' lifetime from booking, the
    same however often the booking is asked for again under its Idempotency-Key."""
    return tokens.issue(booking.id, expires_at=booking.booked_at + tokens.lifetime)


async def owned_by_token(
    app: BookingApplication, tokens: ManageTokens, booking_id: UUID, token: str | None
) -> Booking:
    """The booking, if `token` is a current manage token of it. Forged, expired and revoked
    tokens and bookings that do not exist all get the same 404: nothing is revealed. The
    signature is checked before the booking is read, so garbage costs no database work."""
    refused = HTTPException(404, f"no booking {booking_id}")
    if not token:
        raise refused
    generation = claimed_generation(token)
    if not tokens.valid(booking_id, token, generation=generation):
        raise refused
    try:
        booking = await asyncio.to_thread(app.get_booking, booking_id)
    except NotFound:
        raise refused from None
    if booking.manage_generation != generation:  # issued before its links were revoked
        raise refused
    return booking


class NewManageLink(BaseModel):
    booking_id: UUID
    manage_token: str = Field(description="The only token that works from now on")
    manage_path: str = Field(description="The citizen's page, to send or read to them")


def manage_links_router(
    app: BookingApplication,
    tokens: ManageTokens,
    staff_keys: Mapping[str, str],
    max_lifetime: timedelta = MAX_TTL,
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/municipalities/{municipality}", tags=["staff"])
    staff_account = staff_guard(staff_keys, max_lifetime=max_lifetime)

    @router.post("/bookings/{booking_id}/manage-tokens/revoke", response_model=NewManageLink)
    async def revoke_manage_tokens(
        municipality: str, booking_id: UUID, account: str = Depends(staff_account)
    ) -> NewManageLink:
        """Every manage link of the booking issued so far (SMS links included) stops working,
        e.g. when a citizen shared theirs by mistake; the answer carries the new one. Later
        SMS reminders carry new links by themselves."""
        command = RevokeManageTokens(municipality=municipality, booking_id=booking_id, by=account)
        booking = await asyncio.to_thread(app.revoke_manage_tokens, command)
        token = tokens.issue(
            booking.id, appointment_at=booking.starts_at, generation=booking.manage_generation
        )
        return NewManageLink(
            booking_id=booking.id,
            manage_token=token,
            manage_path=f"/manage/{booking.id}?token={token}",
        )

    return router
