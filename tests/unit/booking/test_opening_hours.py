"""Opening hours become bookable times; holidays and closed weekdays have none."""

from __future__ import annotations

from datetime import date, time

import pytest

from services.booking.domain.opening_hours import COPENHAGEN, OpeningHours

HOURS = OpeningHours.parse({"mon": "08:00-09:00,16:00-17:00", "thu": "08:00-17:30"}, 15, 2, ["pas"])


def test_early_and_late_spans_give_times_in_both() -> None:
    starts = [s["starts_at"].time() for s in HOURS.slots_on(date(2030, 3, 4))]
    assert starts[0] == time(8, 0) and starts[3] == time(8, 45)
    assert starts[4] == time(16, 0) and len(starts) == 8


def test_times_are_copenhagen_local() -> None:
    [first, *_] = HOURS.slots_on(date(2030, 3, 4))
    assert first["starts_at"].tzinfo == COPENHAGEN
    assert first["starts_at"].utcoffset().total_seconds() == 3600


def test_a_public_holiday_has_no_times() -> None:
    assert HOURS.slots_on(date(2030, 4, 18)) == []  # Skærtorsdag 2030, a Thursday
    assert HOURS.slots_on(date(2030, 12, 26)) == []  # 2. juledag, a Thursday


def test_a_weekday_without_hours_has_no_times() -> None:
    assert HOURS.slots_on(date(2030, 3, 5)) == []  # a Tuesday


def test_hours_that_close_before_they_open_are_refused() -> None:
    with pytest.raises(ValueError, match="closes before it opens"):
        OpeningHours.parse({"mon": "10:00-09:00"}, 15, 1, ["pas"])
    with pytest.raises(ValueError, match="unknown weekday"):
        OpeningHours.parse({"monday": "10:00-11:00"}, 15, 1, ["pas"])


WEEKDAYS = OpeningHours.parse(
    {d: "08:00-09:00" for d in ("mon", "tue", "wed", "thu", "fri")}, 15, 1, ["pas"]
)


@pytest.mark.parametrize(
    "closed",
    [date(2030, 6, 5), date(2030, 12, 24), date(2030, 12, 31)],
    ids=["grundlovsdag", "juleaftensdag", "nytaarsaftensdag"],
)
def test_days_the_offices_close_though_not_public_holidays_have_no_times(closed: date) -> None:
    assert closed.weekday() < 5
    assert WEEKDAYS.slots_on(closed) == []


def test_workers_day_is_a_normal_working_day() -> None:
    assert WEEKDAYS.slots_on(date(2030, 5, 1)) != []  # 1. maj: optional, offices stay open


def test_a_municipalitys_own_closed_day_has_no_times() -> None:
    own = OpeningHours(WEEKDAYS.hours, 15, 1, ("pas",), frozenset({date(2030, 3, 5)}))
    assert own.slots_on(date(2030, 3, 5)) == []
    assert own.slots_on(date(2030, 3, 6)) != []
