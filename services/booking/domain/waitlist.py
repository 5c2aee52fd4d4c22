"""The waitlist: a booking keeps its time but takes an earlier one if it frees up."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import event

from services.booking.domain.booking_state import BookingState, Offer, Status
from services.booking.domain.errors import Conflict


class Waitlist(BookingState):
    """Joining, being offered an earlier time (held until a deadline), and leaving."""

    def join_waitlist(self, at: datetime, by: str | None = None) -> None:
        self._require_active()
        if self.waitlisted:
            raise Conflict(f"booking {self.id} is already on the waitlist")
        self._waitlisted(**self._facts(), waitlisted_at=at, by=by)

    @event("Waitlisted")
    def _waitlisted(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        waitlisted_at: datetime,
        by: str | None = None,
    ) -> None:
        self.waitlisted = True

    def wants(self, starts_at: datetime) -> bool:
        """Whether a freed time at `starts_at` is worth offering to this booking."""
        return (
            self.status is Status.booked
            and self.waitlisted
            and self.offer is None
            and starts_at < self.starts_at
        )

    def offer_time(
        self, starts_at: datetime, ends_at: datetime, expires_at: datetime, at: datetime
    ) -> None:
        if not self.wants(starts_at):
            raise Conflict(f"booking {self.id} is not waiting for {starts_at.isoformat()}")
        self._waitlist_offered(
            **self._facts(),
            offered_starts_at=starts_at,
            offered_ends_at=ends_at,
            hold_expires_at=expires_at,
            offered_at=at,
        )

    @event("WaitlistOffered")
    def _waitlist_offered(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        offered_starts_at: datetime,
        offered_ends_at: datetime,
        hold_expires_at: datetime,
        offered_at: datetime,
    ) -> None:
        self.offer = Offer(offered_starts_at, offered_ends_at, hold_expires_at)

    def current_offer(self, at: datetime) -> Offer:
        if self.offer is None:
            raise Conflict(f"booking {self.id} has no offer of an earlier time")
        if self.offer.expires_at <= at:
            raise Conflict(f"the offer of {self.offer.starts_at.isoformat()} has expired")
        return self.offer

    def expire_offer(self, at: datetime) -> bool:
        """The offer lapses at its deadline; False if there is none due."""
        if self.offer is None or self.offer.expires_at > at:
            return False
        self._offer_expired(**self._facts(), offered_starts_at=self.offer.starts_at, expired_at=at)
        return True

    @event("WaitlistOfferExpired")
    def _offer_expired(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        offered_starts_at: datetime,
        expired_at: datetime,
    ) -> None:
        self.offer = None

    def leave_waitlist(self, reason: str, at: datetime, by: str | None = None) -> None:
        if not self.waitlisted:
            raise Conflict(f"booking {self.id} is not on the waitlist")
        self._left_waitlist(**self._facts(), reason=reason, left_at=at, by=by)

    @event("LeftWaitlist")
    def _left_waitlist(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        reason: str,
        left_at: datetime,
        by: str | None = None,
    ) -> None:
        self.waitlisted = False
        self.offer = None
