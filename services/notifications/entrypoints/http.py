"""HTTP routes of the notifications service, under /api/v1: the gateway's delivery receipts,
and citizens opting out of (or back into) SMS. Thin: check who calls, validate, record."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import asyncpg
from fastapi import APIRouter, Header, HTTPException
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from infra.staff_auth import BOOKING_ROLES, staff_claims
from infra.staff_tokens import MAX_TTL
from services.notifications.adapters import opt_outs, receipts
from services.notifications.adapters.receipts import DeliveryStatus, Receipt, UnknownMessage
from services.notifications.domain.phone import InvalidPhone, normalise_phone

Authorization = Annotated[str | None, Header(description="Bearer <secret>")]


class DeliveryReceipt(BaseModel):
    """What the gateway posts when it knows whether a message reached the phone."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200, description="The gateway's message id")
    reference: str | None = Field(
        default=None, max_length=200, description="The idempotency key the message was sent with"
    )
    status: Literal["delivered", "failed"]
    reason: str | None = Field(default=None, max_length=1000)
    at: AwareDatetime | None = Field(default=None, description="When; now if not given")


class ReceiptRecorded(BaseModel):
    recorded: bool = Field(description="False when this message already had a receipt")


class OptOutView(BaseModel):
    municipality: str
    phone: str
    opted_out: bool


def _bearer_matches(authorization: str | None, secret: str | None) -> bool:
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not secret or not given:
        return False
    return hmac.compare_digest(given.encode(), secret.encode())


def notifications_router(
    pool: asyncpg.Pool,
    callback_secret: str | None,
    staff_tokens: dict[str, str],
    max_lifetime: timedelta = MAX_TTL,
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["sms"])

    def require_gateway(authorization: str | None) -> None:
        if not _bearer_matches(authorization, callback_secret):
            raise HTTPException(401, "the SMS gateway's callback secret is required")

    staff_of = staff_claims(staff_tokens, BOOKING_ROLES, max_lifetime)

    async def require_staff_or_gateway(municipality: str, authorization: str | None) -> None:
        """The gateway (forwarding a citizen's STOP), or the municipality's staff or admin with
        a signed staff token, refused as every staff route refuses (infra/staff_auth.py)."""
        if not _bearer_matches(authorization, callback_secret):
            await staff_of(municipality, authorization)

    def phone_of(raw: str) -> str:
        try:
            return normalise_phone(raw)
        except InvalidPhone as error:
            raise HTTPException(422, str(error)) from error

    @router.post("/sms/receipts", response_model=ReceiptRecorded)
    async def delivery_receipt(
        body: DeliveryReceipt, authorization: Authorization = None
    ) -> ReceiptRecorded:
        """A delivery receipt: recorded on its message and told on the bus, once."""
        require_gateway(authorization)
        receipt = Receipt(
            provider_message_id=body.id,
            reference=body.reference,
            status=DeliveryStatus(body.status),
            reason=body.reason,
            at=body.at or datetime.now(UTC),
        )
        try:
            async with pool.acquire() as connection, connection.transaction():
                return ReceiptRecorded(recorded=await receipts.record(connection, receipt))
        except UnknownMessage as error:
            raise HTTPException(404, str(error)) from error

    opt_out_path = "/municipalities/{municipality}/sms/opt-outs/{phone}"

    @router.put(opt_out_path, response_model=OptOutView)
    async def opt_out(
        municipality: str, phone: str, authorization: Authorization = None
    ) -> OptOutView:
        """The citizen gets no more reminders, notices or survey invitations."""
        await require_staff_or_gateway(municipality, authorization)
        number = phone_of(phone)
        await opt_outs.opt_out(pool, municipality, number)
        return OptOutView(municipality=municipality, phone=number, opted_out=True)

    @router.delete(opt_out_path, response_model=OptOutView)
    async def opt_in(
        municipality: str, phone: str, authorization: Authorization = None
    ) -> OptOutView:
        """The citizen gets every message again."""
        await require_staff_or_gateway(municipality, authorization)
        number = phone_of(phone)
        await opt_outs.opt_in(pool, municipality, number)
        return OptOutView(municipality=municipality, phone=number, opted_out=False)

    @router.get(opt_out_path, response_model=OptOutView)
    async def opt_out_status(
        municipality: str, phone: str, authorization: Authorization = None
    ) -> OptOutView:
        await require_staff_or_gateway(municipality, authorization)
        number = phone_of(phone)
        opted_out = await opt_outs.is_opted_out(pool, municipality, number)
        return OptOutView(municipality=municipality, phone=number, opted_out=opted_out)

    return router
