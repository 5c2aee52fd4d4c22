"""What citizens do: hold a time, book, reschedule, cancel, wait for an earlier time, answer
the survey. Staff booking on a citizen's behalf goes through `book` too."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from copy import deepcopy
from datetime import datetime, timedelta
from functools import cached_property
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import RecordConflictError

from infra.personal_data import MasterKey, Subject
from infra.personal_data_keys import MASTER_KEY_ENV, NewKey
from services.booking.adapters.event_store import NEW_KEYS, is_known_citizen
from services.booking.application.base import local_date
from services.booking.application.idempotency import Idempotency
from services.booking.application.personal_data import PersonalDataCommands
from services.booking.commands import (
    AcceptOffer,
    AnswerSurvey,
    BookTime,
    CancelBooking,
    HoldTime,
    JoinWaitlist,
    LeaveWaitlist,
    ReleaseHold,
    RescheduleBooking,
)
from services.booking.domain.booking import Booking, Status
from services.booking.domain.citizen import CitizenBookings
from services.booking.domain.errors import BookingError, Conflict, Invalid, NotFound, outcome_of
from services.booking.domain.municipality import Municipality
from services.booking.domain.schedule import SiteDay


def hold_id_for(day_id: UUID) -> str:
    """Opaque to the citizen; says which site day holds it, so no index is needed."""
    return f"{day_id.hex}{uuid4().hex}"


def day_of_hold(hold_id: str) -> UUID:
    return UUID(hex=hold_id[:32])


class CitizenCommands(PersonalDataCommands):
    # holding a time while the citizen types

    def hold(self, command: HoldTime) -> tuple[str, SiteDay]:
        """Holds a seat for `hold_ttl`; returns the hold id and (a copy of) the day holding it."""
        municipality = self.get_municipality(command.municipality)
        municipality.get_site(command.site)
        municipality.get_service(command.service)
        day_id = SiteDay.create_id(
            command.municipality, command.site, local_date(command.starts_at)
        )
        hold_id = hold_id_for(day_id)
        self._refuse_when_full(
            command.municipality, command.site, command.service, command.starts_at, hold_id
        )

        def attempt() -> tuple[str, SiteDay]:
            day = self._open_day_for(
                command.municipality, command.site, command.site, command.starts_at
            )
            day.hold_seat(command.starts_at, hold_id, command.service, self.clock(), self.hold_ttl)
            self.save(day)
            return hold_id, deepcopy(day)  # the cached day is only read under its lock

        with self._serialised(day_id):
            return self._retry_conflicts(attempt)

    def release_hold(self, command: ReleaseHold) -> None:
        """Gives a held seat back; releasing a hold that already ended changes nothing."""
        day_id = day_of_hold(command.hold_id)

        def attempt() -> None:
            day = self._site_day_by_id(day_id)
            if day is None or day.municipality != command.municipality:
                raise NotFound(f"no hold {command.hold_id}")
            if day.release_hold(command.hold_id, "released"):
                self.save(day)

        with self._serialised(day_id):
            self._retry_conflicts(attempt)

    # booking

    # Told every booking command's outcome, whichever entrypoint gave it: the service counts.
    booking_outcome: Callable[[str], None] = staticmethod(lambda outcome: None)

    def book(self, command: BookTime) -> Booking:
        """Books a seat; under the same idempotency key, the identical command gets the booking
        as it was first made, and any other command is refused (`KeyReused`)."""
        try:
            booking, outcome = self._book_or_replay(command)
        except Exception as error:
            self.booking_outcome(outcome_of(error))
            raise
        self.booking_outcome(outcome)
        return booking

    def _book_or_replay(self, command: BookTime) -> tuple[Booking, str]:
        booking_id = self._booking_id(command)
        day_id = SiteDay.create_id(
            command.municipality, command.site, local_date(command.starts_at)
        )
        try:
            if command.acute_reason is None and command.hold_id is None:
                self._refuse_when_full(
                    command.municipality, command.site, command.service, command.starts_at,
                    str(booking_id),
                )  # fmt: skip
            with self._serialised(day_id):
                return self._retry_conflicts(lambda: self._book(command, booking_id)), "created"
        except BookingError:
            if command.idempotency_key is not None:
                with suppress(NotFound):  # the same command, made before: its booking
                    return self._replayed(command, booking_id), "replayed"
            raise

    @cached_property
    def idempotency(self) -> Idempotency:
        # Without a key the store is in memory (personal_data_keys refuses PostgreSQL without
        # one): its ids live no longer than the process, so a random key is right.
        return Idempotency.from_master_key(self.env.get(MASTER_KEY_ENV) or MasterKey.generate())

    def _booking_id(self, command: BookTime) -> UUID:
        if command.idempotency_key is None:
            return uuid4()
        return self.idempotency.booking_id(command.municipality, command.idempotency_key)

    def _replayed(self, command: BookTime, booking_id: UUID) -> Booking:
        """The booking made under the command's key, as it was made, if the command is the
        one it was made with; NotFound if none was."""
        booking = self.get_booking(booking_id)
        self.idempotency.check_replay(command, booking.request_digest)
        if booking.version == 1:
            return booking
        first: Booking = self.repository.get(booking_id, version=1)
        return first

    def _book(self, command: BookTime, booking_id: UUID) -> Booking:
        """A booking id is saved once (saving it again conflicts), so a command made before
        is recognised when it fails, instead of by reading the booking on every command."""
        try:
            return self._book_new(command, booking_id)
        except RecordConflictError:
            with suppress(NotFound):  # saved before, maybe by this very command's first try
                return self._replayed(command, booking_id)
            raise

    def _book_new(self, command: BookTime, booking_id: UUID) -> Booking:
        day_id = SiteDay.create_id(
            command.municipality, command.site, local_date(command.starts_at)
        )
        self._read_together(Municipality.create_id(command.municipality), day_id, saving=[day_id])
        municipality = self.get_municipality(command.municipality)
        site = municipality.get_site(command.site)
        service = municipality.get_service(command.service)
        now = self.clock()
        if command.starts_at <= now:
            raise Invalid(f"the time {command.starts_at.isoformat()} has passed")
        if command.acute_reason is not None and local_date(command.starts_at) != local_date(now):
            raise Invalid("acute times are for today only")
        day = self._open_day_for(command.municipality, site.name, command.site, command.starts_at)
        day.take_seat(
            command.starts_at,
            str(booking_id),
            command.service,
            now=now,
            hold_id=command.hold_id,
            acute=command.acute_reason is not None,
        )
        slot = day.slot(command.starts_at)
        key, new_key = self._citizen_key(command, slot.starts_at)
        limit = municipality.active_bookings_limit
        if key.new:  # a pseudonym created just now: no bookings of theirs to read
            citizen = CitizenBookings.first_booking(
                key.id, command.municipality, str(booking_id), service.id, limit
            )
        else:
            citizen = self._citizen_bookings(key.id, command.municipality)
            citizen.count(
                str(booking_id),
                service.id,
                limit,
                CitizenBookings.active(self._status_and_time, now),
            )
        booking = Booking.book(
            booking_id,
            key,
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
            booked_at=now,
            acute_reason=command.acute_reason,
            by=command.by,
            request_digest=(
                None
                if command.idempotency_key is None
                else self.idempotency.request_digest(command)
            ),
        )
        try:
            self.save(booking, day, citizen, **({NEW_KEYS: [new_key]} if new_key else {}))
        except RecordConflictError as conflict:
            if new_key is not None and is_known_citizen(conflict):
                self.personal_data.known(new_key.lookup)  # decided again with `subject_for`
            raise
        if new_key is not None:
            self.personal_data.known(new_key.lookup)
        return booking

    def _citizen_key(
        self, command: BookTime, appointment_at: datetime
    ) -> tuple[Subject, NewKey | None]:
        """The citizen's key, and its row if it is new and to be inserted with the booking: a
        phone number this process has not seen is taken to be new (`PersonalDataKeys.candidate`),
        the unique lookup in the database deciding."""
        guess = self.personal_data.candidate(command.municipality, command.phone, appointment_at)
        if guess is not None:
            return guess
        return self.personal_data.subject_for(
            command.municipality, command.phone, appointment_at
        ), None

    def _open_day_for(
        self, municipality: str, site_name: str, site: str, starts_at: datetime
    ) -> SiteDay:
        """The day a citizen asks for; a day with no times is a wrong request, not a 404."""
        try:
            return self.get_site_day(municipality, site, local_date(starts_at))
        except NotFound:
            raise Invalid(
                f"{site_name} has no bookable times on {local_date(starts_at)} "
                "(closed, a public holiday, or not yet open for booking)"
            ) from None

    def _citizen_bookings(self, citizen_id: UUID, municipality: str) -> CitizenBookings:
        try:
            found: CitizenBookings = self.repository.get(citizen_id)
        except AggregateNotFoundError:
            return CitizenBookings.start(citizen_id, municipality)
        return found

    # changing a booking

    def reschedule(self, command: RescheduleBooking) -> Booking:
        return self._move(command.booking_id, command.starts_at, hold_id=None, by=command.by)

    def _move(
        self,
        booking_id: UUID,
        starts_at: datetime,
        hold_id: str | None,
        left: str | None = None,
        by: str | None = None,
    ) -> Booking:
        """Moves a booking to another time, its new seat and old seat saved with it."""

        def attempt() -> Booking:
            booking = self.get_booking(booking_id)
            if booking.status is not Status.booked:
                raise Conflict(
                    f"booking {booking.id} is {booking.status.value}; it cannot be moved"
                )
            old_day = self.get_site_day(
                booking.municipality, booking.site, local_date(booking.starts_at)
            )
            same_day = old_day.date == local_date(starts_at)
            new_day = (
                old_day
                if same_day
                else self._open_day_for(
                    booking.municipality, booking.site_name, booking.site, starts_at
                )
            )
            new_day.take_seat(
                starts_at, str(booking.id), booking.service, now=self.clock(), hold_id=hold_id
            )
            old_day.release_seat(booking.starts_at, str(booking.id))
            new_slot = new_day.slot(starts_at)
            booking.reschedule(new_slot.starts_at, new_slot.ends_at, self.clock(), by)
            if left is not None and booking.waitlisted:
                booking.leave_waitlist(left, self.clock(), by)
            self.save(booking, old_day, *(() if same_day else (new_day,)))
            if booking.subject_id is not None:  # retention runs from the latest appointment
                self.personal_data.extend(booking.subject_id, booking.starts_at)
            return booking

        booking = self.get_booking(booking_id)
        with self._serialised(
            SiteDay.create_id(booking.municipality, booking.site, local_date(booking.starts_at)),
            SiteDay.create_id(booking.municipality, booking.site, local_date(starts_at)),
        ):
            return self._retry_conflicts(attempt)

    def cancel(self, command: CancelBooking) -> Booking:
        def attempt() -> Booking:
            booking = self.get_booking(command.booking_id)
            day = self.get_site_day(
                booking.municipality, booking.site, local_date(booking.starts_at)
            )
            offer = booking.offer
            booking.cancel(
                command.reason, command.cancelled_by, self.clock(), self.citizen_of(booking)
            )
            day.release_seat(booking.starts_at, str(booking.id))
            changed: list[Aggregate] = [booking, day]
            if offer is not None:  # the earlier time held for this booking goes back too
                offered_day = self._offered_day(booking, offer.starts_at, day)
                released = offered_day.release_hold(
                    waitlist_hold(booking.id, offered_day.id), "released"
                )
                if released and offered_day is not day:
                    changed.append(offered_day)
            self.save(*changed)
            return booking

        booking = self.get_booking(command.booking_id)
        with self._serialised(
            SiteDay.create_id(booking.municipality, booking.site, local_date(booking.starts_at))
        ):
            return self._retry_conflicts(attempt)

    # the waitlist

    def join_waitlist(self, command: JoinWaitlist) -> Booking:
        def attempt() -> Booking:
            booking = self.get_booking(command.booking_id)
            booking.join_waitlist(self.clock(), command.by)
            self.save(booking)
            return booking

        return self._retry_conflicts(attempt)

    def leave_waitlist(self, command: LeaveWaitlist) -> Booking:
        def attempt() -> Booking:
            booking = self.get_booking(command.booking_id)
            offer = booking.offer
            booking.leave_waitlist("withdrawn", self.clock(), command.by)
            changed: list[Aggregate] = [booking]
            if offer is not None:
                day = self.get_site_day(
                    booking.municipality, booking.site, local_date(offer.starts_at)
                )
                if day.release_hold(waitlist_hold(booking.id, day.id), "released"):
                    changed.append(day)
            self.save(*changed)
            return booking

        return self._retry_conflicts(attempt)

    def accept_offer(self, command: AcceptOffer) -> Booking:
        booking = self.get_booking(command.booking_id)
        offer = booking.current_offer(self.clock())
        day_id = SiteDay.create_id(booking.municipality, booking.site, local_date(offer.starts_at))
        return self._move(
            booking.id, offer.starts_at, waitlist_hold(booking.id, day_id), "accepted", command.by
        )

    def _offered_day(self, booking: Booking, starts_at: datetime, day: SiteDay) -> SiteDay:
        if local_date(starts_at) == day.date:
            return day
        return self.get_site_day(booking.municipality, booking.site, local_date(starts_at))

    # after the visit

    def answer_survey(self, command: AnswerSurvey) -> Booking:
        def attempt() -> Booking:
            booking = self.get_booking(command.booking_id)
            booking.answer_survey(
                command.satisfied_with_booking,
                command.easy_to_find_time,
                command.score,
                self.clock(),
                command.by,
            )
            self.save(booking)
            return booking

        return self._retry_conflicts(attempt)


def waitlist_hold(booking_id: UUID, day_id: UUID) -> str:
    """The hold of an earlier time offered to a waiting booking: one per booking and day."""
    return f"{day_id.hex}{uuid5(NAMESPACE_URL, f'borgerservice:offer:{booking_id}').hex}"
