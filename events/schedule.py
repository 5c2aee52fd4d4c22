"""Events of a site's day schedule: the times it offers and the seats left at each."""

from __future__ import annotations

import datetime as dt

from pydantic import AwareDatetime, Field

from events.envelope import EventData, WireModel


class Slot(WireModel):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity: int = Field(ge=0, description="Seats citizens can book")
    services: list[str]
    acute_capacity: int = Field(
        default=0, ge=0, description="Seats held back for staff's acute cases until release"
    )


class SlotSeats(WireModel):
    starts_at: AwareDatetime
    seats_left: int = Field(ge=0)


class DayOpened(EventData):
    """A site's day is open for booking with these times."""

    TYPE = "schedule.day_opened"

    date: dt.date
    slots: list[Slot]
    acute_release_at: AwareDatetime | None = Field(
        default=None, description="When unused acute seats become bookable by everyone"
    )


class SeatTaken(EventData):
    """One seat at a time went to a booking."""

    TYPE = "schedule.seat_taken"

    starts_at: AwareDatetime
    booking_id: str
    seats_left: int = Field(ge=0)
    acute: bool = Field(default=False, description="Taken from the acute seats")
    acute_seats_left: int = Field(default=0, ge=0)


class SeatReleased(EventData):
    """A booking gave its seat back (cancelled or moved)."""

    TYPE = "schedule.seat_released"

    starts_at: AwareDatetime
    booking_id: str
    seats_left: int = Field(ge=0)
    acute_seats_left: int = Field(default=0, ge=0)


class SeatHeld(EventData):
    """A citizen picked this time and holds a seat while entering their details."""

    TYPE = "schedule.seat_held"

    starts_at: AwareDatetime
    hold_id: str
    seats_left: int = Field(ge=0)
    expires_at: AwareDatetime


class HoldReleased(EventData):
    """A hold ended: it became a booking, was given up, or expired."""

    TYPE = "schedule.hold_released"

    starts_at: AwareDatetime
    hold_id: str
    seats_left: int = Field(ge=0)
    reason: str = Field(description="'booked', 'released' or 'expired'")


class AcuteSeatsReleased(EventData):
    """The day's release time passed: unused acute seats are now bookable by everyone."""

    TYPE = "schedule.acute_released"

    released_at: AwareDatetime
    slots: list[SlotSeats]


class DayClosed(EventData):
    """Staff closed the site for the day or part of it (illness, building closed): the times
    starting in [closed_from, closed_until) take no more bookings; the bookings there are
    cancelled in bulk, each with its own `booking.cancelled` (bulk=true)."""

    TYPE = "schedule.day_closed"

    date: dt.date
    closed_from: AwareDatetime
    closed_until: AwareDatetime
    reason: str
    by: str
    closed_at: AwareDatetime
