"""The seed file format as pydantic models: every table and field of a municipality's TOML file
and of the service catalog, with its type and range (docs/seeds.md describes each).

Strict types: TOML has integers, booleans, strings, dates and arrays of its own, so `"15"` where
a number belongs is an error rather than a guess. Unknown fields are errors, so a misspelt field
is never silently ignored. Relations between fields (a site's services exist, someone on the
roster has the competence a service needs) are checked in `checks.py`.
"""

from __future__ import annotations

from datetime import date, datetime, time
from itertools import pairwise
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from events.envelope import SLUG
from infra.text import Line
from services.booking.application.configuration import MAX_SERVICES, MAX_SITES
from services.booking.domain.opening_hours import WEEKDAYS, Week, parse_week
from services.booking.entrypoints.staff_http import ServiceConfig, SiteConfig

Id = Annotated[str, Field(pattern=SLUG, max_length=64)]


def _clock(value: str) -> time:
    """`HH:MM` on a 24-hour clock, nothing else (no seconds, no `8:00`)."""
    if len(value) != 5 or value[2] != ":" or not (value[:2] + value[3:]).isdigit():
        raise ValueError(f"{value!r} is not a time of day as HH:MM")
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day as HH:MM") from None


def spans_of(text: str) -> tuple[tuple[time, time], ...]:
    """`"08:00-12:00,15:00-17:30"` → its spans, each opening before it closes, none overlapping."""
    spans = []
    for span in text.split(","):
        parts = span.strip().split("-")
        if len(parts) != 2:
            raise ValueError(f"{span.strip()!r} is not a span as HH:MM-HH:MM")
        opens, closes = _clock(parts[0].strip()), _clock(parts[1].strip())
        if closes <= opens:
            raise ValueError(f"{span.strip()}: closes before it opens")
        spans.append((opens, closes))
    spans.sort()
    for (_, closes), (opens, _) in pairwise(spans):
        if opens < closes:
            raise ValueError(f"{text}: the spans overlap")
    return tuple(spans)


def _day_hours(text: str) -> str:
    spans_of(text)
    return text


def _clock_text(text: str) -> str:
    _clock(text)
    return text


def _date(value: object) -> object:
    """A TOML date (`2026-12-24`) or the same as a string; not a date with a time."""
    if isinstance(value, datetime):
        raise ValueError("a date without a time of day, e.g. 2026-12-24")
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a date as YYYY-MM-DD") from None
    return value


DayHours = Annotated[str, AfterValidator(_day_hours)]
Clock = Annotated[str, AfterValidator(_clock_text)]  # HH:MM
SeedDate = Annotated[date, BeforeValidator(_date)]


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class WeekHours(Entry):
    """Per weekday, `HH:MM-HH:MM` spans separated by commas; a weekday left out is closed."""

    mon: DayHours | None = None
    tue: DayHours | None = None
    wed: DayHours | None = None
    thu: DayHours | None = None
    fri: DayHours | None = None
    sat: DayHours | None = None
    sun: DayHours | None = None

    def week(self) -> Week:
        return parse_week(self.model_dump(exclude_none=True))

    def given(self) -> dict[str, str]:
        return {day: text for day in WEEKDAYS if (text := getattr(self, day)) is not None}


class ServiceEntry(ServiceConfig):
    """A service as the admin API configures one (`PUT .../services/{id}`), with its id."""

    model_config = ConfigDict(extra="forbid", strict=True)
    id: Id


class StaffEntry(Entry):
    name: Annotated[Line, Field(max_length=200)]
    competences: list[Annotated[Line, Field(max_length=100)]] = Field(max_length=50)
    hours: WeekHours


class AcuteEntry(Entry):
    seats: int = Field(ge=1, le=1000)
    release_at: Clock


class SiteEntry(SiteConfig):
    """A site as the admin API configures one (`PUT .../sites/{id}`), with its id and times."""

    model_config = ConfigDict(extra="forbid", strict=True)
    id: Id
    slot_minutes: int = Field(gt=0, le=480)
    hours: WeekHours
    seats: int | None = Field(default=None, ge=1, le=1000)
    services: list[Id] | None = Field(default=None, min_length=1, max_length=MAX_SERVICES)
    staff: list[StaffEntry] | None = Field(default=None, min_length=1, max_length=500)
    acute: AcuteEntry | None = None


class MunicipalityEntry(Entry):
    id: Id
    name: Annotated[Line, Field(max_length=200)]
    waiting_target_working_days: int = Field(gt=0, le=60)  # as the admin API's WaitingTarget
    active_bookings_limit: int = Field(default=2, ge=1, le=100)
    closed_days: list[SeedDate] = Field(default_factory=list, max_length=1000)


class MunicipalityFile(Entry):
    municipality: MunicipalityEntry
    sites: list[SiteEntry] = Field(min_length=1, max_length=MAX_SITES)
    services: list[ServiceEntry] | None = Field(default=None, min_length=1, max_length=MAX_SERVICES)


class CatalogFile(Entry):
    services: list[ServiceEntry] = Field(min_length=1, max_length=MAX_SERVICES)


# Where each field of the format is written, by the TOML table that holds it.
TABLES: dict[str, type[BaseModel]] = {
    "the top of the file": MunicipalityFile,
    "[municipality]": MunicipalityEntry,
    "[[sites]]": SiteEntry,
    "[[sites.staff]]": StaffEntry,
    "[sites.acute]": AcuteEntry,
    "[[services]]": ServiceEntry,
}
# Every field name of the format, with its tables: an unknown one is told the nearest of
# these, or where it belongs when it is written in the wrong table.
FIELD_TABLES: dict[str, tuple[str, ...]] = {
    name: tuple(table for table, model in TABLES.items() if name in model.model_fields)
    for name in {name for model in TABLES.values() for name in model.model_fields}
}
FIELD_NAMES = frozenset(FIELD_TABLES)
