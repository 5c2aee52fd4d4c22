"""What every part of a booking knows: its status and the steps each may start from, an offered
earlier time, and how facts about the citizen are sealed (services/booking/domain/booking.py
puts the parts together into the one aggregate)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from events.personal import Sealed
from services.booking.domain.errors import Conflict


class Status(StrEnum):
    booked = "booked"
    checked_in = "checked_in"
    started = "started"
    completed = "completed"
    no_show = "no_show"
    cancelled = "cancelled"
    resolved_online = "resolved_online"

    @property
    def holds_seat(self) -> bool:
        return self in (Status.booked, Status.checked_in, Status.started)


# The lifecycle: which status each step may start from.
CHECK_IN_FROM = (Status.booked,)
START_FROM = (Status.booked, Status.checked_in)
COMPLETE_FROM = (Status.started,)
NO_SHOW_FROM = (Status.booked,)
CANCEL_FROM = (Status.booked, Status.checked_in)


@dataclass(frozen=True)
class Offer:
    """An earlier time held for this booking from the waitlist, until `expires_at`."""

    starts_at: datetime
    ends_at: datetime
    expires_at: datetime


class Sealer(Protocol):
    """Seals fields about one citizen with that citizen's key (infra/personal_data.py)."""

    @property
    def id(self) -> UUID: ...

    def seal(self, fields: Mapping[str, str | None]) -> Sealed: ...


class BookingState:
    """The state the parts of a booking share (set by `Booking.__init__` and its events)."""

    if TYPE_CHECKING:

        @property
        def id(self) -> UUID: ...

    municipality: str
    site: str
    service: str
    starts_at: datetime
    ends_at: datetime
    subject_id: UUID | None
    personal: str | None
    status: Status
    waitlisted: bool
    offer: Offer | None
    survey_answered: bool
    manage_generation: int

    def _require(self, allowed: tuple[Status, ...], action: str) -> None:
        if self.status not in allowed:
            raise Conflict(f"booking {self.id} is {self.status.value}; it cannot be {action}")

    def _require_active(self) -> None:
        self._require((Status.booked,), "changed")

    def _facts(self) -> dict[str, Any]:
        """What every lifecycle event carries about the booking."""
        return {
            "municipality": self.municipality,
            "site": self.site,
            "service": self.service,
            "starts_at": self.starts_at,
        }

    @property
    def sealed(self) -> Sealed | None:
        """Name, phone number and acute reason as sealed at booking; None before sealing."""
        if self.subject_id is None or self.personal is None:
            return None
        return Sealed(subject_id=self.subject_id, ciphertext=self.personal)

    def _about_citizen(self, citizen: Sealer | None, **fields: str) -> dict[str, Any]:
        """Fields about the citizen, as an event stores them: sealed with the citizen's key, or
        in plaintext for a booking from before sealing (like the rest of its history). With
        the key gone (`citizen` None) the citizen is erased and nothing about them is added."""
        if self.subject_id is None:
            return {**fields, "subject_id": None, "personal": None}
        if citizen is None or citizen.id != self.subject_id:
            raise Conflict(f"the citizen of booking {self.id} is erased; it cannot be changed")
        sealed = citizen.seal(fields)
        return {
            **dict.fromkeys(fields),
            "subject_id": self.subject_id,
            "personal": sealed.ciphertext,
        }
