"""What staff do: the lifecycle of a visit, pre-assessment, and cancelling for citizens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from uuid import UUID

from events.booking import PreAssessment
from services.booking.application.base import local_date
from services.booking.application.citizen import waitlist_hold
from services.booking.application.personal_data import PersonalDataCommands
from services.booking.commands import (
    CancelByStaff,
    CancelSiteDay,
    CheckIn,
    CompleteVisit,
    PreAssess,
    RecordNoShow,
    RevokeManageTokens,
    StaffCommand,
    StartVisit,
)
from services.booking.domain.booking import Booking, Offer
from services.booking.domain.opening_hours import COPENHAGEN
from services.booking.domain.schedule import SiteDay


class StaffCommands(PersonalDataCommands):
    def _staff_change(self, command: StaffCommand, change: Callable[[Booking], object]) -> Booking:
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

    def revoke_manage_tokens(self, command: RevokeManageTokens) -> Booking:
        """Every manage link of the booking stops working; the booking's new generation is what
        links issued from now on carry."""
        return self._staff_change(
            command, lambda b: b.revoke_manage_tokens(command.by, self.clock())
        )

    def pre_assess(self, command: PreAssess) -> Booking:
        """Documents fine or missing; or solved online, which frees the seat with no visit."""

        def assess(booking: Booking) -> None:
            booking.pre_assess(
                command.outcome.value, command.note, command.by, self.clock(),
                self.citizen_of(booking),
            )  # fmt: skip

        if command.outcome is not PreAssessment.solved_online:
            return self._staff_change(command, assess)
        return self._with_seat_released(command, assess)

    def cancel_by_staff(self, command: CancelByStaff) -> Booking:
        return self._with_seat_released(
            command,
            lambda b: b.cancel(
                command.reason, f"staff:{command.by}", self.clock(), self.citizen_of(b)
            ),
        )

    def _with_seat_released(
        self, command: StaffCommand, change: Callable[[Booking], None]
    ) -> Booking:
        """A step that ends the booking: saved atomically with its seat given back."""
        booking = self.get_booking_of(command.municipality, command.booking_id)
        day_id = SiteDay.create_id(
            booking.municipality, booking.site, local_date(booking.starts_at)
        )

        def attempt() -> Booking:
            booking = self.get_booking_of(command.municipality, command.booking_id)
            day = self.get_site_day(
                booking.municipality, booking.site, local_date(booking.starts_at)
            )
            offer = booking.offer
            change(booking)
            day.release_seat(booking.starts_at, str(booking.id))
            self.save(booking, day, *self._release_offer(booking, offer, day))
            return booking

        with self._serialised(day_id):
            return self._retry_conflicts(attempt)

    def _release_offer(self, booking: Booking, offer: Offer | None, day: SiteDay) -> list[SiteDay]:
        """The earlier time held for a waiting booking goes back to everyone when the booking
        ends, as when the citizen cancels; returns the other day to save with it, if any."""
        if offer is None:
            return []
        offered = (
            day
            if local_date(offer.starts_at) == day.date
            else self.get_site_day(booking.municipality, booking.site, local_date(offer.starts_at))
        )
        released = offered.release_hold(waitlist_hold(booking.id, offered.id), "released")
        return [offered] if released and offered is not day else []

    def cancel_site_day(self, command: CancelSiteDay) -> list[Booking]:
        """Closes the site for the window (the times starting at `from_time` or later and
        before `to_time`: closing 10:00-11:00 keeps the 11:00 bookings) and cancels every
        booking in it, all in one atomic save; each citizen is told through their own
        `booking.cancelled` (bulk)."""
        day_id = SiteDay.create_id(command.municipality, command.site, command.day)
        closed_from = datetime.combine(command.day, command.from_time, COPENHAGEN)
        closed_until = datetime.combine(command.day, command.to_time, COPENHAGEN)

        def attempt() -> list[Booking]:
            day = self.get_site_day(command.municipality, command.site, command.day)
            now = self.clock()
            closing = day.close(closed_from, closed_until, command.reason, command.by, now)
            cancelled = []
            offered_days: dict[UUID, SiteDay] = {}
            for slot in closing:
                for holder in sorted(slot.holders | slot.acute_holders):
                    booking = self.get_booking(UUID(holder))
                    offer = booking.offer
                    booking.cancel(
                        command.reason, f"staff:{command.by}", now, self.citizen_of(booking),
                        bulk=True,
                    )  # fmt: skip
                    day.release_seat(slot.starts_at, holder)
                    for offered in self._release_offer(booking, offer, day):
                        offered_days[offered.id] = offered
                    cancelled.append(booking)
                for hold in sorted(slot.holds):
                    day.release_hold(hold, "released")
            if closing:
                self.save(day, *cancelled, *offered_days.values())
            return cancelled

        with self._serialised(day_id):
            return self._retry_conflicts(attempt)

    def bookings_on(self, municipality: str, site: str, day: date) -> list[Booking]:
        """The staff day view: every booking holding a seat at the site that day, by time."""
        schedule = self.get_site_day(municipality, site, day)
        holders = [
            holder
            for slot in sorted(schedule.slots.values(), key=lambda s: s.starts_at)
            for holder in sorted(slot.holders | slot.acute_holders)
        ]
        return [self.get_booking(UUID(holder)) for holder in holders]
