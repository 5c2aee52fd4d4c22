"""Bookings stored before personal data was sealed (Booked version 2, name and phone in
plaintext) still read, show and relay as they were; they cannot be erased by deleting a key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from events import decode, encode
from infra.personal_data import DEMO_PERSONAL_DATA_KEY, MasterKey
from services.booking.adapters.wire import to_envelope
from services.booking.application import BookingApplication
from services.booking.commands import CancelBooking
from services.booking.domain.booking import Booking
from services.booking.domain.errors import Conflict
from services.booking.domain.opening_hours import COPENHAGEN
from tests.booking_world import DAY, FIRST_TIME, seed_world

TOPIC = "services.booking.domain.booking:Booking.Booked"


@pytest.fixture
def app() -> Iterator[BookingApplication]:
    application = BookingApplication(env={}, clock=lambda: FIRST_TIME - timedelta(days=1))
    seed_world(application)
    yield application
    application.close()


def store_version_2_booking(app: BookingApplication) -> Booking:
    """A `Booking.Booked` as version 2 stored it: no key, name and phone in plaintext."""
    subject, _ = MasterKey(DEMO_PERSONAL_DATA_KEY).new_subject()
    booking = Booking.book(
        uuid4(), subject, citizen_name="Else Holm", phone="+4520123456",
        acute_reason="Mister sin ret", municipality="slagelse", site="korsoer", service="pas",
        service_name="Pas", site_name="Korsør", documents=[], starts_at=FIRST_TIME,
        ends_at=FIRST_TIME + timedelta(minutes=15), channel="phone", booked_at=FIRST_TIME,
    )  # fmt: skip
    (event,) = booking.collect_events()
    state: dict[str, Any] = dict(vars(event))
    for name in ("originator_id", "originator_version", "acute", "subject_id", "personal"):
        state.pop(name)
    state.update(citizen_name="Else Holm", phone="+4520123456", acute_reason="Mister sin ret")
    state["class_version"] = 2
    stored = StoredEvent(booking.id, 1, TOPIC, app.mapper.transcoder.encode(state))
    app.recorder.insert_events([stored])
    day = app.get_site_day("slagelse", "korsoer", DAY)
    day.take_seat(FIRST_TIME, str(booking.id), "pas", now=FIRST_TIME - timedelta(days=1))
    app.save(day)
    return app.get_booking(booking.id)


def test_a_version_2_booking_reads_with_its_plaintext(app: BookingApplication) -> None:
    booking = store_version_2_booking(app)
    assert booking.subject_id is None and booking.acute
    details = app.details_of(booking)
    assert details is not None
    assert (details.citizen_name, details.phone) == ("Else Holm", "+4520123456")
    assert details.acute_reason == "Mister sin ret"
    assert booking.starts_at.astimezone(COPENHAGEN) == FIRST_TIME


def test_a_version_2_booking_is_relayed_as_it_was_stored(app: BookingApplication) -> None:
    booking = store_version_2_booking(app)
    (stored,) = app.recorder.select_events(booking.id)
    envelope = decode(encode(to_envelope(app.mapper.to_domain_event(stored))))
    assert envelope.data.citizen_name == "Else Holm" and envelope.data.personal is None
    assert envelope.data.acute is True


def test_a_version_2_booking_changes_as_before_but_cannot_be_erased(
    app: BookingApplication,
) -> None:
    booking = store_version_2_booking(app)
    cancelled = app.cancel(CancelBooking(booking_id=booking.id, reason="syg"))
    (*_, event) = app.recorder.select_events(cancelled.id)
    envelope = to_envelope(app.mapper.to_domain_event(event))
    assert (envelope.data.reason, envelope.data.personal) == ("syg", None)  # like its history
    with pytest.raises(Conflict, match="before personal data was sealed"):
        app.erase_citizen_of("slagelse", booking.id, "lone")
