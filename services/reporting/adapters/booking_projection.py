"""The `reporting` projection: one `report_booking` row per booking, from the booking events,
and each municipality's waiting target, from its registration.

Idempotent on its own, beside the runner's position: a booking row carries the aggregate version
it reflects, so a republished event (a new stream sequence, an old version) changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from events import Envelope, subject_for
from events.booking import BookingBooked, BookingCancelled, BookingRescheduled
from events.municipality import MunicipalityRegistered
from services.reporting.domain.working_days import working_days_between


class UnreportableEvent(ValueError):
    """An event this projection cannot apply; the runner dead-letters it."""


class ReportingProjection:
    name: str = "reporting"
    subjects: Sequence[str] = tuple(
        subject_for("*", handled.TYPE)
        for handled in (MunicipalityRegistered, BookingBooked, BookingRescheduled, BookingCancelled)
    )

    async def apply(self, connection: asyncpg.Connection, event: Envelope[Any]) -> None:
        data = event.data
        if isinstance(data, MunicipalityRegistered):
            await self._registered(connection, event, data)
            return
        if isinstance(data, BookingBooked):
            await self._booked(connection, event, data)
        elif isinstance(data, BookingRescheduled):
            await self._rescheduled(connection, event, data)
        elif isinstance(data, BookingCancelled):
            await self._cancelled(connection, event, data)
        else:
            raise UnreportableEvent(f"reporting does not handle {event.type}")
        await connection.execute(
            "INSERT INTO report_municipality (municipality) VALUES ($1) ON CONFLICT DO NOTHING",
            event.municipality,
        )

    async def _registered(
        self, connection: asyncpg.Connection, event: Envelope[Any], data: MunicipalityRegistered
    ) -> None:
        await connection.execute(
            """
            INSERT INTO report_municipality (municipality, name, waiting_target_working_days)
            VALUES ($1, $2, $3)
            ON CONFLICT (municipality) DO UPDATE
            SET name = EXCLUDED.name,
                waiting_target_working_days = EXCLUDED.waiting_target_working_days
            """,
            event.municipality,
            data.name,
            data.waiting_target_working_days,
        )

    async def _booked(
        self, connection: asyncpg.Connection, event: Envelope[Any], data: BookingBooked
    ) -> None:
        if event.site is None:
            raise UnreportableEvent(f"booking.booked {event.event_id} names no site")
        await connection.execute(
            """
            INSERT INTO report_booking (booking_id, municipality, site, service, channel,
                booked_at, starts_at, waiting_working_days, status, version)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'booked', $9)
            ON CONFLICT (booking_id) DO NOTHING
            """,
            event.aggregate_id,
            event.municipality,
            event.site,
            data.service,
            data.channel.value,
            data.booked_at,
            data.starts_at,
            working_days_between(data.booked_at, data.starts_at),
            event.aggregate_version,
        )

    async def _rescheduled(
        self, connection: asyncpg.Connection, event: Envelope[Any], data: BookingRescheduled
    ) -> None:
        booked_at = await self._booked_at(connection, event)
        await connection.execute(
            """
            UPDATE report_booking
            SET starts_at = $3, waiting_working_days = $4, version = $2, updated_at = now()
            WHERE booking_id = $1 AND version < $2
            """,
            event.aggregate_id,
            event.aggregate_version,
            data.starts_at,
            working_days_between(booked_at, data.starts_at),
        )

    async def _cancelled(
        self, connection: asyncpg.Connection, event: Envelope[Any], data: BookingCancelled
    ) -> None:
        await self._booked_at(connection, event)
        await connection.execute(
            """
            UPDATE report_booking
            SET status = 'cancelled', cancelled_at = $3, version = $2, updated_at = now()
            WHERE booking_id = $1 AND version < $2
            """,
            event.aggregate_id,
            event.aggregate_version,
            data.cancelled_at,
        )

    async def _booked_at(self, connection: asyncpg.Connection, event: Envelope[Any]) -> datetime:
        """When the booking was made; its `booked` event always comes first in stream order."""
        booked_at = await connection.fetchval(
            "SELECT booked_at FROM report_booking WHERE booking_id = $1 AND municipality = $2",
            event.aggregate_id,
            event.municipality,
        )
        if booked_at is None:
            raise UnreportableEvent(f"{event.type} for unknown booking {event.aggregate_id}")
        return booked_at
