"""The notifications projection: turns booking events into pending SMS messages, and forgets
a citizen's name, number and messages when the citizen is erased."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import asyncpg

from events import Envelope
from events.booking import (
    BookingBooked,
    BookingCancelled,
    BookingCompleted,
    BookingManageTokensRevoked,
    BookingRescheduled,
    BookingWaitlistOffered,
)
from events.citizen import CitizenErased
from events.personal import Sealed
from infra.personal_data import MasterKey, open_sealed
from services.notifications.adapters import bookings
from services.notifications.adapters.messages import add_pending, cancel_pending
from services.notifications.domain.invitations import (
    SurveyPeriod,
    survey_invitation,
    waitlist_offer,
)
from services.notifications.domain.links import Links
from services.notifications.domain.messages import (
    Booking,
    MessageKind,
    PersonalFields,
    Sms,
    cancellation_notice,
    confirmation,
    reminder,
    reschedule_notice,
)

EVENTS = (
    BookingBooked,
    BookingRescheduled,
    BookingCancelled,
    BookingWaitlistOffered,
    BookingCompleted,
    BookingManageTokensRevoked,
    CitizenErased,
)


@dataclass
class NotificationsProjection:
    """Decides which SMS an event calls for and records it as pending, in the transaction
    that records the stream position: a reminder is scheduled, moved or cancelled together
    with the booking change that calls for it. The message key, not the stream sequence, is
    what keeps a republished event (new sequence, same booking version) from a second SMS.

    Names and numbers arrive sealed and are opened with the citizen's key (`master_key`
    unwraps it). Once the citizen is erased nothing more is sent about their bookings, and a
    replay of their history finds their key gone and writes nothing personal."""

    links: Links
    reminder_lead: Callable[[str], timedelta]  # per municipality
    survey_periods: Callable[[str], tuple[SurveyPeriod, ...]]  # per municipality
    master_key: MasterKey
    name: str = "notifications"
    subjects: Sequence[str] = field(default_factory=lambda: [f"bs.*.{e.TYPE}" for e in EVENTS])

    async def apply(self, connection: asyncpg.Connection, event: Envelope[Any]) -> None:
        if isinstance(event.data, BookingBooked):
            await self.booked(connection, event)
        elif isinstance(event.data, BookingRescheduled):
            await self.rescheduled(connection, event)
        elif isinstance(event.data, BookingCancelled):
            await self.cancelled(connection, event)
        elif isinstance(event.data, BookingWaitlistOffered):
            booking = await bookings.get(connection, event.municipality, event.aggregate_id)
            if booking is not None:
                await add_pending(connection, waitlist_offer(booking, event, self.links))
        elif isinstance(event.data, BookingCompleted):
            booking = await bookings.get(connection, event.municipality, event.aggregate_id)
            periods = self.survey_periods(event.municipality)
            if booking is not None:
                await self.add(connection, survey_invitation(booking, event, self.links, periods))
        elif isinstance(event.data, BookingManageTokensRevoked):
            await self.links_revoked(connection, event)
        elif isinstance(event.data, CitizenErased):
            await bookings.forget_citizen(connection, event.municipality, event.data.subject_id)

    async def links_revoked(
        self, connection: asyncpg.Connection, event: Envelope[BookingManageTokensRevoked]
    ) -> None:
        """Later messages carry the booking's new links: the pending reminder, written with a
        link that no longer works, is written again."""
        booking = await bookings.get(connection, event.municipality, event.aggregate_id)
        if booking is None or booking.version >= event.aggregate_version:
            return
        renewed = replace(
            booking, version=event.aggregate_version, manage_generation=event.data.generation
        )
        await bookings.save(connection, renewed)
        pending = await cancel_pending(
            connection, renewed.booking_id, MessageKind.reminder, event.aggregate_version
        )
        if pending:  # a reminder already sent is not sent again
            await self.schedule_reminder(connection, renewed, event)

    async def opened(
        self, connection: asyncpg.Connection, sealed: Sealed | None
    ) -> PersonalFields | None:
        """The sealed fields in plaintext; {} when nothing is sealed (history from before
        sealing: plaintext fields), None when the citizen is erased."""
        if sealed is None:
            return {}
        return await open_sealed(connection, self.master_key, sealed)

    async def booked(self, connection: asyncpg.Connection, event: Envelope[BookingBooked]) -> None:
        personal = await self.opened(connection, event.data.personal)
        if personal is None:  # the citizen was erased before this service saw the booking
            await bookings.save_erased(connection, event)
            return
        booking = Booking.from_booked(event, personal)
        await bookings.save(connection, booking)
        await add_pending(connection, confirmation(event, self.links, personal))
        await self.schedule_reminder(connection, booking, event)

    async def rescheduled(
        self, connection: asyncpg.Connection, event: Envelope[BookingRescheduled]
    ) -> None:
        booking = await bookings.get(connection, event.municipality, event.aggregate_id)
        if booking is None:
            return
        moved = booking.moved(event)
        await bookings.save(connection, moved)
        await cancel_pending(
            connection, moved.booking_id, MessageKind.reminder, event.aggregate_version
        )
        await add_pending(connection, reschedule_notice(moved, event, self.links))
        await self.schedule_reminder(connection, moved, event)

    async def cancelled(
        self, connection: asyncpg.Connection, event: Envelope[BookingCancelled]
    ) -> None:
        booking = await bookings.get(connection, event.municipality, event.aggregate_id)
        for kind in (MessageKind.reminder, MessageKind.waitlist_offer):
            await cancel_pending(connection, event.aggregate_id, kind, event.aggregate_version)
        personal = await self.opened(connection, event.data.personal)
        if booking is not None and personal is not None:
            notice = cancellation_notice(booking, event, self.links, personal)
            await self.add(connection, notice)

    async def schedule_reminder(
        self, connection: asyncpg.Connection, booking: Booking, event: Envelope[Any]
    ) -> None:
        lead = self.reminder_lead(booking.municipality)
        await self.add(connection, reminder(booking, lead, event.occurred_at, self.links))

    @staticmethod
    async def add(connection: asyncpg.Connection, sms: Sms | None) -> None:
        if sms is not None:
            await add_pending(connection, sms)
