"""What citizens do: book, reschedule, cancel."""

from __future__ import annotations

from datetime import timedelta
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from services.booking.application.base import BookingStore
from services.booking.commands import BookTime, CancelBooking, RescheduleBooking
from services.booking.domain.booking import Booking
from services.booking.domain.errors import Conflict
from services.booking.domain.schedule import SiteDay


class CitizenCommands(BookingStore):
    def book(self, command: BookTime) -> Booking:
        """Books a seat; under the same idempotency key, returns the booking made the first time."""
        booking_id = self._booking_id(command)
        day_id = SiteDay.create_id(command.municipality, command.site, command.starts_at.date())
        with self._serialised(day_id):
            return self._retry_conflicts(lambda: self._book(command, booking_id))

    def _booking_id(self, command: BookTime) -> UUID:
        if command.idempotency_key is None:
            return uuid4()
        return uuid5(
            NAMESPACE_URL, f"borgerservice:booking:{command.municipality}:{command.idempotency_key}"
        )

    def _book(self, command: BookTime, booking_id: UUID) -> Booking:
        if booking_id in self.repository:
            return self.get_booking(booking_id)
        municipality = self.get_municipality(command.municipality)
        site = municipality.get_site(command.site)
        service = municipality.get_service(command.service)
        day = self.get_site_day(command.municipality, command.site, command.starts_at.date())
        day.take_seat(command.starts_at, str(booking_id), command.service)
        slot = day.slot(command.starts_at)
        booking = Booking.book(
            booking_id,
            municipality=command.municipality,
            site=site.id,
            service=service.id,
            service_name=service.name,
            site_name=site.name,
            documents=list(service.documents),
            starts_at=slot.starts_at,
            ends_at=max(slot.ends_at, slot.starts_at + timedelta(minutes=service.duration_minutes)),
            citizen_name=command.citizen_name,
            phone=command.phone,
            channel=command.channel.value,
            booked_at=self.clock(),
        )
        self.save(booking, day)
        return booking

    def reschedule(self, command: RescheduleBooking) -> Booking:
        def attempt() -> Booking:
            booking = self.get_booking(command.booking_id)
            if booking.status.value == "cancelled":
                raise Conflict(f"booking {booking.id} is cancelled")
            old_day = self.get_site_day(
                booking.municipality, booking.site, booking.starts_at.date()
            )
            same_day = old_day.date == command.starts_at.date()
            new_day = (
                old_day
                if same_day
                else self.get_site_day(booking.municipality, booking.site, command.starts_at.date())
            )
            new_day.take_seat(command.starts_at, str(booking.id), booking.service)
            old_day.release_seat(booking.starts_at, str(booking.id))
            new_slot = new_day.slot(command.starts_at)
            booking.reschedule(new_slot.starts_at, new_slot.ends_at, self.clock())
            self.save(booking, old_day, *(() if same_day else (new_day,)))
            return booking

        booking = self.get_booking(command.booking_id)
        with self._serialised(
            SiteDay.create_id(booking.municipality, booking.site, booking.starts_at.date()),
            SiteDay.create_id(booking.municipality, booking.site, command.starts_at.date()),
        ):
            return self._retry_conflicts(attempt)

    def cancel(self, command: CancelBooking) -> Booking:
        def attempt() -> Booking:
            booking = self.get_booking(command.booking_id)
            day = self.get_site_day(booking.municipality, booking.site, booking.starts_at.date())
            booking.cancel(command.reason, command.cancelled_by, self.clock())
            day.release_seat(booking.starts_at, str(booking.id))
            self.save(booking, day)
            return booking

        booking = self.get_booking(command.booking_id)
        with self._serialised(
            SiteDay.create_id(booking.municipality, booking.site, booking.starts_at.date())
        ):
            return self._retry_conflicts(attempt)
