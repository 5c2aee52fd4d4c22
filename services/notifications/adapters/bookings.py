"""The `notification_booking` table: what the service knows of each booking."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.notifications.domain.messages import Booking


class UnknownBooking(LookupError):
    """An event about a booking whose `booking.booked` this service never saw."""


async def save(connection: asyncpg.Connection, booking: Booking) -> None:
    """Records `booking` unless a newer version of it is recorded (a republished old event
    never undoes a later change)."""
    await connection.execute(
        "INSERT INTO notification_booking (booking_id, municipality, version, citizen_name, "
        "phone, service_name, site_name, documents, starts_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
        "ON CONFLICT (booking_id) DO UPDATE SET version = EXCLUDED.version, "
        "starts_at = EXCLUDED.starts_at "
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
    )


async def get(connection: asyncpg.Connection, municipality: str, booking_id: UUID) -> Booking:
    """The booking as last recorded; only within its own municipality."""
    row = await connection.fetchrow(
        "SELECT * FROM notification_booking WHERE booking_id = $1 AND municipality = $2",
        booking_id,
        municipality,
    )
    if row is None:
        raise UnknownBooking(f"booking {booking_id} of {municipality} was never booked here")
    return Booking(**{**dict(row), "documents": tuple(row["documents"])})
