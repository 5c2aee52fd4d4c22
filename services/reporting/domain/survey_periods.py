"""The survey halves a year is reported in: H1 (reported in June) and H2 (in November)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from services.reporting.domain.report import Period

# "2025-H1": the first survey half of 2025.
HALF_LABEL = r"^(\d{4})-H([12])$"


class MalformedPeriod(ValueError):
    """A period label or boundary that does not name a real period."""


def month_day(text: str) -> tuple[int, int]:
    """`"MM-DD"` as (month, day); 29 February is refused, since not every year has it."""
    found = re.fullmatch(r"(\d{2})-(\d{2})", text)
    if found is None:
        raise MalformedPeriod(f"{text!r} is not a month and day as MM-DD")
    month, day = int(found[1]), int(found[2])
    try:
        date(2001, month, day)  # not a leap year
    except ValueError:
        raise MalformedPeriod(f"{text!r} is not a day every year has") from None
    return month, day


@dataclass(frozen=True)
class SurveyHalves:
    """Where H1 and H2 start. H1 of a year may start in the year before (e.g. December), but
    H2 always starts in the year itself; each half ends the day before the next one starts."""

    h1_starts: tuple[int, int] = (1, 1)
    h2_starts: tuple[int, int] = (7, 1)

    def __post_init__(self) -> None:
        if self.h1_starts == self.h2_starts:
            raise MalformedPeriod("H1 and H2 cannot start on the same day")

    def _h1_start(self, year: int) -> date:
        return date(year if self.h1_starts < self.h2_starts else year - 1, *self.h1_starts)

    def half(self, year: int, half: int) -> Period:
        if not 1 < year < 9999:
            raise MalformedPeriod(f"year {year} is out of range")
        h2_start = date(year, *self.h2_starts)
        if half == 1:
            return Period(**{"from": self._h1_start(year), "to": h2_start - timedelta(days=1)})
        if half == 2:
            next_h1 = self._h1_start(year + 1)
            return Period(**{"from": h2_start, "to": next_h1 - timedelta(days=1)})
        raise MalformedPeriod(f"a year has halves 1 and 2, not {half}")

    def labelled(self, label: str) -> Period:
        """The period named `2025-H1` or `2025-H2`."""
        found = re.fullmatch(HALF_LABEL, label)
        if found is None:
            raise MalformedPeriod(f"{label!r} is not a survey half such as 2025-H1")
        return self.half(int(found[1]), int(found[2]))
