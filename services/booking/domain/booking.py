"""A citizen's booking, from booked to cancelled."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.booking.domain.errors import Conflict


class Status(StrEnum):
    booked = "booked"
    cancelled = "cancelled"


class Booking(Aggregate):
    @classmethod
    def book(cls, booking_id: UUID, **fields: Any) -> Booking:
        """A new booking with an id the caller chose (derived from an idempotency key)."""
        return cls._create(cls.Booked, id=booking_id, **fields)  # type: ignore[attr-defined]

    @event("Booked")
    def __init__(
        self,
        municipality: str,
        site: str,
        service: str,
        service_name: str,
        site_name: str,
        documents: list[str],
        starts_at: datetime,
        ends_at: datetime,
        citizen_name: str,
        phone: str,
        channel: str,
        booked_at: datetime,
    ) -> None:
        self.municipality = municipality
        self.site = site
        self.service = service
        self.service_name = service_name
        self.site_name = site_name
        self.documents = list(documents)
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.citizen_name = citizen_name
        self.phone = phone
        self.channel = channel
        self.booked_at = booked_at
        self.status = Status.booked

    def _require_active(self) -> None:
        if self.status is not Status.booked:
            raise Conflict(f"booking {self.id} is {self.status.value}")

    def reschedule(self, starts_at: datetime, ends_at: datetime, at: datetime) -> None:
        self._require_active()
        if starts_at == self.starts_at:
            raise Conflict(f"booking {self.id} is already at {starts_at.isoformat()}")
        self._rescheduled(
            municipality=self.municipality,
            site=self.site,
            service=self.service,
            previous_starts_at=self.starts_at,
            starts_at=starts_at,
            ends_at=ends_at,
            rescheduled_at=at,
        )

    @event("Rescheduled")
    def _rescheduled(
        self,
        municipality: str,
        site: str,
        service: str,
        previous_starts_at: datetime,
        starts_at: datetime,
        ends_at: datetime,
        rescheduled_at: datetime,
    ) -> None:
        self.starts_at = starts_at
        self.ends_at = ends_at

    def cancel(self, reason: str, cancelled_by: str, at: datetime) -> None:
        self._require_active()
        self._cancelled(
            municipality=self.municipality,
            site=self.site,
            service=self.service,
            starts_at=self.starts_at,
            reason=reason,
            cancelled_by=cancelled_by,
            cancelled_at=at,
        )

    @event("Cancelled")
    def _cancelled(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        reason: str,
        cancelled_by: str,
        cancelled_at: datetime,
    ) -> None:
        self.status = Status.cancelled
