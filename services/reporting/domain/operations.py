"""The operations report: what the office did in a period (by appointment date), per site and
service, beside the same period a year earlier so that a peak (the MitID migration's doubling)
stands out."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from services.reporting.domain.report import Period

# A group whose bookings grew by at least half against a year earlier is flagged as a peak.
PEAK_RATIO = 1.5


class OperationsFigures(BaseModel):
    """Over bookings whose time falls in the period."""

    model_config = ConfigDict(frozen=True)

    bookings: int = Field(description="Every booking for a time in the period, cancelled or not")
    cancellations: int
    bulk_cancellations: int = Field(description="Of the cancellations: a site closed for a day")
    no_shows: int
    acute_bookings: int = Field(description="Booked on same-day acute seats")
    solved_online: int = Field(description="Solved at pre-assessment: no visit was needed")
    completed: int
    handling_minutes_mean: float | None
    handling_minutes_median: float | None

    @classmethod
    def zero(cls) -> OperationsFigures:
        return cls(
            bookings=0,
            cancellations=0,
            bulk_cancellations=0,
            no_shows=0,
            acute_bookings=0,
            solved_online=0,
            completed=0,
            handling_minutes_mean=None,
            handling_minutes_median=None,
        )


class Comparison(BaseModel):
    """This period against the same period a year earlier."""

    model_config = ConfigDict(frozen=True)

    year_earlier: OperationsFigures
    bookings_ratio: float | None = Field(
        description="bookings / bookings a year earlier: 2.0 is a doubling; None if none then"
    )
    peak: bool = Field(description=f"bookings_ratio of at least {PEAK_RATIO}")


class SiteServiceOperations(BaseModel):
    model_config = ConfigDict(frozen=True)

    site: str
    service: str
    figures: OperationsFigures
    comparison: Comparison | None


class Capacity(BaseModel):
    """Seats offered (ordinary and acute, on days not closed) and taken, from schedule events."""

    model_config = ConfigDict(frozen=True)

    seats_offered: int
    seats_taken: int
    used_share: float | None


class SiteCapacity(Capacity):
    site: str


class OperationsReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    municipality: str
    period: Period
    survey_half: str | None
    year_earlier_period: Period | None = Field(description="None when the period is open-ended")
    by_site_and_service: list[SiteServiceOperations]
    capacity_by_site: list[SiteCapacity]
    total: OperationsFigures
    total_comparison: Comparison | None
    total_capacity: Capacity


def year_earlier(period: Period) -> Period | None:
    """The same dates a year earlier (29 February becomes the 28th); None if an end is open."""
    if period.from_ is None or period.to is None:
        return None
    return Period(**{"from": _a_year_before(period.from_), "to": _a_year_before(period.to)})


def _a_year_before(day: date) -> date:
    if (day.month, day.day) == (2, 29):
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def compare(now: OperationsFigures, then: OperationsFigures) -> Comparison:
    ratio = now.bookings / then.bookings if then.bookings else None
    return Comparison(
        year_earlier=then,
        bookings_ratio=ratio,
        peak=ratio is not None and ratio >= PEAK_RATIO,
    )


def used_share(offered: int, taken: int) -> float | None:
    return taken / offered if offered else None
