"""Translates the booking application's domain events into the wire contract of `events/`."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import resolve_topic

from events import EVENT_TYPES, Envelope
from events.personal import Sealed

# Domain event (class qualname) -> wire event type; the wire model comes from the registry.
WIRE_TYPES: dict[str, str] = {
    "Municipality.Registered": "municipality.registered",
    "Municipality.ServiceConfigured": "municipality.service_configured",
    "Municipality.SiteConfigured": "municipality.site_configured",
    "Municipality.WaitingTargetChanged": "municipality.waiting_target_changed",
    "SiteDay.DayOpened": "schedule.day_opened",
    "SiteDay.SeatTaken": "schedule.seat_taken",
    "SiteDay.SeatReleased": "schedule.seat_released",
    "SiteDay.SeatHeld": "schedule.seat_held",
    "SiteDay.HoldReleased": "schedule.hold_released",
    "SiteDay.AcuteSeatsReleased": "schedule.acute_released",
    "SiteDay.DayClosed": "schedule.day_closed",
    "Booking.Booked": "booking.booked",
    "Booking.Rescheduled": "booking.rescheduled",
    "Booking.Cancelled": "booking.cancelled",
    "Booking.PreAssessed": "booking.pre_assessed",
    "Booking.CheckedIn": "booking.checked_in",
    "Booking.Started": "booking.started",
    "Booking.Completed": "booking.completed",
    "Booking.NoShow": "booking.no_show",
    "Booking.Waitlisted": "booking.waitlisted",
    "Booking.WaitlistOffered": "booking.waitlist_offered",
    "Booking.WaitlistOfferExpired": "booking.waitlist_offer_expired",
    "Booking.LeftWaitlist": "booking.left_waitlist",
    "Booking.SurveyAnswered": "booking.survey_answered",
    "Booking.ManageTokensRevoked": "booking.manage_tokens_revoked",
    "WaitingGuarantee.Breached": "guarantee.breached",
    "WaitingGuarantee.Restored": "guarantee.restored",
    "CitizenBookings.Erased": "citizen.erased",
}


# Domain events that stay inside the booking service (no consumer needs them). The relay skips
# them.
INTERNAL: frozenset[str] = frozenset(
    {"CitizenBookings.Started", "CitizenBookings.BookingCounted", "WaitingGuarantee.Watched"}
)


def is_internal(topic: str) -> bool:
    """Whether events stored under `topic` stay in the booking service (told from the topic,
    so the relay does not decode them)."""
    return resolve_topic(topic).__qualname__ in INTERNAL  # resolved topics are cached


def event_id(originator_id: UUID, originator_version: int) -> UUID:
    """Stable: the same stored event always gets the same id, however often it is relayed."""
    return uuid5(NAMESPACE_URL, f"borgerservice:event:{originator_id}:{originator_version}")


def to_envelope(domain_event: DomainEventProtocol[Any]) -> Envelope[Any]:
    model = EVENT_TYPES[WIRE_TYPES[type(domain_event).__qualname__]]
    # A wire field the domain event does not carry takes the model's default (a field added
    # compatibly); a missing required field fails validation here, before anything is published.
    fields = {
        name: getattr(domain_event, name)
        for name in model.model_fields
        if hasattr(domain_event, name)
    }
    if isinstance(fields.get("personal"), str):  # stored as ciphertext beside its subject id
        fields["personal"] = Sealed(
            subject_id=getattr(domain_event, "subject_id"),  # noqa: B009 - sealed with its key
            ciphertext=fields["personal"],
        )
    data = model.model_validate(fields)
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
