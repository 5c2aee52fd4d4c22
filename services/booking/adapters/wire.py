"""Translates the booking application's domain events into the wire contract of `events/`.

`to_message` is the one conversion: the relay publishes what it returns, and every save checks
its events with it (`check_publishable`), so an event the bus would refuse is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import resolve_topic
from pydantic import ValidationError

from events import EVENT_TYPES, Envelope, encode
from events.personal import Sealed
from services.booking.domain.errors import Invalid

# The nats-server's max_payload (infra/nats_server.py, infra/cluster.py: 1MB), which bounds a
# message's headers and payload together.
MAX_PAYLOAD = 1024 * 1024
# Room kept for the relay's headers (message id, notification id, expected sequence; about
# 150 bytes): a payload within MAX_PAYLOAD - HEADERS_ALLOWANCE always fits.
HEADERS_ALLOWANCE = 1024

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


class Unpublishable(Invalid):
    """An event the bus would refuse (422): the message names the event and what is wrong."""


@dataclass(frozen=True)
class WireMessage:
    envelope: Envelope[Any]
    payload: bytes


def to_message(domain_event: DomainEventProtocol[Any]) -> WireMessage:
    """The message the relay publishes for `domain_event`; raises `Unpublishable` when the
    event does not fit the wire contract (no wire type, or data its model refuses)."""
    name = type(domain_event).__qualname__
    if name not in WIRE_TYPES:
        raise Unpublishable(f"{name} has no wire type: add it to WIRE_TYPES and events/")
    try:
        envelope = to_envelope(domain_event)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise Unpublishable(f"{WIRE_TYPES[name]} cannot be published: {problems}") from error
    return WireMessage(envelope, encode(envelope))


def check_size(message: WireMessage, max_payload: int = MAX_PAYLOAD) -> None:
    """Raises `Unpublishable` when the message and the relay's headers exceed `max_payload`."""
    limit = max_payload - HEADERS_ALLOWANCE
    if len(message.payload) <= limit:
        return
    data = message.envelope.data
    field, size = max(
        ((name, len(data.model_dump_json(include={name}))) for name in type(data).model_fields),
        key=lambda pair: pair[1],
        default=("data", len(message.payload)),
    )
    raise Unpublishable(
        f"{message.envelope.type} would be {len(message.payload):,} bytes on the bus, over its "
        f"limit of {limit:,}; its largest field is {field} ({size:,} bytes)"
    )


def check_publishable(domain_event: DomainEventProtocol[Any]) -> None:
    """Raises `Unpublishable` unless the relay can publish `domain_event` (internal events
    never leave the service)."""
    if type(domain_event).__qualname__ in INTERNAL:
        return
    check_size(to_message(domain_event))


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
    site = getattr(domain_event, "site", None)
    if isinstance(site, dict):  # a site's configuration: the envelope names the site
        site = site.get("id")
    return Envelope[model](  # type: ignore[valid-type]
        event_id=event_id(domain_event.originator_id, domain_event.originator_version),
        type=model.TYPE,
        schema_version=model.VERSION,
        municipality=getattr(domain_event, "municipality"),  # noqa: B009 - every event has it
        site=site,
        aggregate_id=domain_event.originator_id,
        aggregate_version=domain_event.originator_version,
        occurred_at=domain_event.timestamp,  # type: ignore[attr-defined]
        data=data,
    )
