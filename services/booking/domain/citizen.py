"""One citizen's bookings in one municipality: where the per-citizen limit is decided, and
where the citizen is erased.

Keyed by the citizen's pseudonym (their subject id, infra/personal_data.py): random, so it
says nothing about the phone number, before or after erasure. Saved atomically with every new
booking, so two concurrent bookings by the same citizen conflict here and the limit cannot be
raced; and an erasure conflicts with a booking made at the same moment, so it never erases a
citizen with a booking it has not seen. Only `Erased` is relayed onto the bus
(`citizen.erased`); the other events stay inside the booking service.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.booking.domain.errors import Conflict


class OverLimit(Conflict):
    """The citizen already has as many active bookings of the service as allowed."""


class HasActiveBookings(Conflict):
    """A citizen with a booking still to come (or a visit under way) is not erased."""


class CitizenBookings(Aggregate):
    @classmethod
    def start(cls, citizen_id: UUID, municipality: str) -> CitizenBookings:
        return cls._create(cls.Started, id=citizen_id, municipality=municipality, first=None)  # type: ignore[attr-defined]

    @classmethod
    def first_booking(
        cls, citizen_id: UUID, municipality: str, booking_id: str, service: str, limit: int
    ) -> CitizenBookings:
        """A citizen new to the store and their first booking, in one event (`count` on a
        started citizen would be two)."""
        _refuse_over(limit, 0, service)
        return cls._create(
            cls.Started,  # type: ignore[attr-defined]
            id=citizen_id,
            municipality=municipality,
            first={booking_id: service},
        )

    @event("Started")
    def __init__(self, municipality: str, first: dict[str, str] | None = None) -> None:
        self.municipality = municipality
        self.bookings: dict[str, str] = dict(first or {})  # booking id -> service
        self.erased = False

    def count(
        self,
        booking_id: str,
        service: str,
        limit: int,
        is_active: Callable[[str], bool],
    ) -> None:
        """Counts a new booking of `service`, or refuses it when `limit` active ones exist."""
        if self.erased:
            raise Conflict("this citizen's personal data was erased a moment ago; book again")
        active = [b for b, s in self.bookings.items() if s == service and is_active(b)]
        _refuse_over(limit, len(active), service)
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

    def erase(self, reason: str, by: str, at: datetime, is_active: Callable[[str], bool]) -> bool:
        """Records that the citizen's key is deleted; False if it already was. Refused while
        a booking of theirs is still active."""
        if self.erased:
            return False
        active = sorted(booking for booking in self.bookings if is_active(booking))
        if active:
            raise HasActiveBookings(
                f"the citizen has {len(active)} booking(s) still to come or under way "
                f"({', '.join(active)}); cancel or finish them before erasing"
            )
        self._erased(
            municipality=self.municipality, subject_id=self.id, reason=reason, by=by, erased_at=at
        )
        return True

    @event("Erased")
    def _erased(
        self, municipality: str, subject_id: UUID, reason: str, by: str, erased_at: datetime
    ) -> None:
        self.erased = True
        self.bookings = {}

    @staticmethod
    def active(
        status_of: Callable[[str], tuple[str, datetime] | None], now: datetime
    ) -> Callable[[str], bool]:
        """A booking counts while it is booked and its time is still to come."""

        def check(booking_id: str) -> bool:
            found = status_of(booking_id)
            return found is not None and found[0] == "booked" and found[1] > now

        return check


def _refuse_over(limit: int, active: int, service: str) -> None:
    if active >= limit:
        raise OverLimit(
            f"this phone number already has {active} active booking(s) of {service!r} "
            f"(at most {limit}); move or cancel one instead"
        )
