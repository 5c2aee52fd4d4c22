"""The SMS messages the service sends, built from events; pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from events import Envelope
from events.booking import BookingBooked
from services.notifications.domain import templates
from services.notifications.domain.danish import danish_list, danish_when


class MessageKind(StrEnum):
    confirmation = "confirmation"


@dataclass(frozen=True)
class Sms:
    """One message to one citizen. At most one is ever sent per `idempotency_key`."""

    idempotency_key: str
    municipality: str
    booking_id: UUID
    kind: MessageKind
    phone: str
    body: str


def message_key(booking_id: UUID, kind: MessageKind, version: int) -> str:
    """The same booking at the same version gets the same key, however often its event
    is delivered or republished."""
    return f"{booking_id}:{kind.value}:{version}"


def manage_url(base_url: str, booking_id: UUID) -> str:
    return f"{base_url.rstrip('/')}/bookings/{booking_id}"


def confirmation(event: Envelope[BookingBooked], manage_base_url: str) -> Sms:
    """The confirmation a citizen gets on booking: when, where, what for, what to bring."""
    booked = event.data
    documents_line = (
        templates.DOCUMENTS_LINE.substitute(documents=danish_list(booked.documents))
        if booked.documents
        else ""
    )
    body = templates.CONFIRMATION.substitute(
        citizen_name=booked.citizen_name,
        site_name=booked.site_name,
        service_name=booked.service_name,
        when=danish_when(booked.starts_at),
        documents_line=documents_line,
        manage_url=manage_url(manage_base_url, event.aggregate_id),
    )
    return Sms(
        idempotency_key=message_key(
            event.aggregate_id, MessageKind.confirmation, event.aggregate_version
        ),
        municipality=event.municipality,
        booking_id=event.aggregate_id,
        kind=MessageKind.confirmation,
        phone=booked.phone,
        body=body,
    )
