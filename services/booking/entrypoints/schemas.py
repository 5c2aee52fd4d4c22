"""HTTP request and response bodies of the booking API."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.booking import Channel
from events.envelope import SLUG
from services.booking.commands import PhoneNumber
from services.booking.domain.booking import Booking


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BookingRequest(Body):
    site: str = Field(pattern=SLUG, examples=["korsoer"])
    service: str = Field(pattern=SLUG, examples=["pas"])
    starts_at: AwareDatetime = Field(examples=["2026-11-24T09:00:00+01:00"])
    citizen_name: str = Field(min_length=1, max_length=200)
    phone: PhoneNumber
    channel: Channel = Channel.web


class RescheduleRequest(Body):
    starts_at: AwareDatetime


class CancelRequest(Body):
    reason: str = Field(default="cancelled by the citizen", max_length=500)


class BookingView(BaseModel):
    booking_id: UUID
    municipality: str
    site: str
    site_name: str
    service: str
    service_name: str
    starts_at: datetime
    ends_at: datetime
    documents: list[str]
    status: str
    channel: str

    @classmethod
    def of(cls, booking: Booking) -> BookingView:
        return cls(
            booking_id=booking.id,
            municipality=booking.municipality,
            site=booking.site,
            site_name=booking.site_name,
            service=booking.service,
            service_name=booking.service_name,
            starts_at=booking.starts_at,
            ends_at=booking.ends_at,
            documents=booking.documents,
            status=booking.status.value,
            channel=booking.channel,
        )


class BookingCreated(BookingView):
    manage_token: str = Field(description="Keep it: it lets you see, move or cancel the booking")


class FreeTimeView(BaseModel):
    site: str
    starts_at: datetime
    ends_at: datetime
    seats_left: int


class TimeTaken(BaseModel):
    detail: str
    alternatives: list[FreeTimeView]
