"""Commands the booking application takes, from HTTP and from NATS request-reply alike."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from events.booking import Channel, PreAssessment
from events.envelope import SLUG
from infra.text import Line, Lines, Note
from services.booking.domain.errors import Invalid
from services.booking.domain.phone import normalise_phone


def _phone(value: str) -> str:
    try:
        return normalise_phone(value)
    except Invalid as error:
        raise ValueError(str(error)) from error


PhoneNumber = Annotated[
    str,
    AfterValidator(_phone),
    Field(
        description="Danish or international phone number; stored as E.164",
        examples=["+45 20 30 40 50"],
    ),
]

# The free text citizens and staff send: NFC, no control or bidi characters (infra/text.py).
CitizenName = Annotated[Line, Field(min_length=1, max_length=200)]
Reason = Annotated[Lines, Field(min_length=1, max_length=500)]
CancelReason = Annotated[Note, Field(max_length=500)]  # the citizen's, if they give one
StaffNote = Annotated[Note, Field(max_length=1000)]
AcuteReason = Annotated[
    Lines,
    Field(
        min_length=1,
        max_length=500,
        description="Staff only: book today's acute seats, with the reason",
    ),
]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BookTime(Command):
    municipality: str = Field(pattern=SLUG)
    site: str = Field(pattern=SLUG)
    service: str = Field(pattern=SLUG)
    starts_at: AwareDatetime
    citizen_name: CitizenName
    phone: PhoneNumber
    channel: Channel = Channel.web
    idempotency_key: str | None = Field(default=None, max_length=200)
    hold_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    acute_reason: AcuteReason | None = None
    by: str | None = Field(
        default=None, max_length=100, description="Who: staff account or citizen:<fingerprint>"
    )


class RescheduleBooking(Command):
    booking_id: UUID
    starts_at: AwareDatetime
    by: str | None = Field(
        default=None, max_length=100, description="Who: staff account or citizen:<fingerprint>"
    )


class CancelBooking(Command):
    booking_id: UUID
    reason: CancelReason = "cancelled by the citizen"
    cancelled_by: str = "citizen"


class StaffCommand(Command):
    """A command staff give about one booking of their municipality."""

    municipality: str = Field(pattern=SLUG)
    booking_id: UUID
    by: str = Field(min_length=1, max_length=100, description="The staff account")


class CheckIn(StaffCommand):
    pass


class StartVisit(StaffCommand):
    pass


class CompleteVisit(StaffCommand):
    pass


class RecordNoShow(StaffCommand):
    pass


class PreAssess(StaffCommand):
    outcome: PreAssessment
    note: StaffNote = ""


class CancelByStaff(StaffCommand):
    reason: Reason


class CancelSiteDay(Command):
    """Cancels every booking at a site whose time starts in [from_time, to_time) (site closed,
    staff ill): the end is exclusive, as on a clock."""

    municipality: str = Field(pattern=SLUG)
    site: str = Field(pattern=SLUG)
    day: date
    from_time: time = time.min
    to_time: time = time.max
    reason: Reason
    by: str = Field(min_length=1, max_length=100)


class HoldTime(Command):
    """Holds a seat for a few minutes while the citizen enters their details."""

    municipality: str = Field(pattern=SLUG)
    site: str = Field(pattern=SLUG)
    service: str = Field(pattern=SLUG)
    starts_at: AwareDatetime


HOLD_ID = r"^[0-9a-f]{64}$"


class ReleaseHold(Command):
    municipality: str = Field(pattern=SLUG)
    hold_id: str = Field(pattern=HOLD_ID)


class JoinWaitlist(Command):
    booking_id: UUID
    by: str | None = Field(
        default=None, max_length=100, description="Who: staff account or citizen:<fingerprint>"
    )


class LeaveWaitlist(Command):
    booking_id: UUID
    by: str | None = Field(
        default=None, max_length=100, description="Who: staff account or citizen:<fingerprint>"
    )


class AcceptOffer(Command):
    """Takes the earlier time the waitlist offered; the booking moves there."""

    booking_id: UUID
    by: str | None = Field(
        default=None, max_length=100, description="Who: staff account or citizen:<fingerprint>"
    )


class AnswerSurvey(Command):
    booking_id: UUID
    satisfied_with_booking: bool = Field(description="Satisfied with having to book a time")
    easy_to_find_time: bool = Field(description="It was easy to find a time")
    score: int | None = Field(default=None, ge=1, le=5)
    by: str | None = Field(
        default=None, max_length=100, description="Who: staff account or citizen:<fingerprint>"
    )


class RevokeManageTokens(StaffCommand):
    """Every manage link of the booking issued so far stops working; a new one is issued."""
