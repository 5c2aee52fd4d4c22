"""Events of the booking aggregate: a citizen's appointment from booking to its end."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from events.envelope import EventData


class Channel(StrEnum):
    """How the booking reached us: web, or phone and counter for citizens who are not digital."""

    web = "web"
    phone = "phone"
    counter = "counter"
    assisted = "assisted"


class BookingBooked(EventData):
    """A citizen has a confirmed time. Carries what the confirmation SMS must say."""

    TYPE = "booking.booked"

    service: str
    service_name: str
    site_name: str
    documents: list[str] = Field(description="What the citizen must bring")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    citizen_name: str = Field(min_length=1)
    phone: str = Field(pattern=r"^\+[1-9]\d{6,14}$", description="E.164")
    channel: Channel
    booked_at: AwareDatetime


class BookingRescheduled(EventData):
    """The citizen (or staff) moved the booking to another time."""

    TYPE = "booking.rescheduled"

    service: str
    previous_starts_at: AwareDatetime
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    rescheduled_at: AwareDatetime


class BookingCancelled(EventData):
    """The booking no longer holds a seat."""

    TYPE = "booking.cancelled"

    service: str
    starts_at: AwareDatetime
    reason: str
    cancelled_by: str = Field(description="'citizen' or a staff account")
    cancelled_at: AwareDatetime
