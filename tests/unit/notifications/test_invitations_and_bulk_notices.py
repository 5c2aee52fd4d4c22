"""Waitlist offers, survey invitations and bulk-cancellation notices: their Danish text,
their deadlines, their keys, and when they are sent at all."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events import Envelope, EventData
from events.booking import BookingCancelled, BookingCompleted, BookingWaitlistOffered
from services.notifications.domain.danish import DANISH_TIME
from services.notifications.domain.invitations import (
    SurveyPeriod,
    in_survey_period,
    survey_invitation,
    waitlist_offer,
)
from services.notifications.domain.messages import Booking, MessageKind, cancellation_notice
from services.notifications.domain.sending import Hold, SendNow, decide
from tests.unit.notifications.support import links

BOOKING = Booking(
    booking_id=uuid.UUID("0b7c2f4e-0000-4000-8000-000000000003"),
    municipality="herning",
    version=1,
    citizen_name="Sofie Holm",
    phone="+4520123456",
    service_name="Pas",
    site_name="Herning Bibliotek",
    documents=(),
    starts_at=datetime(2025, 6, 20, 8, 0, tzinfo=UTC),  # Friday 10:00 in Denmark
)
JUNE_AND_NOVEMBER = (SurveyPeriod.parse("06-01/06-30"), SurveyPeriod.parse("11-01/11-30"))


def event(data: EventData, version: int, at: datetime) -> Envelope[Any]:
    return Envelope[Any](
        event_id=uuid.uuid4(),
        type=data.TYPE,
        schema_version=data.VERSION,
        municipality=BOOKING.municipality,
        aggregate_id=BOOKING.booking_id,
        aggregate_version=version,
        occurred_at=at,
        data=data,
    )


def offered(hold_expires_at: datetime) -> Envelope[BookingWaitlistOffered]:
    at = datetime(2025, 6, 16, 9, 0, tzinfo=UTC)
    offered_at = datetime(2025, 6, 17, 7, 30, tzinfo=UTC)  # Tuesday 09:30
    data = BookingWaitlistOffered(
        service="pas",
        starts_at=BOOKING.starts_at,
        offered_starts_at=offered_at,
        offered_ends_at=offered_at + timedelta(minutes=15),
        hold_expires_at=hold_expires_at,
        offered_at=at,
    )
    return event(data, 3, at)


def completed(at: datetime) -> Envelope[BookingCompleted]:
    data = BookingCompleted(
        service="pas", starts_at=BOOKING.starts_at, completed_at=at, handling_minutes=12, by="ib"
    )
    return event(data, 4, at)


def test_waitlist_offer_says_the_time_offered_and_the_deadline_in_danish() -> None:
    deadline = datetime(2025, 6, 16, 16, 0, tzinfo=UTC)  # Monday 18:00

    sms = waitlist_offer(BOOKING, offered(deadline), links())

    assert sms.kind is MessageKind.waitlist_offer
    assert sms.idempotency_key == f"{BOOKING.booking_id}:waitlist_offer:3"
    assert sms.body == (
        "Hej Sofie Holm. Der er blevet en tidligere tid ledig til Pas hos Herning Bibliotek: "
        "tirsdag den 17. juni 2025 kl. 09.30. Vi holder den til dig indtil mandag den 16. juni "
        "2025 kl. 18.00. Tag den nye tid her: "
        f"{links().manage(BOOKING.booking_id, BOOKING.starts_at)} "
        "(ellers beholder du din tid fredag den 20. juni 2025 kl. 10.00)"
    )
    assert sms.appointment_at == deadline  # nothing is sent once the hold has expired


def test_bulk_cancellation_notice_differs_from_a_single_cancellation_and_keeps_the_reason() -> None:
    at = datetime(2025, 6, 16, 6, 0, tzinfo=UTC)
    data = BookingCancelled(
        service="pas",
        starts_at=BOOKING.starts_at,
        reason="Strømsvigt i huset.",
        cancelled_by="staff:mette",
        cancelled_at=at,
        bulk=True,
    )

    notice = cancellation_notice(BOOKING, event(data, 2, at), links("https://tid.herning.dk"))

    assert notice is not None
    assert notice.kind is MessageKind.cancelled
    assert notice.body == (
        "Hej Sofie Holm. Borgerservice må desværre aflyse flere tider hos Herning Bibliotek, "
        "også din tid til Pas fredag den 20. juni 2025 kl. 10.00. Begrundelse: Strømsvigt i "
        "huset. Vi beklager. Book en ny tid: https://tid.herning.dk"
    )


def test_completed_visit_in_a_survey_period_gets_an_invitation_with_an_expiring_link() -> None:
    at = datetime(2025, 6, 20, 8, 20, tzinfo=UTC)

    sms = survey_invitation(BOOKING, completed(at), links(), JUNE_AND_NOVEMBER)

    assert sms is not None
    assert sms.kind is MessageKind.survey_invitation
    assert sms.idempotency_key == f"{BOOKING.booking_id}:survey_invitation:4"
    assert sms.due_at == at
    assert sms.appointment_at == at + timedelta(days=14)
    assert f"{links().survey(BOOKING.booking_id, at)}" in sms.body
    assert "inden fredag den 4. juli 2025 kl. 10.20" in sms.body


def test_completed_visit_outside_the_survey_periods_gets_no_invitation() -> None:
    at = datetime(2025, 5, 20, 8, 20, tzinfo=UTC)

    assert survey_invitation(BOOKING, completed(at), links(), JUNE_AND_NOVEMBER) is None


@pytest.mark.parametrize(
    ("local", "inside"),
    [
        (datetime(2025, 5, 31, 23, 59, tzinfo=DANISH_TIME), False),
        (datetime(2025, 6, 1, 0, 0, tzinfo=DANISH_TIME), True),
        (datetime(2025, 6, 30, 23, 59, tzinfo=DANISH_TIME), True),
        (datetime(2025, 11, 15, 12, 0, tzinfo=DANISH_TIME), True),
        (datetime(2025, 12, 1, 0, 0, tzinfo=DANISH_TIME), False),
    ],
)
def test_survey_periods_are_whole_danish_days(local: datetime, inside: bool) -> None:
    assert in_survey_period(local.astimezone(UTC), JUNE_AND_NOVEMBER) is inside


def test_a_survey_period_may_span_the_new_year_and_nonsense_is_refused() -> None:
    winter = SurveyPeriod.parse("12-15/01-15")

    assert winter.includes(datetime(2025, 1, 10).date())
    assert not winter.includes(datetime(2025, 2, 1).date())
    with pytest.raises(ValueError, match="MM-DD/MM-DD"):
        SurveyPeriod.parse("06-31/07-01")


def test_survey_invitation_waits_for_the_morning_even_on_the_last_night() -> None:
    night = datetime(2025, 6, 20, 21, 0, tzinfo=UTC)  # 23:00 in Denmark
    closes = night + timedelta(hours=2)  # before 08:00: any other message would go now

    decision = decide(night, MessageKind.survey_invitation, night, closes, timedelta(0))
    offer = decide(night, MessageKind.waitlist_offer, night, closes, timedelta(0))

    assert isinstance(decision, Hold)
    assert isinstance(offer, SendNow)
