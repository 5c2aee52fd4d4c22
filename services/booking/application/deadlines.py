"""Commands the booking service gives itself when a deadline passes or a seat frees up:
holds expire, waitlist offers lapse, acute seats are released, a freed time is offered to the
first citizen waiting for it. Each is idempotent, so firing one twice changes nothing."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from services.booking.application.base import BookingStore, local_date
from services.booking.application.citizen import waitlist_hold
from services.booking.domain.errors import Conflict, NotFound
from services.booking.domain.guarantee import WaitingGuarantee
from services.booking.domain.schedule import SiteDay


class DeadlineCommands(BookingStore):
    def release_expired_holds(self, municipality: str, site: str, day: date) -> int:
        def attempt() -> int:
            schedule = self.get_site_day(municipality, site, day)
            released = schedule.release_expired_holds(self.clock())
            if released:
                self.save(schedule)
            return released

        with self._serialised(SiteDay.create_id(municipality, site, day)):
            return self._retry_conflicts(attempt)

    def release_acute_seats(self, municipality: str, site: str, day: date) -> bool:
        def attempt() -> bool:
            schedule = self.get_site_day(municipality, site, day)
            if not schedule.release_acute_seats(self.clock()):
                return False
            self.save(schedule)
            return True

        with self._serialised(SiteDay.create_id(municipality, site, day)):
            return self._retry_conflicts(attempt)

    def offer_waitlist(self, booking_id: UUID, starts_at: datetime) -> bool:
        """Holds the freed time for a waiting booking and tells it; False when the booking no
        longer wants it or the seat is gone."""

        def attempt() -> bool:
            booking = self.get_booking(booking_id)
            if not booking.wants(starts_at):
                return False
            day = self.get_site_day(booking.municipality, booking.site, local_date(starts_at))
            now = self.clock()
            try:
                expires_at = day.hold_seat(
                    starts_at, waitlist_hold(booking.id, day.id), booking.service, now,
                    self.offer_ttl,
                )  # fmt: skip
            except (Conflict, NotFound):
                return False
            slot = day.slot(starts_at)
            booking.offer_time(slot.starts_at, slot.ends_at, expires_at, now)
            self.save(booking, day)
            return True

        booking = self.get_booking(booking_id)
        with self._serialised(
            SiteDay.create_id(booking.municipality, booking.site, local_date(starts_at))
        ):
            return self._retry_conflicts(attempt)

    def expire_offer(self, booking_id: UUID) -> bool:
        """At its deadline an unanswered offer lapses and its held seat is freed."""

        def attempt() -> bool:
            booking = self.get_booking(booking_id)
            offer = booking.offer
            if offer is None or not booking.expire_offer(self.clock()):
                return False
            day = self.get_site_day(booking.municipality, booking.site, local_date(offer.starts_at))
            changed: list[Aggregate] = [booking]
            if day.release_hold(waitlist_hold(booking.id, day.id), "expired"):
                changed.append(day)
            self.save(*changed)
            return True

        return self._retry_conflicts(attempt)

    def observe_first_free_time(
        self, municipality: str, site: str, service: str, first_free_at: datetime | None
    ) -> bool:
        """Compares the first free time with the municipality's target; True when it crossed
        the target (a `guarantee.breached` or `guarantee.restored` event was saved)."""
        target = self.get_municipality(municipality).waiting_target_working_days

        def attempt() -> bool:
            guarantee_id = WaitingGuarantee.create_id(municipality, site, service)
            if guarantee_id in self.repository:
                guarantee: WaitingGuarantee = self.repository.get(guarantee_id)
            else:
                guarantee = WaitingGuarantee.watch(municipality, site, service)
            if not guarantee.observe(first_free_at, target, self.clock()):
                return False
            self.save(guarantee)
            return True

        return self._retry_conflicts(attempt)
