"""Danish working days: Monday to Friday, minus the Danish public holidays."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


@lru_cache(maxsize=64)
def _weekday_holidays(year: int) -> frozenset[date]:
    """The Danish public holidays of `year` that fall on a weekday (from the `holidays` library)."""
    return frozenset(
        day for day in holidays.country_holidays("DK", years=year) if day.weekday() < 5
    )


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a Danish public holiday."""
    return day.weekday() < 5 and day not in _weekday_holidays(day.year)


def _weekdays_after_until(start: date, end: date) -> int:
    """Weekdays in the half-open range (start, end]."""
    days = (end - start).days
    full_weeks, rest = divmod(days, 7)
    extra = sum((start + timedelta(days=offset)).weekday() < 5 for offset in range(1, rest + 1))
    return full_weeks * 5 + extra


def working_days_between(booked_at: datetime, starts_at: datetime) -> int:
    """Working days after the booking day, up to and including the appointment day (local dates)."""
    booked_on = booked_at.astimezone(COPENHAGEN).date()
    starts_on = starts_at.astimezone(COPENHAGEN).date()
    if starts_on <= booked_on:
        return 0
    holidays_between = sum(
        booked_on < holiday <= starts_on
        for year in range(booked_on.year, starts_on.year + 1)
        for holiday in _weekday_holidays(year)
    )
    return _weekdays_after_until(booked_on, starts_on) - holidays_between
