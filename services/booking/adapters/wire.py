"""Translates the booking application's domain events into the wire contract of `events/`."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import DomainEventProtocol

from events import Envelope, EventData
from events.booking import (
    BookingBooked,
    BookingCancelled,
    BookingCheckedIn,
    BookingCompleted,
    BookingNoShow,
    BookingPreAssessed,
    BookingRescheduled,
    BookingStarted,
)
from events.municipality import MunicipalityRegistered
from events.schedule import DayOpened, SeatReleased, SeatTaken
from services.booking.domain.booking import Booking
from services.booking.domain.municipality import Municipality
from services.booking.domain.schedule import SiteDay

WIRE_MODELS: dict[str, type[EventData]] = {
    # domain event class qualname -> wire model
    f"{Municipality.__name__}.Registered": MunicipalityRegistered,
    f"{SiteDay.__name__}.DayOpened": DayOpened,
    f"{SiteDay.__name__}.SeatTaken": SeatTaken,
    f"{SiteDay.__name__}.SeatReleased": SeatReleased,
    f"{Booking.__name__}.Booked": BookingBooked,
    f"{Booking.__name__}.Rescheduled": BookingRescheduled,
    f"{Booking.__name__}.Cancelled": BookingCancelled,
    f"{Booking.__name__}.PreAssessed": BookingPreAssessed,
    f"{Booking.__name__}.CheckedIn": BookingCheckedIn,
    f"{Booking.__name__}.Started": BookingStarted,
    f"{Booking.__name__}.Completed": BookingCompleted,
    f"{Booking.__name__}.NoShow": BookingNoShow,
}


def event_id(originator_id: UUID, originator_version: int) -> UUID:
    """Stable: the same stored event always gets the same id, however often it is relayed."""
    return uuid5(NAMESPACE_URL, f"borgerservice:event:{originator_id}:{originator_version}")


def to_envelope(domain_event: DomainEventProtocol[Any]) -> Envelope[Any]:
    model = WIRE_MODELS[type(domain_event).__qualname__]
    data = model.model_validate({name: getattr(domain_event, name) for name in model.model_fields})
    return Envelope[model](  # type: ignore[valid-type]
        event_id=event_id(domain_event.originator_id, domain_event.originator_version),
        type=model.TYPE,
        schema_version=model.VERSION,
        municipality=getattr(domain_event, "municipality"),  # noqa: B009 - every event has it
        site=getattr(domain_event, "site", None),
        aggregate_id=domain_event.originator_id,
        aggregate_version=domain_event.originator_version,
        occurred_at=domain_event.timestamp,  # type: ignore[attr-defined]
        data=data,
    )
