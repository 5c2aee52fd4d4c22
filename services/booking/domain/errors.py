"""Domain errors of the booking side; entrypoints map them to 404/409/422."""

from __future__ import annotations


class BookingError(Exception):
    """A command the domain refuses; the message says what is wrong in the citizen's terms."""


class NotFound(BookingError):
    """No such municipality, site, service, day or booking (404)."""


class Conflict(BookingError):
    """The command clashes with the current state, e.g. the time is taken (409)."""


class Invalid(BookingError):
    """The command cannot be right whatever the state, e.g. a naive time (422)."""


class SlotFull(Conflict):
    def __init__(self, starts_at: str) -> None:
        super().__init__(f"the time {starts_at} is fully booked")


def outcome_of(error: Exception) -> str:
    """A refused or failed command's outcome, as the service's metrics count it."""
    for kind, outcome in ((Conflict, "conflict"), (Invalid, "rejected"), (NotFound, "not_found")):
        if isinstance(error, kind):
            return outcome
    return "failed"
