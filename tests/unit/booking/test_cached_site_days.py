"""Site days are changed in place in the aggregate cache (no copy per command): a command that
fails after changing one must leave no trace of it in memory (in-memory store, cache on)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest

from services.booking.application import BookingApplication
from services.booking.commands import BookTime, CancelBooking, JoinWaitlist
from services.booking.domain.citizen import OverLimit
from services.booking.domain.errors import SlotFull
from services.booking.domain.opening_hours import COPENHAGEN, OpeningHours

M, SITE = "slagelse", "korsoer"
MONDAY, TUESDAY = date(2030, 3, 4), date(2030, 3, 5)
HOURS = OpeningHours.parse({"mon": "10:00-11:00", "tue": "10:00-11:00"}, 15, 1, ["pas"])


def at(day: date, minutes: int = 0) -> datetime:
    return datetime.combine(day, datetime.min.time(), COPENHAGEN) + timedelta(
        hours=10, minutes=minutes
    )


@pytest.fixture
def app() -> Iterator[BookingApplication]:
    now = datetime(2030, 3, 1, 8, 0, tzinfo=COPENHAGEN)
    application = BookingApplication(env={"AGGREGATE_CACHE_MAXSIZE": "100"}, clock=lambda: now)
    application.register_municipality(
        M, "Slagelse Kommune", 7,
        [{"id": SITE, "name": "Borgerservice Korsør", "address": "Caspar Brands Plads 7"}],
        [{"id": "pas", "name": "Pas", "duration_minutes": 15, "documents": ["Gammelt pas"]}],
        active_bookings_limit=1,
    )  # fmt: skip
    for day in (MONDAY, TUESDAY):
        application.open_day(M, SITE, day, HOURS.slots_on(day))
    yield application
    application.close()


def book(app: BookingApplication, starts_at: datetime, phone: str) -> object:
    return app.book(
        BookTime(
            municipality=M, site=SITE, service="pas", starts_at=starts_at,
            citizen_name="Karen Jensen", phone=phone,
        )
    )  # fmt: skip


def test_a_booking_refused_after_taking_its_seat_leaves_the_seat_free(
    app: BookingApplication,
) -> None:
    book(app, at(MONDAY), "+4520300001")
    # The seat is taken on the cached day before the citizen's limit refuses the booking.
    with pytest.raises(OverLimit):
        book(app, at(MONDAY, 15), "+4520300001")
    assert app.get_site_day(M, SITE, MONDAY).slot(at(MONDAY, 15)).seats_left == 1
    book(app, at(MONDAY, 15), "+4520300002")  # the seat was never really taken
    with pytest.raises(SlotFull):
        book(app, at(MONDAY, 15), "+4520300003")


def test_a_query_gets_a_copy_that_later_commands_do_not_change(app: BookingApplication) -> None:
    seen = app.get_site_day(M, SITE, MONDAY)
    book(app, at(MONDAY), "+4520300001")
    assert seen.slot(at(MONDAY)).seats_left == 1
    assert app.get_site_day(M, SITE, MONDAY).slot(at(MONDAY)).seats_left == 0


def test_cancelling_a_booking_offered_a_time_on_another_day_frees_both(
    app: BookingApplication,
) -> None:
    early = book(app, at(MONDAY), "+4520300001")
    waiting = book(app, at(TUESDAY), "+4520300002")
    app.join_waitlist(JoinWaitlist(booking_id=waiting.id))  # type: ignore[attr-defined]
    app.cancel(CancelBooking(booking_id=early.id))  # type: ignore[attr-defined]
    assert app.offer_waitlist(waiting.id, at(MONDAY))  # type: ignore[attr-defined]
    # Cancelling locks Tuesday, finds the held Monday seat, and starts again holding both.
    app.cancel(CancelBooking(booking_id=waiting.id))  # type: ignore[attr-defined]
    assert app.get_site_day(M, SITE, MONDAY).slot(at(MONDAY)).seats_left == 1
    assert app.get_site_day(M, SITE, TUESDAY).slot(at(TUESDAY)).seats_left == 1
