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


class BookingCheckedIn(EventData):
    """The citizen arrived and was checked in."""

    TYPE = "booking.checked_in"

    service: str
    starts_at: AwareDatetime
    checked_in_at: AwareDatetime
    by: str = Field(description="The staff account")


class BookingStarted(EventData):
    """Staff started serving the citizen."""

    TYPE = "booking.started"

    service: str
    starts_at: AwareDatetime
    started_at: AwareDatetime
    by: str


class BookingCompleted(EventData):
    """The visit is over; `handling_minutes` is from start to completion."""

    TYPE = "booking.completed"

    service: str
    starts_at: AwareDatetime
    completed_at: AwareDatetime
    handling_minutes: float = Field(ge=0)
    by: str


class BookingNoShow(EventData):
    """The citizen did not come."""

    TYPE = "booking.no_show"

    service: str
    starts_at: AwareDatetime
    recorded_at: AwareDatetime
    by: str


class PreAssessment(StrEnum):
    """Staff look at a booking before the visit (seeds/001)."""

    documents_ok = "documents_ok"
    documents_missing = "documents_missing"
    solved_online = "solved_online"


class BookingPreAssessed(EventData):
    """Staff pre-assessed the booking; `solved_online` resolves it without a visit and frees
    its seat."""

    TYPE = "booking.pre_assessed"

    service: str
    starts_at: AwareDatetime
    outcome: PreAssessment
    note: str
    assessed_at: AwareDatetime
    by: str
