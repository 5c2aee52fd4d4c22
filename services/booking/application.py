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

from events.booking import PreAssessment
from services.booking.commands import (
    BookTime,
    CancelBooking,
    CancelByStaff,
    CancelSiteDay,
    CheckIn,
    CompleteVisit,
    PreAssess,
    RecordNoShow,
    RescheduleBooking,
    StaffCommand,
    StartVisit,
)
from services.booking.domain.booking import Booking
from services.booking.domain.errors import Conflict, NotFound
from services.booking.domain.municipality import Municipality
from services.booking.domain.opening_hours import COPENHAGEN
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

    # staff commands

    def get_booking_of(self, municipality: str, booking_id: UUID) -> Booking:
        """A booking, only if it belongs to `municipality` (otherwise as if it did not exist)."""
        booking = self.get_booking(booking_id)
        if booking.municipality != municipality:
            raise NotFound(f"no booking {booking_id}")
        return booking

    def _staff_change(self, command: StaffCommand, change: Callable[[Booking], None]) -> Booking:
        """A lifecycle step that moves no seat: get → decide → save."""

        def attempt() -> Booking:
            booking = self.get_booking_of(command.municipality, command.booking_id)
            change(booking)
            self.save(booking)
            return booking

        return self._retry_conflicts(attempt)

    def check_in(self, command: CheckIn) -> Booking:
        return self._staff_change(command, lambda b: b.check_in(command.by, self.clock()))

    def start_visit(self, command: StartVisit) -> Booking:
        return self._staff_change(command, lambda b: b.start(command.by, self.clock()))

    def complete_visit(self, command: CompleteVisit) -> Booking:
        return self._staff_change(command, lambda b: b.complete(command.by, self.clock()))

    def record_no_show(self, command: RecordNoShow) -> Booking:
        return self._staff_change(command, lambda b: b.record_no_show(command.by, self.clock()))

    def pre_assess(self, command: PreAssess) -> Booking:
        """Documents fine or missing; or solved online, which frees the seat with no visit."""
        if command.outcome is not PreAssessment.solved_online:
            return self._staff_change(
                command,
                lambda b: b.pre_assess(
                    command.outcome.value, command.note, command.by, self.clock()
                ),
            )
        return self._with_seat_released(
            command,
            lambda b: b.pre_assess(command.outcome.value, command.note, command.by, self.clock()),
        )

    def cancel_by_staff(self, command: CancelByStaff) -> Booking:
        return self._with_seat_released(
            command, lambda b: b.cancel(command.reason, f"staff:{command.by}", self.clock())
        )

    def _with_seat_released(
        self, command: StaffCommand, change: Callable[[Booking], None]
    ) -> Booking:
        """A step that ends the booking: saved atomically with its seat given back."""
        booking = self.get_booking_of(command.municipality, command.booking_id)
        day_id = SiteDay.create_id(booking.municipality, booking.site, booking.starts_at.date())

        def attempt() -> Booking:
            booking = self.get_booking_of(command.municipality, command.booking_id)
            day = self.get_site_day(booking.municipality, booking.site, booking.starts_at.date())
            change(booking)
            day.release_seat(booking.starts_at, str(booking.id))
            self.save(booking, day)
            return booking

        with self._serialised(day_id):
            return self._retry_conflicts(attempt)

    def cancel_site_day(self, command: CancelSiteDay) -> list[Booking]:
        """Cancels every active booking in the window, all in one atomic save; each citizen
        is told through their own `booking.cancelled` event."""
        day_id = SiteDay.create_id(command.municipality, command.site, command.day)

        def attempt() -> list[Booking]:
            day = self.get_site_day(command.municipality, command.site, command.day)
            cancelled = []
            for slot in sorted(day.slots.values(), key=lambda s: s.starts_at):
                local = slot.starts_at.astimezone(COPENHAGEN).time()
                if not command.from_time <= local <= command.to_time:
                    continue
                for holder in sorted(slot.holders):
                    booking = self.get_booking(UUID(holder))
                    booking.cancel(command.reason, f"staff:{command.by}", self.clock())
                    day.release_seat(slot.starts_at, holder)
                    cancelled.append(booking)
            if cancelled:
                self.save(day, *cancelled)
            return cancelled

        with self._serialised(day_id):
            return self._retry_conflicts(attempt)

    def bookings_on(self, municipality: str, site: str, day: date) -> list[Booking]:
        """The staff day view: every booking holding a seat at the site that day, by time."""
        schedule = self.get_site_day(municipality, site, day)
        holders = [
            holder
            for slot in sorted(schedule.slots.values(), key=lambda s: s.starts_at)
            for holder in sorted(slot.holders)
        ]
        return [self.get_booking(UUID(holder)) for holder in holders]

    def _retry_conflicts(self, attempt: Callable[[], T]) -> T:
        for _ in range(CONFLICT_RETRIES):
            try:
                return attempt()
            except RecordConflictError:
                continue  # another command saved first; decide again on the fresh state
        raise Conflict("too many concurrent changes; try again")
