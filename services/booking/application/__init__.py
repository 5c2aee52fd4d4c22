"""The booking application: commands in, decided by aggregates, saved atomically.

Every method reads get → decide → save. A booking and the seat it takes are saved in one
`save()`, so optimistic concurrency on the site's day makes overbooking impossible, even
across processes; a conflicting concurrent save is retried against the fresh state.
The commands are grouped by who gives them; they share one event store (`base`).
"""

from __future__ import annotations

from services.booking.application.base import BookingStore, now
from services.booking.application.citizen import CitizenCommands
from services.booking.application.configuration import ConfigurationCommands
from services.booking.application.deadlines import DeadlineCommands
from services.booking.application.staff import StaffCommands


class BookingApplication(ConfigurationCommands, CitizenCommands, StaffCommands, DeadlineCommands):
    """The one eventsourcing application of the booking service (table `booking_events`)."""

    name = "booking"  # eventsourcing names the tables after the class unless told


__all__ = ["BookingApplication", "BookingStore", "now"]
