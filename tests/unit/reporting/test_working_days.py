"""Danish working days between booking and appointment, checked by hand against a calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.reporting.domain.working_days import is_working_day, working_days_between

CPH = ZoneInfo("Europe/Copenhagen")


def local(day: str, time: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=CPH)


@pytest.mark.parametrize(
    ("booked", "starts", "expected"),
    [
        ("2025-03-03", "2025-03-05", 2),  # Monday for Wednesday
        ("2025-03-03", "2025-03-03", 0),  # same day
        ("2025-03-07", "2025-03-10", 1),  # Friday for Monday: the weekend does not count
        ("2025-03-08", "2025-03-10", 1),  # booked on a Saturday for Monday
        ("2025-03-03", "2025-03-17", 10),  # two full weeks
        ("2025-03-04", "2025-03-17", 9),
    ],
)
def test_working_days_count_weekdays_after_the_booking_day(
    booked: str, starts: str, expected: int
) -> None:
    assert working_days_between(local(booked), local(starts)) == expected


def test_easter_holidays_do_not_count() -> None:
    # 2025: Skærtorsdag 17/4, Langfredag 18/4, 2. påskedag 21/4; only Tuesday 22/4 is worked.
    assert working_days_between(local("2025-04-16"), local("2025-04-22")) == 1
    # Wednesday before Easter to the Friday after: 22, 23, 24, 25 April.
    assert working_days_between(local("2025-04-16"), local("2025-04-25")) == 4


def test_an_appointment_on_a_holiday_is_not_a_working_day_waited() -> None:
    # Langfredag 2025 itself: Wednesday 16/4 to Friday 18/4 counts nothing after Wednesday.
    assert working_days_between(local("2025-04-16"), local("2025-04-18")) == 0


def test_christmas_and_new_year_across_the_year_end() -> None:
    # 2025-12-22 (Mon) to 2026-01-02 (Fri): 23, 29, 30 Dec and 2 Jan; 25 and 26 Dec
    # (juledag, 2. juledag) and 1 Jan (nytårsdag) are holidays, and the offices are closed on
    # 24 and 31 December.
    assert working_days_between(local("2025-12-22"), local("2026-01-02")) == 4


def test_local_copenhagen_dates_decide_not_utc() -> None:
    # 23:30 UTC on Monday is already Tuesday in Copenhagen: Tuesday for Wednesday is one day.
    booked = datetime(2025, 3, 3, 23, 30, tzinfo=UTC)
    starts = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)
    assert working_days_between(booked, starts) == 1


def test_an_appointment_before_the_booking_counts_zero() -> None:
    assert working_days_between(local("2025-03-10"), local("2025-03-05")) == 0


def test_the_count_agrees_with_walking_the_calendar_day_by_day() -> None:
    booked_on = date(2024, 12, 1)
    for span in range(0, 200, 3):
        starts_on = booked_on + timedelta(days=span)
        walked = sum(
            is_working_day(booked_on + timedelta(days=offset)) for offset in range(1, span + 1)
        )
        assert (
            working_days_between(local(booked_on.isoformat()), local(starts_on.isoformat()))
            == walked
        )


def test_store_bededag_is_a_working_day_since_its_abolition_in_2024() -> None:
    assert not is_working_day(date(2023, 5, 5))  # store bededag 2023
    assert is_working_day(date(2024, 4, 26))  # would have been store bededag


def test_christmas_eve_and_new_years_eve_are_not_working_days() -> None:
    """The offices are closed on 24 and 31 December (and 5 June): no waiting counts them."""
    from datetime import date, datetime

    from infra.danish_days import COPENHAGEN
    from services.booking.domain.guarantee import WaitingGuarantee  # noqa: F401 - same calendar
    from services.booking.domain.opening_hours import is_closed_day

    for closed in (date(2026, 12, 24), date(2026, 12, 31), date(2026, 6, 5)):
        assert closed.weekday() < 5 and not is_working_day(closed) and is_closed_day(closed)
    # After Wednesday 23 December: 24 (closed), 25 (holiday), 26-27 (weekend), 28 (working).
    booked = datetime(2026, 12, 23, 12, tzinfo=COPENHAGEN)
    assert working_days_between(booked, datetime(2026, 12, 28, 10, tzinfo=COPENHAGEN)) == 1
    # Up to Monday 4 January 2027: 28, 29, 30 December and 4 January; 31 and 1 closed.
    assert working_days_between(booked, datetime(2027, 1, 4, 10, tzinfo=COPENHAGEN)) == 4
