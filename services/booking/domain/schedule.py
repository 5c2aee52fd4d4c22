"""A site's day: the times it offers and how many seats are left at each.

Capacity lives here and only here; a booking is saved atomically with this aggregate, so two
bookings of the last seat conflict on this aggregate's version and only one can be saved.
Holds and acute seats are part of the same count: a held seat or an unreleased acute seat is
never offered to anyone else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.booking.domain.errors import Conflict, Invalid, NotFound, SlotFull


@dataclass
class Slot:
    starts_at: datetime
    ends_at: datetime
    capacity: int
    services: tuple[str, ...]
    acute_capacity: int = 0
    holders: set[str] = field(default_factory=set)
    acute_holders: set[str] = field(default_factory=set)
    holds: dict[str, datetime] = field(default_factory=dict)  # hold id -> expires at
    closed: bool = False

    @property
    def seats_left(self) -> int:
        """Seats a citizen can book or hold now."""
        if self.closed:
            return 0
        return max(0, self.capacity - len(self.holders) - len(self.holds))

    @property
    def acute_seats_left(self) -> int:
        if self.closed:
            return 0
        return max(0, self.acute_capacity - len(self.acute_holders))

    def expired_holds(self, now: datetime) -> list[str]:
        return sorted(hold for hold, expires_at in self.holds.items() if expires_at <= now)


@lru_cache(maxsize=8192)  # asked several times per command; a name-based UUID costs a SHA-1
def _site_day_id(municipality: str, site: str, date: dt.date) -> UUID:
    return uuid5(NAMESPACE_URL, f"borgerservice:schedule:{municipality}:{site}:{date}")


class SiteDay(Aggregate):
    @staticmethod
    def create_id(municipality: str, site: str, date: dt.date) -> UUID:
        return _site_day_id(municipality, site, date)

    @event("DayOpened")
    def __init__(
        self,
        municipality: str,
        site: str,
        date: dt.date,
        slots: list[dict[str, Any]],
        acute_release_at: datetime | None = None,
    ) -> None:
        self.municipality = municipality
        self.site = site
        self.date = date
        self.acute_release_at = acute_release_at
        self.acute_released = False
        self.slots: dict[datetime, Slot] = {}
        for slot in slots:
            if slot["starts_at"].date() != date:
                raise Invalid(f"time {slot['starts_at']} is not on {date}")
            self.slots[slot["starts_at"]] = Slot(
                starts_at=slot["starts_at"],
                ends_at=slot["ends_at"],
                capacity=slot["capacity"],
                services=tuple(slot["services"]),
                acute_capacity=slot.get("acute_capacity", 0),
            )

    def slot(self, starts_at: datetime) -> Slot:
        try:
            return self.slots[starts_at]
        except KeyError:
            raise NotFound(f"{self.site} has no time at {starts_at.isoformat()}") from None

    def _bookable(self, starts_at: datetime, service: str) -> Slot:
        if starts_at not in self.slots:
            raise Invalid(
                f"{self.site} has no time starting at {starts_at.isoformat()}: outside opening "
                "hours or not on the schedule's times"
            )
        slot = self.slot(starts_at)
        if service not in slot.services:
            raise Invalid(f"the time {starts_at.isoformat()} at {self.site} is not for {service!r}")
        if slot.closed:
            raise Conflict(f"{self.site} is closed at {starts_at.isoformat()}")
        return slot

    # booking a seat

    def take_seat(
        self,
        starts_at: datetime,
        booking_id: str,
        service: str,
        now: datetime | None = None,
        hold_id: str | None = None,
        acute: bool = False,
    ) -> None:
        """Gives a seat to a booking: from the citizen's own hold if given and still valid,
        from the acute seats for staff's acute cases, otherwise from the free seats."""
        slot = self._bookable(starts_at, service)
        if booking_id in slot.holders or booking_id in slot.acute_holders:
            raise Conflict(f"booking {booking_id} already holds {starts_at.isoformat()}")
        if now is not None:
            self.release_expired_holds(now, starts_at)
        if hold_id is not None and hold_id in slot.holds:
            self._release_hold(slot, hold_id, "booked")
        from_acute = acute and slot.acute_seats_left > 0
        if not from_acute and slot.seats_left <= 0:
            raise SlotFull(starts_at.isoformat())
        self._seat_taken(
            municipality=self.municipality,
            site=self.site,
            starts_at=starts_at,
            booking_id=booking_id,
            seats_left=slot.seats_left - (0 if from_acute else 1),
            acute=from_acute,
            acute_seats_left=slot.acute_seats_left - (1 if from_acute else 0),
        )

    @event("SeatTaken")
    def _seat_taken(
        self,
        municipality: str,
        site: str,
        starts_at: datetime,
        booking_id: str,
        seats_left: int,
        acute: bool = False,
        acute_seats_left: int = 0,
    ) -> None:
        slot = self.slots[starts_at]
        (slot.acute_holders if acute else slot.holders).add(booking_id)

    def release_seat(self, starts_at: datetime, booking_id: str) -> None:
        slot = self.slot(starts_at)
        if booking_id not in slot.holders and booking_id not in slot.acute_holders:
            raise Conflict(f"booking {booking_id} holds no seat at {starts_at.isoformat()}")
        # An acute seat goes back to the acute seats until they are released, then to everyone.
        to_acute = booking_id in slot.acute_holders and not self.acute_released
        self._seat_released(
            municipality=self.municipality,
            site=self.site,
            starts_at=starts_at,
            booking_id=booking_id,
            seats_left=slot.seats_left + (0 if to_acute or slot.closed else 1),
            acute_seats_left=slot.acute_seats_left + (1 if to_acute and not slot.closed else 0),
        )

    @event("SeatReleased")
    def _seat_released(
        self,
        municipality: str,
        site: str,
        starts_at: datetime,
        booking_id: str,
        seats_left: int,
        acute_seats_left: int = 0,
    ) -> None:
        slot = self.slots[starts_at]
        if booking_id in slot.acute_holders:
            slot.acute_holders.discard(booking_id)
            if self.acute_released:
                slot.acute_capacity -= 1
                slot.capacity += 1
        else:
            slot.holders.discard(booking_id)

    # holds

    def hold_seat(
        self, starts_at: datetime, hold_id: str, service: str, now: datetime, ttl: timedelta
    ) -> datetime:
        """Holds a seat for a citizen entering their details; returns when the hold expires."""
        slot = self._bookable(starts_at, service)
        self.release_expired_holds(now, starts_at)
        if slot.seats_left <= 0:
            raise SlotFull(starts_at.isoformat())
        expires_at = now + ttl
        self._seat_held(
            municipality=self.municipality,
            site=self.site,
            starts_at=starts_at,
            hold_id=hold_id,
            seats_left=slot.seats_left - 1,
            expires_at=expires_at,
        )
        return expires_at

    @event("SeatHeld")
    def _seat_held(
        self,
        municipality: str,
        site: str,
        starts_at: datetime,
        hold_id: str,
        seats_left: int,
        expires_at: datetime,
    ) -> None:
        self.slots[starts_at].holds[hold_id] = expires_at

    def hold_of(self, hold_id: str) -> Slot | None:
        return next((s for s in self.slots.values() if hold_id in s.holds), None)

    def release_hold(self, hold_id: str, reason: str = "released") -> bool:
        """Gives a held seat back; False if there is no such hold (already ended)."""
        slot = self.hold_of(hold_id)
        if slot is None:
            return False
        self._release_hold(slot, hold_id, reason)
        return True

    def release_expired_holds(self, now: datetime, starts_at: datetime | None = None) -> int:
        """Ends the holds whose time is up (in one slot, or the whole day)."""
        slots = [self.slots[starts_at]] if starts_at is not None else list(self.slots.values())
        expired = [(slot, hold) for slot in slots for hold in slot.expired_holds(now)]
        for slot, hold in expired:
            self._release_hold(slot, hold, "expired")
        return len(expired)

    def _release_hold(self, slot: Slot, hold_id: str, reason: str) -> None:
        self._hold_released(
            municipality=self.municipality,
            site=self.site,
            starts_at=slot.starts_at,
            hold_id=hold_id,
            seats_left=slot.seats_left + (0 if slot.closed else 1),
            reason=reason,
        )

    @event("HoldReleased")
    def _hold_released(
        self,
        municipality: str,
        site: str,
        starts_at: datetime,
        hold_id: str,
        seats_left: int,
        reason: str,
    ) -> None:
        self.slots[starts_at].holds.pop(hold_id, None)

    def next_hold_expiry(self) -> datetime | None:
        return min((e for s in self.slots.values() for e in s.holds.values()), default=None)

    # acute seats

    def release_acute_seats(self, now: datetime) -> bool:
        """At the release time, unused acute seats become free for everyone; once."""
        if self.acute_released or self.acute_release_at is None or now < self.acute_release_at:
            return False
        self._acute_released(
            municipality=self.municipality,
            site=self.site,
            released_at=now,
            slots=[
                {"starts_at": s.starts_at, "seats_left": s.seats_left + s.acute_seats_left}
                for s in sorted(self.slots.values(), key=lambda s: s.starts_at)
                if s.acute_seats_left > 0
            ],
        )
        return True

    @event("AcuteSeatsReleased")
    def _acute_released(
        self, municipality: str, site: str, released_at: datetime, slots: list[dict[str, Any]]
    ) -> None:
        self.acute_released = True
        for slot in self.slots.values():
            unused = max(0, slot.acute_capacity - len(slot.acute_holders))
            slot.capacity += unused
            slot.acute_capacity -= unused

    # closing

    def close(
        self, closed_from: datetime, closed_until: datetime, reason: str, by: str, now: datetime
    ) -> list[Slot]:
        """Closes the times starting in [closed_from, closed_until); returns them, so their
        bookings can be cancelled in the same save."""
        if closed_until <= closed_from:
            raise Invalid("the closing ends before it starts")
        closing = [
            s
            for s in sorted(self.slots.values(), key=lambda s: s.starts_at)
            if closed_from <= s.starts_at < closed_until and not s.closed
        ]
        if not closing:
            return []
        self._day_closed(
            municipality=self.municipality,
            site=self.site,
            date=self.date,
            closed_from=closed_from,
            closed_until=closed_until,
            reason=reason,
            by=by,
            closed_at=now,
        )
        return closing

    @event("DayClosed")
    def _day_closed(
        self,
        municipality: str,
        site: str,
        date: dt.date,
        closed_from: datetime,
        closed_until: datetime,
        reason: str,
        by: str,
        closed_at: datetime,
    ) -> None:
        for slot in self.slots.values():
            if closed_from <= slot.starts_at < closed_until:
                slot.closed = True

    # queries

    def free_times(self, service: str, now: datetime | None = None) -> list[Slot]:
        """Times a citizen could book now; a hold past its expiry no longer counts."""
        return [
            slot
            for slot in sorted(self.slots.values(), key=lambda s: s.starts_at)
            if service in slot.services
            and (
                slot.seats_left > 0
                or (now is not None and not slot.closed and bool(slot.expired_holds(now)))
            )
        ]
