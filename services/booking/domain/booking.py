"""A citizen's booking, from booked to cancelled.

What it says about the citizen as a person (name, phone number, the acute reason, a note, a
cancellation reason) is stored only sealed with the citizen's own key (`Sealer`), so that
erasing the citizen makes it unreadable; the rest of the booking stays readable for good."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from events.personal import Sealed
from services.booking.domain.errors import Conflict


class Status(StrEnum):
    booked = "booked"
    checked_in = "checked_in"
    started = "started"
    completed = "completed"
    no_show = "no_show"
    cancelled = "cancelled"
    resolved_online = "resolved_online"

    @property
    def holds_seat(self) -> bool:
        return self in (Status.booked, Status.checked_in, Status.started)


# The lifecycle: which status each step may start from.
CHECK_IN_FROM = (Status.booked,)
START_FROM = (Status.booked, Status.checked_in)
COMPLETE_FROM = (Status.started,)
NO_SHOW_FROM = (Status.booked,)
CANCEL_FROM = (Status.booked, Status.checked_in)


@dataclass(frozen=True)
class Offer:
    """An earlier time held for this booking from the waitlist, until `expires_at`."""

    starts_at: datetime
    ends_at: datetime
    expires_at: datetime


class Sealer(Protocol):
    """Seals fields about one citizen with that citizen's key (infra/personal_data.py)."""

    @property
    def id(self) -> UUID: ...

    def seal(self, fields: Mapping[str, str | None]) -> Sealed: ...


class Booking(Aggregate):
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

    def _require(self, allowed: tuple[Status, ...], action: str) -> None:
        if self.status not in allowed:
            raise Conflict(f"booking {self.id} is {self.status.value}; it cannot be {action}")

    def _require_active(self) -> None:
        self._require((Status.booked,), "changed")

    def _facts(self) -> dict[str, Any]:
        """What every lifecycle event carries about the booking."""
        return {
            "municipality": self.municipality,
            "site": self.site,
            "service": self.service,
            "starts_at": self.starts_at,
        }

    @property
    def sealed(self) -> Sealed | None:
        """Name, phone number and acute reason as sealed at booking; None before sealing."""
        if self.subject_id is None or self.personal is None:
            return None
        return Sealed(subject_id=self.subject_id, ciphertext=self.personal)

    def _about_citizen(self, citizen: Sealer | None, **fields: str) -> dict[str, Any]:
        """Fields about the citizen, as an event stores them: sealed with the citizen's key, or
        in plaintext for a booking from before sealing (like the rest of its history). With
        the key gone (`citizen` None) the citizen is erased and nothing about them is added."""
        if self.subject_id is None:
            return {**fields, "subject_id": None, "personal": None}
        if citizen is None or citizen.id != self.subject_id:
            raise Conflict(f"the citizen of booking {self.id} is erased; it cannot be changed")
        sealed = citizen.seal(fields)
        return {
            **dict.fromkeys(fields),
            "subject_id": self.subject_id,
            "personal": sealed.ciphertext,
        }

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

    def pre_assess(
        self, outcome: str, note: str, by: str, at: datetime, citizen: Sealer | None
    ) -> None:
        """Staff look at the booking before the visit; `solved_online` resolves it. Their note
        is sealed with `citizen`'s key."""
        self._require_active()
        self._pre_assessed(
            **self._facts(),
            **self._about_citizen(citizen, note=note),
            outcome=outcome,
            assessed_at=at,
            by=by,
        )

    @event("PreAssessed")
    def _pre_assessed(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        outcome: str,
        note: str | None,
        assessed_at: datetime,
        by: str,
        subject_id: UUID | None = None,
        personal: str | None = None,
    ) -> None:
        self.pre_assessment = outcome
        if outcome == "solved_online":
            self.status = Status.resolved_online

    def check_in(self, by: str, at: datetime) -> None:
        self._require(CHECK_IN_FROM, "checked in")
        self._checked_in(**self._facts(), checked_in_at=at, by=by)

    @event("CheckedIn")
    def _checked_in(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        checked_in_at: datetime,
        by: str,
    ) -> None:
        self.status = Status.checked_in

    def start(self, by: str, at: datetime) -> None:
        self._require(START_FROM, "started")
        self._started(**self._facts(), started_at=at, by=by)

    @event("Started")
    def _started(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        started_at: datetime,
        by: str,
    ) -> None:
        self.status = Status.started
        self.started_at = started_at

    def complete(self, by: str, at: datetime) -> None:
        self._require(COMPLETE_FROM, "completed")
        minutes = max(0.0, (at - self.started_at).total_seconds() / 60)
        self._completed(**self._facts(), completed_at=at, handling_minutes=round(minutes, 2), by=by)

    @event("Completed")
    def _completed(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        completed_at: datetime,
        handling_minutes: float,
        by: str,
    ) -> None:
        self.status = Status.completed
        self.handling_minutes = handling_minutes

    def record_no_show(self, by: str, at: datetime) -> None:
        self._require(NO_SHOW_FROM, "recorded as a no-show")
        if at < self.starts_at:
            raise Conflict(
                f"booking {self.id} starts at {self.starts_at.isoformat()}; not yet a no-show"
            )
        self._no_show(**self._facts(), recorded_at=at, by=by)

    @event("NoShow")
    def _no_show(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        recorded_at: datetime,
        by: str,
    ) -> None:
        self.status = Status.no_show

    # the waitlist: keep this booking, but take an earlier time if one frees up

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

    # the survey after the visit (seeds/002)

    def answer_survey(
        self,
        satisfied_with_booking: bool,
        easy_to_find_time: bool,
        score: int | None,
        at: datetime,
        by: str | None = None,
    ) -> None:
        self._require((Status.completed,), "asked about a visit that has not happened")
        if self.survey_answered:
            raise Conflict(f"the survey for booking {self.id} is already answered")
        self._survey_answered(
            **self._facts(),
            satisfied_with_booking=satisfied_with_booking,
            easy_to_find_time=easy_to_find_time,
            score=score,
            answered_at=at,
            by=by,
        )

    @event("SurveyAnswered")
    def _survey_answered(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        satisfied_with_booking: bool,
        easy_to_find_time: bool,
        score: int | None,
        answered_at: datetime,
        by: str | None = None,
    ) -> None:
        self.survey_answered = True

    # the citizen's manage links

    def revoke_manage_tokens(self, by: str, at: datetime) -> int:
        """Every manage link issued so far stops working; returns the new generation, which
        the links issued from now on carry."""
        self._manage_tokens_revoked(
            **self._facts(), generation=self.manage_generation + 1, by=by, revoked_at=at
        )
        return self.manage_generation

    @event("ManageTokensRevoked")
    def _manage_tokens_revoked(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        generation: int,
        by: str,
        revoked_at: datetime,
    ) -> None:
        self.manage_generation = generation
