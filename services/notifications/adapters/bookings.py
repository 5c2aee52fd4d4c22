"""The `notification_booking` table: what the service knows of each booking. Its citizen's
name and phone number are kept in plaintext (messages are written from them) until the
citizen is erased; then they are NULL and nothing more is sent about the booking."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from events import Envelope
from events.booking import BookingBooked
from services.notifications.domain.messages import Booking


class UnknownBooking(LookupError):
    """An event about a booking whose `booking.booked` this service never saw."""


async def save(connection: asyncpg.Connection, booking: Booking) -> None:
    """Records `booking` unless a newer version of it is recorded (a republished old event
    never undoes a later change)."""
    await connection.execute(
        "INSERT INTO notification_booking (booking_id, municipality, version, citizen_name, "
        "phone, service_name, site_name, documents, starts_at, subject_id, manage_generation) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
        "ON CONFLICT (booking_id) DO UPDATE SET version = EXCLUDED.version, "
        "starts_at = EXCLUDED.starts_at, manage_generation = EXCLUDED.manage_generation "
        "WHERE notification_booking.version < EXCLUDED.version",
        booking.booking_id,
        booking.municipality,
        booking.version,
        booking.citizen_name,
        booking.phone,
        booking.service_name,
        booking.site_name,
        list(booking.documents),
        booking.starts_at,
        booking.subject_id,
        booking.manage_generation,
    )


async def save_erased(connection: asyncpg.Connection, event: Envelope[BookingBooked]) -> None:
    """Records a booking whose citizen was erased before this service saw it: later events
    about it are then recognised, and nothing is sent."""
    booked = event.data
    await connection.execute(
        "INSERT INTO notification_booking (booking_id, municipality, version, service_name, "
        "site_name, documents, starts_at, subject_id) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (booking_id) DO NOTHING",
        event.aggregate_id,
        event.municipality,
        event.aggregate_version,
        booked.service_name,
        booked.site_name,
        list(booked.documents),
        booked.starts_at,
        None if booked.personal is None else booked.personal.subject_id,
    )


async def get(
    connection: asyncpg.Connection, municipality: str, booking_id: UUID
) -> Booking | None:
    """The booking as last recorded, only within its own municipality; None once its citizen
    is erased."""
    row = await connection.fetchrow(
        "SELECT * FROM notification_booking WHERE booking_id = $1 AND municipality = $2",
        booking_id,
        municipality,
    )
    if row is None:
        raise UnknownBooking(f"booking {booking_id} of {municipality} was never booked here")
    if row["phone"] is None or row["citizen_name"] is None:
        return None
    return Booking(**{**dict(row), "documents": tuple(row["documents"])})


async def forget_citizen(
    connection: asyncpg.Connection, municipality: str, subject_id: UUID
) -> int:
    """Forgets everything that names the citizen `subject_id`: their name and phone number on
    their bookings, the text and number of every message to them (those not yet sent are not
    sent), the local outbox's copies, and their opt-out. Counts and statuses stay. Returns
    how many bookings were theirs."""
    bookings = (
        "SELECT booking_id FROM notification_booking WHERE municipality = $1 AND subject_id = $2"
    )
    await connection.execute(
        "DELETE FROM sms_opt_out o USING notification_booking b WHERE b.municipality = $1 "
        "AND b.subject_id = $2 AND o.municipality = b.municipality AND o.phone = b.phone",
        municipality,
        subject_id,
    )
    await connection.execute(
        "UPDATE sms_outbox SET phone = NULL, body = NULL WHERE idempotency_key IN ("
        f"SELECT idempotency_key FROM sms_message WHERE booking_id IN ({bookings}))",
        municipality,
        subject_id,
    )
    await connection.execute(
        "UPDATE sms_message SET phone = NULL, body = NULL, last_error = NULL, "
        "status = CASE WHEN status IN ('pending', 'sending') THEN 'erased' ELSE status END, "
        f"lease_until = NULL WHERE booking_id IN ({bookings})",
        municipality,
        subject_id,
    )
    status = await connection.execute(
        "UPDATE notification_booking SET citizen_name = NULL, phone = NULL "
        "WHERE municipality = $1 AND subject_id = $2",
        municipality,
        subject_id,
    )
    return int(status.split()[-1])
