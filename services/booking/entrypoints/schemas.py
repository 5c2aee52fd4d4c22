"""HTTP request and response bodies of the booking API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from events.booking import Channel
from events.envelope import SLUG
from services.booking.commands import CancelReason, CitizenName, PhoneNumber
from services.booking.domain.booking import Booking
from services.booking.domain.municipality import Service, Site


def _within_the_calendar(value: date) -> date:
    """Years 1 and 9999 are refused (422): a time there cannot be converted to every zone or
    moved by a day, which would fail as a 500."""
    if not 1 < value.year < 9999:
        raise ValueError("must be between the years 2 and 9998")
    return value


# A date or time a request may name; for the query and path dates of the routes as well.
CalendarDate = Annotated[date, AfterValidator(_within_the_calendar)]
CalendarTime = Annotated[AwareDatetime, AfterValidator(_within_the_calendar)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SiteView(BaseModel):
    id: str
    name: str
    address: str
    video_from: str | None = Field(
        default=None, description="Served by video from a specialist at this central site"
    )

    @classmethod
    def of(cls, site: Site) -> SiteView:
        return cls(id=site.id, name=site.name, address=site.address, video_from=site.video_from)


class ServiceView(BaseModel):
    id: str
    name: str
    duration_minutes: int
    documents: list[str] = Field(description="What to bring")
    online_url: str | None = Field(default=None, description="Where it can be solved online")
    video: bool = Field(default=False, description="May be served by video at a library")

    @classmethod
    def of(cls, service: Service) -> ServiceView:
        return cls(
            id=service.id,
            name=service.name,
            duration_minutes=service.duration_minutes,
            documents=list(service.documents),
            online_url=service.online_url,
            video=service.video,
        )


class BookingRequest(Body):
    site: str = Field(pattern=SLUG, examples=["korsoer"])
    service: str = Field(pattern=SLUG, examples=["pas"])
    starts_at: CalendarTime = Field(examples=["2026-11-24T09:00:00+01:00"])
    citizen_name: CitizenName
    phone: PhoneNumber
    channel: Literal[Channel.web] = Field(
        default=Channel.web, description="Citizens book on the web; staff book the other ways"
    )
    hold_id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="The hold on this time, from POST …/holds; the seat is then yours",
    )


class RescheduleRequest(Body):
    starts_at: CalendarTime


class CancelRequest(Body):
    reason: CancelReason = "cancelled by the citizen"


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
    waitlisted: bool = Field(description="Waiting to be offered an earlier time")
    offered_starts_at: datetime | None = Field(
        description="An earlier time held for you from the waitlist"
    )
    offer_expires_at: datetime | None
    survey_answered: bool = Field(
        default=False, description="The satisfaction survey after the visit is answered"
    )

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
            waitlisted=booking.waitlisted,
            offered_starts_at=booking.offer.starts_at if booking.offer else None,
            offer_expires_at=booking.offer.expires_at if booking.offer else None,
            survey_answered=booking.survey_answered,
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


class HoldRequest(Body):
    site: str = Field(pattern=SLUG, examples=["korsoer"])
    service: str = Field(pattern=SLUG, examples=["pas"])
    starts_at: CalendarTime


class HoldView(BaseModel):
    hold_id: str
    site: str
    service: str
    starts_at: datetime
    expires_at: datetime


class SurveyAnswer(Body):
    satisfied_with_booking: bool = Field(description="Tilfreds med at skulle bestille tid")
    easy_to_find_time: bool = Field(description="Let at finde en tid")
    score: int | None = Field(default=None, ge=1, le=5)
