"""A citizen's booking, from booked to cancelled.

What it says about the citizen as a person (name, phone number, the acute reason, a note, a
cancellation reason) is stored only sealed with the citizen's own key (`Sealer`), so that
erasing the citizen makes it unreadable; the rest of the booking stays readable for good.

One aggregate of parts by what they hold: booking, rescheduling and cancelling here; the visit
(visit.py), the waitlist (waitlist.py), the survey (survey.py), the manage links
(manage_links.py). Every event is Booking's own: its topic, stored with it and named on the bus
(`services.booking.domain.booking:Booking.<Event>`), stays what it was before the split."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.booking.domain.booking_state import CANCEL_FROM, Offer, Sealer, Status
from services.booking.domain.errors import Conflict
from services.booking.domain.manage_links import ManageLinks
from services.booking.domain.survey import Survey
from services.booking.domain.visit import Visit
from services.booking.domain.waitlist import Waitlist


class Booking(Aggregate, Visit, Waitlist, Survey, ManageLinks):
    # The parts' event methods, declared on Booking so their events are Booking's (the
    # eventsourcing library makes events of the methods in a class's own body only).
    _pre_assessed = vars(Visit)["_pre_assessed"]
    _checked_in = vars(Visit)["_checked_in"]
    _started = vars(Visit)["_started"]
    _completed = vars(Visit)["_completed"]
    _no_show = vars(Visit)["_no_show"]
    _waitlisted = vars(Waitlist)["_waitlisted"]
    _waitlist_offered = vars(Waitlist)["_waitlist_offered"]
    _offer_expired = vars(Waitlist)["_offer_expired"]
    _left_waitlist = vars(Waitlist)["_left_waitlist"]
    _survey_answered = vars(Survey)["_survey_answered"]
    _manage_tokens_revoked = vars(ManageLinks)["_manage_tokens_revoked"]

    class Booked(Aggregate.Created):
        """Version 2 added `acute_reason`. Version 3 seals name, phone and acute reason in
        `personal` under the citizen's `subject_id`; stored earlier versions are upcast on
        reading and keep their plaintext fields."""

        municipality: str
        site: str
        service: str
        service_name: str
        site_name: str
        documents: list[str]
        starts_at: datetime
        ends_at: datetime
        channel: str
        booked_at: datetime
        acute: bool
        subject_id: UUID | None
        personal: str | None
        citizen_name: str | None
        phone: str | None
        acute_reason: str | None
        by: str | None = None  # who booked; absent from events stored before it was recorded
        # the keyed digest of the request made under an Idempotency-Key; never on the bus
        request_digest: str | None = None

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["acute_reason"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["acute"] = state["acute_reason"] is not None
            state["subject_id"] = None
            state["personal"] = None

    @classmethod
    def book(
        cls,
        booking_id: UUID,
        citizen: Sealer,
        citizen_name: str,
        phone: str,
        acute_reason: str | None = None,
        by: str | None = None,
        request_digest: str | None = None,
        **facts: Any,
    ) -> Booking:
        """A new booking with an id the caller chose (derived from an idempotency key); who the
        citizen is and why a time is acute is stored sealed with the citizen's key."""
        sealed = citizen.seal(
            {"citizen_name": citizen_name, "phone": phone, "acute_reason": acute_reason}
        )
        return cls._create(
            cls.Booked,
            id=booking_id,
            acute=acute_reason is not None,
            subject_id=citizen.id,
            personal=sealed.ciphertext,
            citizen_name=None,
            phone=None,
            acute_reason=None,
            by=by,
            request_digest=request_digest,
            **facts,
        )

    @event(Booked)
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
        channel: str,
        booked_at: datetime,
        acute: bool,
        subject_id: UUID | None,
        personal: str | None,
        citizen_name: str | None,
        phone: str | None,
        acute_reason: str | None,
        by: str | None = None,
        request_digest: str | None = None,
    ) -> None:
        self.municipality = municipality
        self.site = site
        self.service = service
        self.service_name = service_name
        self.site_name = site_name
        self.documents = list(documents)
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.channel = channel
        self.booked_at = booked_at
        self.acute = acute
        self.subject_id = subject_id  # None: booked before personal data was sealed
        self.personal = personal  # sealed: citizen_name, phone, acute_reason
        # Plaintext only in bookings made before personal data was sealed.
        self.plaintext: dict[str, str | None] | None = (
            None
            if subject_id is not None
            else {"citizen_name": citizen_name, "phone": phone, "acute_reason": acute_reason}
        )
        self.status = Status.booked
        self.waitlisted = False
        self.offer: Offer | None = None
        self.survey_answered = False
        self.manage_generation = 0  # manage links issued before a revocation stop working
        self.request_digest = request_digest  # None: booked without an Idempotency-Key

    def reschedule(
        self, starts_at: datetime, ends_at: datetime, at: datetime, by: str | None = None
    ) -> None:
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
            by=by,
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
        by: str | None = None,
    ) -> None:
        self.starts_at = starts_at
        self.ends_at = ends_at
        if self.offer is not None and starts_at == self.offer.starts_at:
            self.offer = None

    def cancel(
        self,
        reason: str,
        cancelled_by: str,
        at: datetime,
        citizen: Sealer | None,
        bulk: bool = False,
    ) -> None:
        """The reason (the citizen's own words, or staff's) is sealed with `citizen`'s key."""
        self._require(CANCEL_FROM, "cancelled")
        self._cancelled(
            **self._facts(),
            **self._about_citizen(citizen, reason=reason),
            cancelled_by=cancelled_by,
            cancelled_at=at,
            bulk=bulk,
        )

    @event("Cancelled")
    def _cancelled(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        reason: str | None,
        cancelled_by: str,
        cancelled_at: datetime,
        bulk: bool = False,
        subject_id: UUID | None = None,
        personal: str | None = None,
    ) -> None:
        self.status = Status.cancelled
        self.waitlisted = False
        self.offer = None


__all__ = ["Booking", "Offer", "Status"]
