"""The reminder and the notices of a moved or cancelled time: when, what and under which key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from events import Envelope, EventData
from events.booking import BookingCancelled, BookingRescheduled
from services.notifications.domain.messages import (
    Booking,
    MessageKind,
    cancellation_notice,
    reminder,
    reschedule_notice,
)
from tests.unit.notifications.support import links

BOOKING = Booking(
    booking_id=uuid.UUID("0b7c2f4e-0000-4000-8000-000000000002"),
    municipality="hvidovre",
    version=1,
    citizen_name="Ali Hassan",
    phone="+4520123456",
    service_name="Kørekort",
    site_name="Borgerservice Hvidovre",
    documents=("lægeerklæring",),
    starts_at=datetime(2025, 3, 5, 9, 0, tzinfo=UTC),  # Wednesday 10:00 in Denmark
)
LEAD = timedelta(hours=24)


def event(data: EventData, version: int = 2) -> Envelope[Any]:
    return Envelope[Any](
        event_id=uuid.uuid4(),
        type=data.TYPE,
        schema_version=data.VERSION,
        municipality=BOOKING.municipality,
        aggregate_id=BOOKING.booking_id,
        aggregate_version=version,
        occurred_at=datetime(2025, 3, 1, 10, 0, tzinfo=UTC),
        data=data,
    )


def cancelled_by(who: str, reason: str = "Systemnedbrud") -> Envelope[Any]:
    at = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    return event(
        BookingCancelled(
            service="koerekort",
            starts_at=BOOKING.starts_at,
            reason=reason,
            cancelled_by=who,
            cancelled_at=at,
        ),
        version=3,
    )


def test_reminder_is_due_the_lead_time_before_the_appointment() -> None:
    sms = reminder(BOOKING, LEAD, datetime(2025, 3, 1, tzinfo=UTC), links())

    assert sms is not None
    assert sms.due_at == datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
    assert sms.idempotency_key == f"{BOOKING.booking_id}:reminder:1"
    assert sms.body == (
        "Hej Ali Hassan. Husk din tid til Kørekort hos Borgerservice Hvidovre onsdag den "
        "5. marts 2025 kl. 10.00. Husk at medbringe: lægeerklæring. Se eller ændr din tid: "
        f"{links().manage(BOOKING.booking_id, BOOKING.starts_at)}"
    )


def test_booking_made_less_than_the_lead_time_ahead_gets_no_reminder() -> None:
    just_too_late = BOOKING.starts_at - LEAD + timedelta(seconds=1)

    assert reminder(BOOKING, LEAD, just_too_late, links()) is None
    assert reminder(BOOKING, LEAD, just_too_late - timedelta(seconds=1), links()) is not None


def test_moved_booking_gets_a_notice_and_a_reminder_under_its_new_version() -> None:
    new_start = datetime(2025, 3, 7, 12, 30, tzinfo=UTC)
    moved_event = event(
        BookingRescheduled(
            service="koerekort",
            previous_starts_at=BOOKING.starts_at,
            starts_at=new_start,
            ends_at=new_start + timedelta(minutes=15),
            rescheduled_at=datetime(2025, 3, 1, 10, 0, tzinfo=UTC),
        )
    )
    moved = BOOKING.moved(moved_event)

    notice = reschedule_notice(moved, moved_event, links())
    moved_reminder = reminder(moved, LEAD, moved_event.occurred_at, links())

    assert notice.kind is MessageKind.rescheduled
    assert notice.idempotency_key == f"{BOOKING.booking_id}:rescheduled:2"
    assert "er flyttet til fredag den 7. marts 2025 kl. 13.30" in notice.body
    assert moved_reminder is not None
    assert moved_reminder.idempotency_key == f"{BOOKING.booking_id}:reminder:2"
    assert moved_reminder.due_at == new_start - LEAD


def test_cancellation_by_staff_gives_a_notice_with_the_reason() -> None:
    notice = cancellation_notice(BOOKING, cancelled_by("staff:lise"), links())

    assert notice is not None
    assert notice.idempotency_key == f"{BOOKING.booking_id}:cancelled:3"
    assert "har desværre aflyst din tid til Kørekort" in notice.body
    assert "onsdag den 5. marts 2025 kl. 10.00. Begrundelse: Systemnedbrud." in notice.body


def test_cancellation_by_the_citizen_gives_no_notice() -> None:
    assert cancellation_notice(BOOKING, cancelled_by("citizen"), links()) is None
