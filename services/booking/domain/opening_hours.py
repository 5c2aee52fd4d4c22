"""Turns a site's opening hours into the bookable times of a day. Danish public holidays and
weekends without hours have no times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@lru_cache(maxsize=64)
def _danish_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("DK", years=year)


def is_public_holiday(day: date) -> bool:
    return day in _danish_holidays(day.year)


@dataclass(frozen=True)
class OpeningHours:
    """Per weekday, `HH:MM-HH:MM` ranges (several per day allowed, e.g. early and late)."""

    hours: dict[str, tuple[tuple[time, time], ...]]
    slot_minutes: int
    seats: int
    services: tuple[str, ...]

    @classmethod
    def parse(
        cls, hours: dict[str, str], slot_minutes: int, seats: int, services: list[str]
    ) -> OpeningHours:
        parsed: dict[str, tuple[tuple[time, time], ...]] = {}
        for weekday, ranges in hours.items():
            if weekday not in WEEKDAYS:
                raise ValueError(f"unknown weekday {weekday!r}; use one of {', '.join(WEEKDAYS)}")
            spans = []
            for span in ranges.split(","):
                opens, closes = (time.fromisoformat(part.strip()) for part in span.split("-"))
                if closes <= opens:
                    raise ValueError(f"{weekday} {span}: closes before it opens")
                spans.append((opens, closes))
            parsed[weekday] = tuple(spans)
        return cls(parsed, slot_minutes, seats, tuple(services))

    def slots_on(self, day: date) -> list[dict[str, Any]]:
        """The times of `day` as the schedule's `DayOpened` expects them; none on holidays."""
        if is_public_holiday(day):
            return []
        slots = []
        step = timedelta(minutes=self.slot_minutes)
        for opens, closes in self.hours.get(WEEKDAYS[day.weekday()], ()):
            start = datetime.combine(day, opens, COPENHAGEN)
            end_of_span = datetime.combine(day, closes, COPENHAGEN)
            while start + step <= end_of_span:
                slots.append(
                    {
                        "starts_at": start,
                        "ends_at": start + step,
                        "capacity": self.seats,
                        "services": list(self.services),
                    }
                )
                start += step
        return slots
