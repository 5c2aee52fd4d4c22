"""Turns a site's opening hours into the bookable times of a day. Danish public holidays, the
days Danish offices close although `holidays` lists them only as optional (Grundlovsdag,
juleaftensdag, nytårsaftensdag), the municipality's own closed days, and weekdays without
hours have no times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from infra.danish_days import COPENHAGEN, is_closed_day

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


Week = dict[str, tuple[tuple[time, time], ...]]


def parse_week(hours: dict[str, str]) -> Week:
    """`{"mon": "08:00-12:00,15:00-17:30"}` → spans per weekday."""
    parsed: Week = {}
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
    return parsed


def spans_on(week: Week, day: date) -> tuple[tuple[time, time], ...]:
    return week.get(WEEKDAYS[day.weekday()], ())


@dataclass(frozen=True)
class OpeningHours:
    """Per weekday, `HH:MM-HH:MM` ranges (several per day allowed, e.g. early and late)."""

    hours: dict[str, tuple[tuple[time, time], ...]]
    slot_minutes: int
    seats: int
    services: tuple[str, ...]
    closed_days: frozenset[date] = frozenset()

    @classmethod
    def parse(
        cls, hours: dict[str, str], slot_minutes: int, seats: int, services: list[str]
    ) -> OpeningHours:
        return cls(parse_week(hours), slot_minutes, seats, tuple(services))

    def acute_release_at(self, day: date) -> datetime | None:
        return None  # a plain seat count holds nothing back

    def is_open(self, day: date) -> bool:
        return not (is_closed_day(day) or day in self.closed_days)

    def slots_on(self, day: date) -> list[dict[str, Any]]:
        """The times of `day` as the schedule's `DayOpened` expects them; none on closed days."""
        if not self.is_open(day):
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
