"""A site's day: the times it offers and how many seats are left at each.

Capacity lives here and only here; a booking is saved atomically with this aggregate, so two
bookings of the last seat conflict on this aggregate's version and only one can be saved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import datetime
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
    holders: set[str] = field(default_factory=set)

    @property
    def seats_left(self) -> int:
        return self.capacity - len(self.holders)


class SiteDay(Aggregate):
    @staticmethod
    def create_id(municipality: str, site: str, date: dt.date) -> UUID:
        return uuid5(NAMESPACE_URL, f"borgerservice:schedule:{municipality}:{site}:{date}")

    @event("DayOpened")
    def __init__(
        self, municipality: str, site: str, date: dt.date, slots: list[dict[str, Any]]
    ) -> None:
        self.municipality = municipality
        self.site = site
        self.date = date
        self.slots: dict[datetime, Slot] = {}
        for slot in slots:
            if slot["starts_at"].date() != date:
                raise Invalid(f"time {slot['starts_at']} is not on {date}")
            self.slots[slot["starts_at"]] = Slot(
                starts_at=slot["starts_at"],
                ends_at=slot["ends_at"],
                capacity=slot["capacity"],
                services=tuple(slot["services"]),
            )

    def slot(self, starts_at: datetime) -> Slot:
        try:
            return self.slots[starts_at]
        except KeyError:
            raise NotFound(f"{self.site} has no time at {starts_at.isoformat()}") from None

    def take_seat(self, starts_at: datetime, booking_id: str, service: str) -> None:
        slot = self.slot(starts_at)
        if service not in slot.services:
            raise Invalid(f"the time {starts_at.isoformat()} at {self.site} is not for {service!r}")
        if booking_id in slot.holders:
            raise Conflict(f"booking {booking_id} already holds {starts_at.isoformat()}")
        if slot.seats_left <= 0:
            raise SlotFull(starts_at.isoformat())
        self._seat_taken(
            municipality=self.municipality,
            site=self.site,
            starts_at=starts_at,
            booking_id=booking_id,
            seats_left=slot.seats_left - 1,
        )

    @event("SeatTaken")
    def _seat_taken(
        self, municipality: str, site: str, starts_at: datetime, booking_id: str, seats_left: int
    ) -> None:
        self.slots[starts_at].holders.add(booking_id)

    def release_seat(self, starts_at: datetime, booking_id: str) -> None:
        slot = self.slot(starts_at)
        if booking_id not in slot.holders:
            raise Conflict(f"booking {booking_id} holds no seat at {starts_at.isoformat()}")
        self._seat_released(
            municipality=self.municipality,
            site=self.site,
            starts_at=starts_at,
            booking_id=booking_id,
            seats_left=slot.seats_left + 1,
        )

    @event("SeatReleased")
    def _seat_released(
        self, municipality: str, site: str, starts_at: datetime, booking_id: str, seats_left: int
    ) -> None:
        self.slots[starts_at].holders.discard(booking_id)

    def free_times(self, service: str) -> list[Slot]:
        return [
            slot
            for slot in sorted(self.slots.values(), key=lambda s: s.starts_at)
            if service in slot.services and slot.seats_left > 0
        ]
