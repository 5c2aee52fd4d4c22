"""Events of the booking aggregate: a citizen's appointment from booking to its end."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails

from events.envelope import EventData
from events.personal import E164, Sealed


class Channel(StrEnum):
    """How the booking reached us: web, or phone and counter for citizens who are not digital."""

    web = "web"
    phone = "phone"
    counter = "counter"
    assisted = "assisted"


class BookingBooked(EventData):
    """A citizen has a confirmed time. Carries what the confirmation SMS must say.

    Version 2 added `acute_reason`. Version 3 seals the citizen's name, phone number and acute
    reason in `personal` (unreadable once the citizen is erased) and says `acute` in the open;
    earlier history carries them in the plaintext fields, which stay as they were.
    """

    TYPE = "booking.booked"
    VERSION = 3

    service: str
    service_name: str
    site_name: str
    documents: list[str] = Field(description="What the citizen must bring")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    channel: Channel
    booked_at: AwareDatetime
    acute: bool = Field(
        default=False, description="Staff booked same-day acute capacity (the reason is sealed)"
    )
    personal: Sealed | None = Field(
        default=None, description="`citizen_name`, `phone` and `acute_reason`, sealed"
    )
    citizen_name: str | None = Field(
        default=None, min_length=1, description="Plaintext: only in history before version 3"
    )
    phone: str | None = Field(
        default=None, pattern=E164, description="E.164, plaintext: only before version 3"
    )
    acute_reason: str | None = Field(
        default=None, description="Plaintext: only before version 3 (since: sealed)"
    )
    by: str | None = Field(
        default=None,
        description="Who: a staff account, `citizen:<manage token fingerprint>`, or `citizen`"
        " (history before this was recorded)",
    )

    @model_validator(mode="after")
    def _names_its_citizen(self) -> BookingBooked:
        """Without `personal`, name and phone are required in plaintext (as before version
        3); `acute` follows from the plaintext reason when not given. After validation, not
        before: a before-validator makes pydantic build a dict of every message it parses
        from JSON, a third of what decoding a booking costs."""
        if self.personal is None:
            missing = [name for name in ("citizen_name", "phone") if getattr(self, name) is None]
            if missing:
                raise ValidationError.from_exception_data(
                    type(self).__name__,
                    [InitErrorDetails(type="missing", loc=(name,), input=None) for name in missing],
                )
        if "acute" not in self.model_fields_set and self.acute_reason is not None:
            # Still being made: frozen only keeps it from being changed once made (pydantic
            # keeps `self`, not a copy, when constructed directly).
            object.__setattr__(self, "acute", True)
        return self


class BookingRescheduled(EventData):
    """The citizen (or staff) moved the booking to another time."""

    TYPE = "booking.rescheduled"

    service: str
    previous_starts_at: AwareDatetime
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    rescheduled_at: AwareDatetime
    by: str | None = Field(
        default=None,
        description="Who: a staff account, `citizen:<manage token fingerprint>`, or `citizen`"
        " (history before this was recorded)",
    )


class BookingCancelled(EventData):
    """The booking no longer holds a seat."""

    TYPE = "booking.cancelled"
    VERSION = 2  # version 2: the reason may be sealed in `personal`

    service: str
    starts_at: AwareDatetime
    reason: str | None = Field(default=None, description="Plaintext: only before version 2")
    personal: Sealed | None = Field(default=None, description="`reason`, sealed")
    cancelled_by: str = Field(description="'citizen' or a staff account")
    cancelled_at: AwareDatetime
    bulk: bool = Field(
        default=False,
        description="Part of a bulk cancellation (a site closed, staff ill); added compatibly",
    )


class BookingCheckedIn(EventData):
    """The citizen arrived and was checked in."""

    TYPE = "booking.checked_in"

    service: str
    starts_at: AwareDatetime
    checked_in_at: AwareDatetime
    by: str = Field(description="The staff account")


class BookingStarted(EventData):
    """Staff started serving the citizen."""

    TYPE = "booking.started"

    service: str
    starts_at: AwareDatetime
    started_at: AwareDatetime
    by: str


class BookingCompleted(EventData):
    """The visit is over; `handling_minutes` is from start to completion."""

    TYPE = "booking.completed"

    service: str
    starts_at: AwareDatetime
    completed_at: AwareDatetime
    handling_minutes: float = Field(ge=0)
    by: str


class BookingNoShow(EventData):
    """The citizen did not come."""

    TYPE = "booking.no_show"

    service: str
    starts_at: AwareDatetime
    recorded_at: AwareDatetime
    by: str


class PreAssessment(StrEnum):
    """Staff look at a booking before the visit (seeds/001)."""

    documents_ok = "documents_ok"
    documents_missing = "documents_missing"
    solved_online = "solved_online"


class BookingPreAssessed(EventData):
    """Staff pre-assessed the booking; `solved_online` resolves it without a visit and frees
    its seat."""

    TYPE = "booking.pre_assessed"
    VERSION = 2  # version 2: the note may be sealed in `personal`

    service: str
    starts_at: AwareDatetime
    outcome: PreAssessment
    note: str | None = Field(default=None, description="Plaintext: only before version 2")
    personal: Sealed | None = Field(default=None, description="`note`, sealed")
    assessed_at: AwareDatetime
    by: str


class BookingWaitlisted(EventData):
    """The citizen keeps the booking and asks to be offered an earlier time."""

    TYPE = "booking.waitlisted"

    service: str
    starts_at: AwareDatetime
    waitlisted_at: AwareDatetime
    by: str | None = Field(
        default=None,
        description="Who: a staff account, `citizen:<manage token fingerprint>`, or `citizen`"
        " (history before this was recorded)",
    )


class BookingWaitlistOffered(EventData):
    """An earlier time freed up and is held for this citizen until `hold_expires_at`."""

    TYPE = "booking.waitlist_offered"

    service: str
    starts_at: AwareDatetime
    offered_starts_at: AwareDatetime
    offered_ends_at: AwareDatetime
    hold_expires_at: AwareDatetime
    offered_at: AwareDatetime


class BookingWaitlistOfferExpired(EventData):
    """The citizen did not take the offered time in time; it goes to the next in line."""

    TYPE = "booking.waitlist_offer_expired"

    service: str
    starts_at: AwareDatetime
    offered_starts_at: AwareDatetime
    expired_at: AwareDatetime


class BookingLeftWaitlist(EventData):
    """The booking is no longer waiting for an earlier time."""

    TYPE = "booking.left_waitlist"

    service: str
    starts_at: AwareDatetime
    reason: str = Field(description="'accepted', 'declined', 'cancelled' or 'withdrawn'")
    left_at: AwareDatetime
    by: str | None = Field(
        default=None,
        description="Who: a staff account, `citizen:<manage token fingerprint>`, or `citizen`"
        " (history before this was recorded)",
    )


class BookingSurveyAnswered(EventData):
    """The citizen answered the satisfaction survey after a completed visit (seeds/003)."""

    TYPE = "booking.survey_answered"

    service: str
    starts_at: AwareDatetime
    satisfied_with_booking: bool = Field(description="Satisfied with having to book")
    easy_to_find_time: bool
    score: int | None = Field(default=None, ge=1, le=5)
    answered_at: AwareDatetime
    by: str | None = Field(
        default=None,
        description="Who: a staff account, `citizen:<manage token fingerprint>`, or `citizen`"
        " (history before this was recorded)",
    )


class BookingManageTokensRevoked(EventData):
    """Every manage link issued so far stops working (a link shared by mistake, a lost phone);
    links issued from now on carry `generation`."""

    TYPE = "booking.manage_tokens_revoked"

    service: str
    starts_at: AwareDatetime
    generation: int = Field(ge=1)
    by: str = Field(description="The staff account, or `citizen:<fingerprint>` renewing")
    revoked_at: AwareDatetime
