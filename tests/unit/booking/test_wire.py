"""Every domain event the booking application can store has a place on the wire."""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from events import EVENT_TYPES
from services.booking.adapters.wire import INTERNAL, WIRE_TYPES
from services.booking.domain.booking import Booking
from services.booking.domain.citizen import CitizenBookings
from services.booking.domain.guarantee import WaitingGuarantee
from services.booking.domain.municipality import Municipality
from services.booking.domain.schedule import SiteDay


def test_every_domain_event_maps_to_a_registered_wire_type() -> None:
    domain_events = {
        f"{aggregate.__name__}.{name}"
        for aggregate in (Municipality, SiteDay, Booking, CitizenBookings, WaitingGuarantee)
        for name, member in vars(aggregate).items()
        if isinstance(member, type)
        and issubclass(member, Aggregate.Event)
        and not hasattr(Aggregate, name)  # its own Event, Created and Snapshot bases
    }
    assert "Booking.NoShow" in domain_events
    assert domain_events == set(WIRE_TYPES) | INTERNAL
    assert set(WIRE_TYPES.values()) <= set(EVENT_TYPES)
