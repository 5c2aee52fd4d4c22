"""The booking application: commands in, decided by aggregates, saved atomically.

Every method reads get → decide → save. A booking and the seat it takes are saved in one
`save()`, so optimistic concurrency on the site's day makes overbooking impossible, even
across processes; a conflicting concurrent save is retried against the fresh state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import JSONTranscoder, RecordConflictError, Transcoding

from services.booking.commands import BookTime, CancelBooking, RescheduleBooking
from services.booking.domain.booking import Booking
from services.booking.domain.errors import Conflict, NotFound
from services.booking.domain.municipality import Municipality
from services.booking.domain.schedule import SiteDay, Slot

T = TypeVar("T")
CONFLICT_RETRIES = 20
LOCK_STRIPES = 256


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def now() -> datetime:
    return datetime.now(UTC)


class BookingApplication(Application[UUID]):
    name = "booking"

    def __init__(self, env: dict[str, str], clock: Callable[[], datetime] = now) -> None:
        super().__init__(env=env)
        self.clock = clock
        # Commands on the same site day queue here instead of racing to a version conflict;
        # across processes, optimistic concurrency still decides and the loser retries.
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]

    @contextmanager
    def _serialised(self, *aggregate_ids: UUID) -> Iterator[None]:
        stripes = sorted({aggregate_id.int % LOCK_STRIPES for aggregate_id in aggregate_ids})
        with ExitStack() as held:
            for stripe in stripes:  # always in the same order, so never a deadlock
                held.enter_context(self._stripes[stripe])
            yield

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # configuration

    def register_municipality(
        self,
        municipality: str,
        name: str,
        waiting_target_working_days: int,
        sites: list[dict[str, Any]],
        services: list[dict[str, Any]],
    ) -> bool:
        """Registers a municipality once; False if it was already registered."""
        if Municipality.create_id(municipality) in self.repository:
            return False
        self.save(Municipality(municipality, name, waiting_target_working_days, sites, services))
        return True

    def open_day(
        self, municipality: str, site: str, day: date, slots: list[dict[str, Any]]
    ) -> bool:
        """Opens a site's day for booking once; False if it was already open or has no times."""
        self.get_municipality(municipality).get_site(site)
        if not slots or SiteDay.create_id(municipality, site, day) in self.repository:
            return False
        self.save(SiteDay(municipality, site, day, slots))
        return True

    # queries

    def get_municipality(self, municipality: str) -> Municipality:
        try:
            found: Municipality = self.repository.get(Municipality.create_id(municipality))
        except AggregateNotFoundError:
            raise NotFound(f"unknown municipality {municipality!r}") from None
        return found

    def get_booking(self, booking_id: UUID) -> Booking:
        try:
            found: Booking = self.repository.get(booking_id)
        except AggregateNotFoundError:
            raise NotFound(f"no booking {booking_id}") from None
        if not isinstance(found, Booking):
            raise NotFound(f"no booking {booking_id}")
        return found

    def get_site_day(self, municipality: str, site: str, day: date) -> SiteDay:
        try:
            found: SiteDay = self.repository.get(SiteDay.create_id(municipality, site, day))
        except AggregateNotFoundError:
            raise NotFound(f"{site} has no bookable times on {day}") from None
        return found

    def free_times_on(self, municipality: str, site: str, day: date, service: str) -> list[Slot]:
        """The free times of one site day, from the aggregate itself: never stale."""
        try:
            return self.get_site_day(municipality, site, day).free_times(service)
        except NotFound:
            return []

    # commands

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

    def _retry_conflicts(self, attempt: Callable[[], T]) -> T:
        for _ in range(CONFLICT_RETRIES):
            try:
                return attempt()
            except RecordConflictError:
                continue  # another command saved first; decide again on the fresh state
        raise Conflict("too many concurrent changes; try again")
