"""The schedule of a site's day owns capacity: rules that hold without any I/O."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.booking.domain.errors import Conflict, Invalid, SlotFull
from services.booking.domain.opening_hours import COPENHAGEN, OpeningHours
from services.booking.domain.schedule import SiteDay

MONDAY = date(2030, 3, 4)
TEN = datetime(2030, 3, 4, 10, 0, tzinfo=COPENHAGEN)


def day(seats: int = 1) -> SiteDay:
    hours = OpeningHours.parse({"mon": "10:00-11:00"}, 15, seats, ["pas"])
    return SiteDay("slagelse", "korsoer", MONDAY, hours.slots_on(MONDAY))


def test_second_booking_of_last_seat_is_refused() -> None:
    schedule = day(seats=1)
    schedule.take_seat(TEN, "b1", "pas")
    with pytest.raises(SlotFull):
        schedule.take_seat(TEN, "b2", "pas")
    assert schedule.slot(TEN).seats_left == 0


def test_released_seat_can_be_booked_again() -> None:
    schedule = day(seats=1)
    schedule.take_seat(TEN, "b1", "pas")
    schedule.release_seat(TEN, "b1")
    schedule.take_seat(TEN, "b2", "pas")
    assert schedule.slot(TEN).holders == {"b2"}


def test_a_seat_cannot_be_released_twice() -> None:
    schedule = day(seats=2)
    schedule.take_seat(TEN, "b1", "pas")
    schedule.release_seat(TEN, "b1")
    with pytest.raises(Conflict):
        schedule.release_seat(TEN, "b1")


def test_time_outside_opening_hours_or_for_another_service_is_refused() -> None:
    schedule = day()
    with pytest.raises(Invalid, match="outside opening hours"):
        schedule.take_seat(datetime(2030, 3, 4, 12, 0, tzinfo=COPENHAGEN), "b1", "pas")
    with pytest.raises(Invalid, match="vielse"):
        schedule.take_seat(TEN, "b1", "vielse")


def test_events_carry_the_seats_left() -> None:
    schedule = day(seats=3)
    schedule.take_seat(TEN, "b1", "pas")
    taken = schedule.collect_events()[-1]
    assert type(taken).__name__ == "SeatTaken"
    assert taken.seats_left == 2  # type: ignore[attr-defined]
