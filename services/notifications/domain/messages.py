"""The SMS messages the service sends, built from events; pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from string import Template
from uuid import UUID

from events import Envelope
from events.booking import BookingBooked, BookingCancelled, BookingRescheduled
from services.notifications.domain import templates
from services.notifications.domain.danish import danish_list, danish_when
from services.notifications.domain.links import Links

# `BookingCancelled.cancelled_by` when the citizen cancelled (`citizen:<token fingerprint>`)
CITIZEN = "citizen"


class MessageKind(StrEnum):
    confirmation = "confirmation"
    reminder = "reminder"
    rescheduled = "rescheduled"
    cancelled = "cancelled"  # by staff, alone or in bulk
    waitlist_offer = "waitlist_offer"
    survey_invitation = "survey_invitation"

    @property
    def is_reply(self) -> bool:
        """An answer to what the citizen has just done (booked, moved a time)."""
        return self in (MessageKind.confirmation, MessageKind.rescheduled)

    @property
    def ignores_opt_out(self) -> bool:
        """Sent even to a citizen who opted out: the confirmation of a booking they have just
        made is the receipt of their own act and carries the only link to change it (a phone
        or counter booking gets no other), not an unasked-for message."""
        return self is MessageKind.confirmation

    @property
    def may_wake(self) -> bool:
        """May go out in quiet hours when what it is about comes before the morning."""
        return self is not MessageKind.survey_invitation


@dataclass(frozen=True)
class Sms:
    """One message to one citizen. At most one is ever sent per `idempotency_key`."""

    idempotency_key: str
    municipality: str
    booking_id: UUID
    kind: MessageKind
    phone: str
    body: str
    booking_version: int  # the booking's version that called for the message
    due_at: datetime  # not sent before this moment
    # the time the message is about (the appointment, an offer's deadline, a survey's end);
    # nothing is sent after it
    appointment_at: datetime | None


PersonalFields = Mapping[str, str | None]


@dataclass(frozen=True)
class Booking:
    """What the service knows of a booking: enough to write to the citizen about it."""

    booking_id: UUID
    municipality: str
    version: int
    citizen_name: str
    phone: str
    service_name: str
    site_name: str
    documents: tuple[str, ...]
    starts_at: datetime
    subject_id: UUID | None = None  # the citizen's pseudonym; None before sealing
    manage_generation: int = 0  # links carry it; earlier ones were revoked

    @classmethod
    def from_booked(
        cls, event: Envelope[BookingBooked], personal: PersonalFields | None = None
    ) -> Booking:
        """`personal` is what `event.data.personal` opened to; events from before personal
        data was sealed carry name and phone in plaintext instead."""
        booked = event.data
        citizen = personal or {"citizen_name": booked.citizen_name, "phone": booked.phone}
        citizen_name, phone = citizen.get("citizen_name"), citizen.get("phone")
        if not citizen_name or not phone:
            raise ValueError(f"booking.booked {event.event_id} names no citizen")
        return cls(
            booking_id=event.aggregate_id,
            municipality=event.municipality,
            version=event.aggregate_version,
            citizen_name=citizen_name,
            phone=phone,
            subject_id=None if booked.personal is None else booked.personal.subject_id,
            service_name=booked.service_name,
            site_name=booked.site_name,
            documents=tuple(booked.documents),
            starts_at=booked.starts_at,
        )

    def moved(self, event: Envelope[BookingRescheduled]) -> Booking:
        return replace(self, version=event.aggregate_version, starts_at=event.data.starts_at)


def message_key(booking_id: UUID, kind: MessageKind, version: int) -> str:
    """The same booking at the same version gets the same key, however often its event
    is delivered or republished."""
    return f"{booking_id}:{kind.value}:{version}"


def confirmation(
    event: Envelope[BookingBooked], links: Links, personal: PersonalFields | None = None
) -> Sms:
    """The confirmation a citizen gets on booking: when, where, what for, what to bring."""
    booking = Booking.from_booked(event, personal)
    body = _about(templates.CONFIRMATION, booking, links)
    return sms_about(booking, MessageKind.confirmation, booking.version, body, event.occurred_at)


def reminder(booking: Booking, lead: timedelta, decided_at: datetime, links: Links) -> Sms | None:
    """The reminder `lead` before the appointment; none for a time booked (or moved to) less
    than `lead` ahead, whose confirmation is reminder enough."""
    due_at = booking.starts_at - lead
    if decided_at > due_at:
        return None
    body = _about(templates.REMINDER, booking, links)
    return sms_about(booking, MessageKind.reminder, booking.version, body, due_at)


def reschedule_notice(booking: Booking, event: Envelope[BookingRescheduled], links: Links) -> Sms:
    """Tells the citizen the new time of `booking` (already moved by `event`)."""
    body = templates.RESCHEDULED.substitute(
        citizen_name=booking.citizen_name,
        service_name=booking.service_name,
        site_name=booking.site_name,
        when=danish_when(booking.starts_at),
        manage_url=links.manage(booking.booking_id, booking.starts_at, booking.manage_generation),
    )
    return sms_about(
        booking, MessageKind.rescheduled, event.aggregate_version, body, event.occurred_at
    )


def cancellation_notice(
    booking: Booking,
    event: Envelope[BookingCancelled],
    links: Links,
    personal: PersonalFields | None = None,
) -> Sms | None:
    """Tells the citizen, with the reason, that staff cancelled the time (alone or with others
    in a bulk cancellation); none when the citizen cancelled it themselves. `personal` is what
    the sealed reason opened to (events from before sealing carry it in plaintext)."""
    cancelled = event.data
    reason = (personal or {"reason": cancelled.reason}).get("reason") or ""
    if cancelled.cancelled_by == CITIZEN or cancelled.cancelled_by.startswith(f"{CITIZEN}:"):
        return None
    template = templates.BULK_CANCELLED if cancelled.bulk else templates.CANCELLED_BY_STAFF
    body = template.substitute(
        citizen_name=booking.citizen_name,
        service_name=booking.service_name,
        site_name=booking.site_name,
        when=danish_when(cancelled.starts_at),
        reason=reason.strip().rstrip("."),
        booking_url=links.booking_page,
    )
    return replace(
        sms_about(booking, MessageKind.cancelled, event.aggregate_version, body, event.occurred_at),
        appointment_at=cancelled.starts_at,
    )


def _about(template: Template, booking: Booking, links: Links) -> str:
    documents_line = (
        templates.DOCUMENTS_LINE.substitute(documents=danish_list(booking.documents))
        if booking.documents
        else ""
    )
    return template.substitute(
        citizen_name=booking.citizen_name,
        site_name=booking.site_name,
        service_name=booking.service_name,
        when=danish_when(booking.starts_at),
        documents_line=documents_line,
        manage_url=links.manage(booking.booking_id, booking.starts_at, booking.manage_generation),
    )


def sms_about(
    booking: Booking, kind: MessageKind, version: int, body: str, due_at: datetime
) -> Sms:
    return Sms(
        idempotency_key=message_key(booking.booking_id, kind, version),
        municipality=booking.municipality,
        booking_id=booking.booking_id,
        kind=kind,
        phone=booking.phone,
        body=body,
        booking_version=version,
        due_at=due_at,
        appointment_at=booking.starts_at,
    )
