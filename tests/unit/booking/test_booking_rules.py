"""The booking rules of issue 3, decided by the aggregates through the application (on the
eventsourcing library's in-memory store: the rules, not the database, are under test here)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID

import pytest

from services.booking.application import BookingApplication
from services.booking.application.citizen import waitlist_hold
from services.booking.commands import (
    AcceptOffer,
    AnswerSurvey,
    BookTime,
    CancelBooking,
    CancelByStaff,
    CancelSiteDay,
    CompleteVisit,
    HoldTime,
    JoinWaitlist,
    ReleaseHold,
    StartVisit,
)
from services.booking.domain.booking import Status
from services.booking.domain.citizen import OverLimit
from services.booking.domain.errors import Conflict, Invalid, SlotFull
from services.booking.domain.opening_hours import COPENHAGEN, OpeningHours

M, SITE, DAY = "slagelse", "korsoer", date(2030, 3, 4)
TEN = datetime(2030, 3, 4, 10, 0, tzinfo=COPENHAGEN)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2030, 3, 4, 8, 0, tzinfo=COPENHAGEN))


@pytest.fixture
def app(clock: Clock) -> Iterator[BookingApplication]:
    application = BookingApplication(env={}, clock=clock, offer_ttl=timedelta(minutes=30))
    application.register_municipality(
        M, "Slagelse Kommune", 7,
        [{"id": SITE, "name": "Borgerservice Korsør", "address": "Caspar Brands Plads 7"}],
        [{"id": "pas", "name": "Pas", "duration_minutes": 15, "documents": ["Gammelt pas"]}],
    )  # fmt: skip
    yield application
    application.close()


def open_day(app: BookingApplication, seats: int = 1, acute: int = 0) -> None:
    hours = OpeningHours.parse({"mon": "10:00-11:00"}, 15, seats, ["pas"])
    slots = [{**s, "acute_capacity": acute} for s in hours.slots_on(DAY)]
    release = datetime(2030, 3, 4, 9, 0, tzinfo=COPENHAGEN) if acute else None
    app.open_day(M, SITE, DAY, slots, acute_release_at=release)


def book(app: BookingApplication, minutes: int = 0, phone: str = "+4520304050", **extra: object):  # type: ignore[no-untyped-def]
    return app.book(
        BookTime(
            municipality=M, site=SITE, service="pas", starts_at=TEN + timedelta(minutes=minutes),
            citizen_name="Karen Jensen", phone=phone, **extra,  # type: ignore[arg-type]
        )
    )  # fmt: skip


def seats_left(app: BookingApplication, minutes: int = 0) -> int:
    return app.get_site_day(M, SITE, DAY).slot(TEN + timedelta(minutes=minutes)).seats_left


# holds


def test_a_held_time_is_not_offered_to_anyone_else(app: BookingApplication) -> None:
    open_day(app, seats=1)
    app.hold(HoldTime(municipality=M, site=SITE, service="pas", starts_at=TEN))
    assert seats_left(app) == 0
    with pytest.raises(SlotFull):
        book(app)


def test_the_holder_books_the_held_time(app: BookingApplication) -> None:
    open_day(app, seats=1)
    hold_id, _ = app.hold(HoldTime(municipality=M, site=SITE, service="pas", starts_at=TEN))
    booking = book(app, hold_id=hold_id)
    assert booking.status is Status.booked
    assert seats_left(app) == 0
    assert app.get_site_day(M, SITE, DAY).slot(TEN).holds == {}


def test_a_hold_expires_and_the_time_is_free_again(app: BookingApplication, clock: Clock) -> None:
    open_day(app, seats=1)
    app.hold(HoldTime(municipality=M, site=SITE, service="pas", starts_at=TEN))
    clock.now += app.hold_ttl
    assert app.release_expired_holds(M, SITE, DAY) == 1
    assert seats_left(app) == 1
    assert app.release_expired_holds(M, SITE, DAY) == 0  # firing again changes nothing


def test_an_expired_hold_does_not_block_a_booking(app: BookingApplication, clock: Clock) -> None:
    open_day(app, seats=1)
    app.hold(HoldTime(municipality=M, site=SITE, service="pas", starts_at=TEN))
    clock.now += app.hold_ttl + timedelta(seconds=1)
    assert book(app).status is Status.booked  # released on the spot, before the sweeper ran


def test_a_released_hold_frees_the_time_and_releasing_twice_is_harmless(
    app: BookingApplication,
) -> None:
    open_day(app, seats=1)
    hold_id, _ = app.hold(HoldTime(municipality=M, site=SITE, service="pas", starts_at=TEN))
    app.release_hold(ReleaseHold(municipality=M, hold_id=hold_id))
    app.release_hold(ReleaseHold(municipality=M, hold_id=hold_id))
    assert seats_left(app) == 1


# acute times


def test_acute_capacity_is_invisible_to_citizens_until_its_release_time(
    app: BookingApplication, clock: Clock
) -> None:
    open_day(app, seats=1, acute=1)
    book(app)
    with pytest.raises(SlotFull):
        book(app, phone="+4520304051")
    clock.now = datetime(2030, 3, 4, 9, 0, tzinfo=COPENHAGEN)
    assert app.release_acute_seats(M, SITE, DAY)
    assert not app.release_acute_seats(M, SITE, DAY)  # once
    assert book(app, phone="+4520304051").status is Status.booked


def test_staff_book_an_acute_seat_with_a_reason_when_the_day_is_full(
    app: BookingApplication,
) -> None:
    open_day(app, seats=1, acute=1)
    book(app)
    acute = book(app, phone="+4520304052", acute_reason="Pas udløber, rejser i morgen")
    details = app.details_of(acute)
    assert acute.acute and details is not None
    assert details.acute_reason == "Pas udløber, rejser i morgen"
    assert app.get_site_day(M, SITE, DAY).slot(TEN).acute_holders == {str(acute.id)}


def test_acute_times_are_for_today_only(app: BookingApplication, clock: Clock) -> None:
    open_day(app, seats=1, acute=1)
    clock.now -= timedelta(days=1)
    with pytest.raises(Invalid, match="today only"):
        book(app, acute_reason="akut")


# the per-citizen limit


def test_a_citizen_over_the_limit_is_refused_and_nothing_is_stored(
    app: BookingApplication,
) -> None:
    open_day(app, seats=3)
    book(app, 0, idempotency_key="a")
    book(app, 15, idempotency_key="b")
    before = app.recorder.max_notification_id()
    with pytest.raises(OverLimit, match="at most 2"):
        book(app, 30, idempotency_key="c")
    assert app.recorder.max_notification_id() == before
    assert seats_left(app, 30) == 3


def test_a_cancelled_booking_no_longer_counts_against_the_limit(app: BookingApplication) -> None:
    open_day(app, seats=3)
    first = book(app, 0)
    book(app, 15)
    app.cancel(CancelBooking(booking_id=first.id))
    assert book(app, 30).status is Status.booked


def test_the_same_idempotency_key_returns_the_same_booking(app: BookingApplication) -> None:
    open_day(app, seats=3)
    assert book(app, idempotency_key="k").id == book(app, idempotency_key="k").id
    assert seats_left(app) == 2


def test_a_time_that_has_passed_cannot_be_booked(app: BookingApplication, clock: Clock) -> None:
    open_day(app)
    clock.now = TEN + timedelta(minutes=1)
    with pytest.raises(Invalid, match="has passed"):
        book(app)


# bulk cancellation


def test_closing_a_site_cancels_its_bookings_and_takes_no_more(app: BookingApplication) -> None:
    open_day(app, seats=2)
    booked = [book(app, 0, phone="+4520304050"), book(app, 15, phone="+4520304051")]
    cancelled = app.cancel_site_day(
        CancelSiteDay(municipality=M, site=SITE, day=DAY, reason="Lukket", by="mette")
    )
    assert {b.id for b in cancelled} == {b.id for b in booked}
    assert all(app.get_booking(b.id).status is Status.cancelled for b in booked)
    assert seats_left(app, 30) == 0
    with pytest.raises(Conflict, match="closed"):
        book(app, 30)


# the waitlist


def test_the_waitlist_offers_a_freed_seat_to_the_first_in_line(app: BookingApplication) -> None:
    open_day(app, seats=1)
    early = book(app, 0, phone="+4520304101")
    first = book(app, 45, phone="+4520304202")
    second = book(app, 30, phone="+4520304303")
    app.join_waitlist(JoinWaitlist(booking_id=first.id))
    app.join_waitlist(JoinWaitlist(booking_id=second.id))
    app.cancel(CancelBooking(booking_id=early.id))
    assert app.offer_waitlist(first.id, TEN)
    assert not app.offer_waitlist(second.id, TEN)  # the seat is held for the first
    moved = app.accept_offer(AcceptOffer(booking_id=first.id))
    assert moved.starts_at == TEN and not moved.waitlisted
    assert seats_left(app, 45) == 1


def test_an_unanswered_offer_lapses_and_frees_the_seat(
    app: BookingApplication, clock: Clock
) -> None:
    open_day(app, seats=1)
    early = book(app, 0, phone="+4520304101")
    waiting = book(app, 45, phone="+4520304202")
    app.join_waitlist(JoinWaitlist(booking_id=waiting.id))
    app.cancel(CancelBooking(booking_id=early.id))
    app.offer_waitlist(waiting.id, TEN)
    clock.now += app.offer_ttl
    assert app.expire_offer(waiting.id)
    assert app.get_booking(waiting.id).offer is None
    assert seats_left(app) == 1
    with pytest.raises(Conflict, match="no offer"):
        app.accept_offer(AcceptOffer(booking_id=waiting.id))
    day = app.get_site_day(M, SITE, DAY)
    assert waitlist_hold(waiting.id, day.id) not in day.slot(TEN).holds


def offered_earlier_time(app: BookingApplication) -> UUID:
    """A waiting booking at 10:45 that has been offered the 10:00 time another freed."""
    open_day(app, seats=1)
    early = book(app, 0, phone="+4520304101")
    waiting = book(app, 45, phone="+4520304202")
    app.join_waitlist(JoinWaitlist(booking_id=waiting.id))
    app.cancel(CancelBooking(booking_id=early.id))
    assert app.offer_waitlist(waiting.id, TEN)
    return waiting.id


def test_a_booking_staff_cancel_gives_back_the_time_held_for_it(app: BookingApplication) -> None:
    waiting = offered_earlier_time(app)
    assert seats_left(app) == 0  # held for the waiting booking
    app.cancel_by_staff(CancelByStaff(municipality=M, booking_id=waiting, by="mette", reason="Syg"))
    assert seats_left(app) == 1 and seats_left(app, 45) == 1


def test_a_bulk_cancellation_gives_back_times_held_for_its_bookings(
    app: BookingApplication,
) -> None:
    waiting = offered_earlier_time(app)
    app.cancel_site_day(
        CancelSiteDay(
            municipality=M, site=SITE, day=DAY, from_time=time(10, 30), reason="Lukket", by="mette"
        )
    )
    day = app.get_site_day(M, SITE, DAY)
    assert waitlist_hold(waiting, day.id) not in day.slot(TEN).holds
    assert seats_left(app) == 1


def test_a_later_time_is_never_offered(app: BookingApplication) -> None:
    open_day(app, seats=1)
    waiting = book(app, 0)
    app.join_waitlist(JoinWaitlist(booking_id=waiting.id))
    assert not app.offer_waitlist(waiting.id, TEN + timedelta(minutes=15))


# the survey


def test_only_a_completed_visit_can_answer_the_survey_and_only_once(
    app: BookingApplication,
) -> None:
    open_day(app)
    booking = book(app)
    answer = AnswerSurvey(booking_id=booking.id, satisfied_with_booking=True,
                          easy_to_find_time=False, score=4)  # fmt: skip
    with pytest.raises(Conflict):
        app.answer_survey(answer)
    app.start_visit(StartVisit(municipality=M, booking_id=booking.id, by="mette"))
    app.complete_visit(CompleteVisit(municipality=M, booking_id=booking.id, by="mette"))
    assert app.answer_survey(answer).survey_answered
    with pytest.raises(Conflict, match="already answered"):
        app.answer_survey(answer)
