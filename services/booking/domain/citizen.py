"""One citizen's bookings in one municipality: where the per-citizen limit is decided.

Keyed by a hash of municipality and phone number, and saved atomically with every new booking,
so two concurrent bookings by the same citizen conflict here and the limit cannot be raced.
Its events are internal to the booking service: they carry no personal data and are not
relayed onto the bus.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.booking.domain.errors import Conflict


class OverLimit(Conflict):
    """The citizen already has as many active bookings of the service as allowed."""


class CitizenBookings(Aggregate):
    @staticmethod
    def create_id(municipality: str, phone: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"borgerservice:citizen:{municipality}:{phone}")

    @classmethod
    def start(cls, citizen_id: UUID, municipality: str) -> CitizenBookings:
        return cls._create(cls.Started, id=citizen_id, municipality=municipality)  # type: ignore[attr-defined]

    @event("Started")
    def __init__(self, municipality: str) -> None:
        self.municipality = municipality
        self.bookings: dict[str, str] = {}  # booking id -> service

    def count(
        self,
        booking_id: str,
        service: str,
        limit: int,
        is_active: Callable[[str], bool],
    ) -> None:
        """Counts a new booking of `service`, or refuses it when `limit` active ones exist."""
        active = [b for b, s in self.bookings.items() if s == service and is_active(b)]
        if len(active) >= limit:
            raise OverLimit(
                f"this phone number already has {len(active)} active booking(s) of {service!r} "
                f"(at most {limit}); move or cancel one instead"
            )
        self._counted(
            booking_id=booking_id,
            service=service,
            ended=sorted(b for b in self.bookings if not is_active(b)),
        )

    @event("BookingCounted")
    def _counted(self, booking_id: str, service: str, ended: list[str]) -> None:
        for finished in ended:  # bookings that ended are forgotten: the state stays small
            self.bookings.pop(finished, None)
        self.bookings[booking_id] = service

    @staticmethod
    def active(
        status_of: Callable[[str], tuple[str, datetime] | None], now: datetime
    ) -> Callable[[str], bool]:
        """A booking counts while it is booked and its time is still to come."""

        def check(booking_id: str) -> bool:
            found = status_of(booking_id)
            return found is not None and found[0] == "booked" and found[1] > now

        return check
