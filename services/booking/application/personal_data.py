"""The citizens' personal data in the booking application: their keys beside the event store,
what staff may read of it, and erasure, at a citizen's request or when the retention period
after their latest appointment is over.

Erasing is: record `CitizenBookings.Erased` (refused while a booking of theirs is still to come
or under way; saved with optimistic concurrency, so a booking made at the same moment is either
seen or refused), then delete the key. A request is marked on the key first, so an erasure cut
short by a crash is finished by the next run of `erase_due`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from uuid import UUID

from events.citizen import ErasureReason
from infra.personal_data import Subject
from infra.personal_data_keys import PersonalDataKeys, personal_data_keys
from services.booking.application.base import BookingStore
from services.booking.domain.booking import Booking, Status
from services.booking.domain.citizen import CitizenBookings, HasActiveBookings
from services.booking.domain.errors import Conflict, NotFound

RETENTION = "retention"  # who erases when the retention period is over


@dataclass(frozen=True)
class CitizenDetails:
    """Who booked: for staff, never on the bus."""

    citizen_name: str
    phone: str
    acute_reason: str | None


@dataclass(frozen=True)
class Erasure:
    subject_id: UUID
    erased_at: datetime


class PersonalDataCommands(BookingStore):
    @cached_property
    def personal_data(self) -> PersonalDataKeys:
        """The citizens' keys, in the event store's database (in memory beside a memory store)."""
        return personal_data_keys(self.env, self.recorder)

    def citizen_of(self, booking: Booking) -> Subject | None:
        """The key of the booking's citizen; None once erased, or for a booking from before
        personal data was sealed."""
        if booking.subject_id is None:
            return None
        return self.personal_data.subject(booking.subject_id)

    def details_of(self, booking: Booking) -> CitizenDetails | None:
        """Name, phone number and acute reason of the booking's citizen; None once erased."""
        fields = booking.plaintext
        if fields is None:
            citizen, sealed = self.citizen_of(booking), booking.sealed
            if citizen is None or sealed is None:
                return None
            fields = citizen.open(sealed)
        return CitizenDetails(
            citizen_name=fields["citizen_name"] or "",
            phone=fields["phone"] or "",
            acute_reason=fields.get("acute_reason"),
        )

    # erasure

    def erase_citizen(self, municipality: str, phone: str, by: str) -> Erasure:
        """Erases the citizen with this phone number, at their request."""
        subject_id = self.personal_data.find(municipality, phone)
        if subject_id is None:
            raise NotFound(f"no personal data is kept for this phone number in {municipality}")
        return self._erase_on_request(subject_id, by)

    def erase_citizen_of(self, municipality: str, booking_id: UUID, by: str) -> Erasure:
        """Erases the citizen who made this booking, at their request; erasing them again
        changes nothing."""
        booking = self.get_booking_of(municipality, booking_id)
        if booking.subject_id is None:
            raise Conflict(
                f"booking {booking_id} was made before personal data was sealed: its name and "
                "phone number are in plaintext history and cannot be erased by deleting a key"
            )
        erased_at = self.personal_data.erased_at(booking.subject_id)
        if erased_at is not None:
            return Erasure(booking.subject_id, erased_at)
        return self._erase_on_request(booking.subject_id, by)

    def _erase_on_request(self, subject_id: UUID, by: str) -> Erasure:
        self.personal_data.request_erasure(subject_id, by, self.clock())
        try:
            return self._erase(subject_id, ErasureReason.requested, by)
        except HasActiveBookings:
            self.personal_data.request_erasure(subject_id, None, self.clock())
            raise

    def erase_due(self, retained_until: datetime, limit: int = 100) -> int:
        """Erases the citizens whose latest appointment is before `retained_until`, and finishes
        requested erasures; returns how many were erased."""
        erased = 0
        for due in self.personal_data.due(retained_until, limit):
            try:
                if due.requested_by is None:
                    self._erase(due.subject_id, ErasureReason.retention, RETENTION)
                else:
                    self._erase(due.subject_id, ErasureReason.requested, due.requested_by)
            except HasActiveBookings:  # a booking still to come: retention runs from now on
                self.personal_data.request_erasure(due.subject_id, None, self.clock())
                self.personal_data.extend(due.subject_id, self.clock())
                continue
            erased += 1
        return erased

    def _erase(self, subject_id: UUID, reason: ErasureReason, by: str) -> Erasure:
        now = self.clock()

        def record() -> None:
            if subject_id not in self.repository:  # a key made for a booking that failed
                return
            citizen: CitizenBookings = self.repository.get(subject_id)
            if citizen.erase(reason.value, by, now, self._under_way_or_to_come(now)):
                self.save(citizen)

        self._retry_conflicts(record)
        self.personal_data.erase(subject_id, reason.value, now)
        return Erasure(subject_id, now)

    def _under_way_or_to_come(self, now: datetime) -> Callable[[str], bool]:
        def check(booking_id: str) -> bool:
            found = self._status_and_time(booking_id)
            if found is None:
                return False
            status, starts_at = found
            return status in (Status.checked_in, Status.started) or (
                status == Status.booked and starts_at > now
            )

        return check

    def _status_and_time(self, booking_id: str) -> tuple[str, datetime] | None:
        try:
            booking = self.get_booking(UUID(booking_id))
        except NotFound:
            return None
        return booking.status.value, booking.starts_at
