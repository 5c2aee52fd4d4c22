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
