"""The Danish calendar of a Borgerservice office: its public holidays (from `holidays`), the
optional ones on which the offices close too (Grundlovsdag, juleaftensdag, nytårsaftensdag),
and the working days they leave. Booking counts its waiting-time guarantee in these days and
reporting its statistics: one calendar, so the two never disagree."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

COPENHAGEN = ZoneInfo("Europe/Copenhagen")

# (month, day) of the optional DK holidays on which Borgerservice is closed.
OFFICES_CLOSED = frozenset({(6, 5), (12, 24), (12, 31)})


@lru_cache(maxsize=64)
def _danish_holidays(year: int, category: str) -> holidays.HolidayBase:
    return holidays.country_holidays("DK", years=year, categories=(category,))


def is_public_holiday(day: date) -> bool:
    return day in _danish_holidays(day.year, "public")


def is_closed_day(day: date) -> bool:
    """A public holiday, or an optional one on which the offices close."""
    return is_public_holiday(day) or (
        (day.month, day.day) in OFFICES_CLOSED and day in _danish_holidays(day.year, "optional")
    )


@lru_cache(maxsize=64)
def _closed_weekdays(year: int) -> tuple[date, ...]:
    start = date(year, 1, 1)
    days = (start + timedelta(days=offset) for offset in range((date(year + 1, 1, 1) - start).days))
    return tuple(day for day in days if day.weekday() < 5 and is_closed_day(day))


def is_working_day(day: date) -> bool:
    """Monday to Friday, and the offices open (not a day `is_closed_day`)."""
    return day.weekday() < 5 and not is_closed_day(day)


def _weekdays_after_until(start: date, end: date) -> int:
    """Weekdays in the half-open range (start, end]."""
    full_weeks, rest = divmod((end - start).days, 7)
    extra = sum((start + timedelta(days=offset)).weekday() < 5 for offset in range(1, rest + 1))
    return full_weeks * 5 + extra


def working_days_between(start: datetime, end: datetime) -> int:
    """Working days after `start`'s day up to and including `end`'s day (local dates): a time
    tomorrow is 1 working day away; 0 when `end` is on `start`'s day or before."""
    first = start.astimezone(COPENHAGEN).date()
    last = end.astimezone(COPENHAGEN).date()
    if last <= first:
        return 0
    closed = sum(
        first < day <= last
        for year in range(first.year, last.year + 1)
        for day in _closed_weekdays(year)
    )
    return _weekdays_after_until(first, last) - closed
