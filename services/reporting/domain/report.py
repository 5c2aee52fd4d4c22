"""The booking report: activity and waiting time per site and service, and in total."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The seeds: a time must be offered within 7 working days at most.
DEFAULT_TARGET_WORKING_DAYS = 7


class Period(BaseModel):
    """Booking dates (Copenhagen local), both ends included; an open end is unbounded."""

    model_config = ConfigDict(frozen=True)

    from_: date | None = Field(default=None, alias="from", description="First booking date")
    to: date | None = Field(default=None, description="Last booking date, included")

    @model_validator(mode="after")
    def _starts_before_it_ends(self) -> Period:
        if self.from_ is not None and self.to is not None and self.from_ > self.to:
            raise ValueError(f"'from' ({self.from_}) is after 'to' ({self.to})")
        return self


class WaitingTime(BaseModel):
    """Working days from booking to the booked time, over active (not cancelled) bookings."""

    model_config = ConfigDict(frozen=True)

    median: float | None = Field(description="None when there is no active booking")
    mean: float | None
    within_target_share: float | None = Field(
        description="Share of active bookings with at most the target's working days"
    )


class BookingCounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    active_bookings: int
    cancelled_bookings: int
    waiting_working_days: WaitingTime


class SiteServiceCounts(BookingCounts):
    site: str
    service: str


class BookingReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    municipality: str
    period: Period
    target_working_days: int
    by_site_and_service: list[SiteServiceCounts]
    total: BookingCounts
