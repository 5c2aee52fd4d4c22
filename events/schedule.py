"""Events of a site's day schedule: the times it offers and the seats left at each."""

from __future__ import annotations

import datetime as dt

from pydantic import AwareDatetime, Field

from events.envelope import EventData, WireModel


class Slot(WireModel):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity: int = Field(ge=0)
    services: list[str]


class DayOpened(EventData):
    """A site's day is open for booking with these times."""

    TYPE = "schedule.day_opened"

    date: dt.date
    slots: list[Slot]


class SeatTaken(EventData):
    """One seat at a time went to a booking."""

    TYPE = "schedule.seat_taken"

    starts_at: AwareDatetime
    booking_id: str
    seats_left: int = Field(ge=0)


class SeatReleased(EventData):
    """A booking gave its seat back (cancelled or moved)."""

    TYPE = "schedule.seat_released"

    starts_at: AwareDatetime
    booking_id: str
    seats_left: int = Field(ge=0)
