"""The lead time a citizen met: working days from a moment to the first free time for a service
at a site, sampled after every schedule change that moved it, and the guarantee breaches."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.reporting.domain.report import Period


class DailyLeadTime(BaseModel):
    model_config = ConfigDict(frozen=True)

    day: date
    max_working_days: int | None = Field(description="The longest lead time sampled that day")
    no_free_time: bool = Field(description="At some moment that day no time was open at all")


class SiteServiceLeadTime(BaseModel):
    model_config = ConfigDict(frozen=True)

    site: str
    service: str
    samples: int
    median_working_days: float | None = Field(description="Over the samples with a free time")
    max_working_days: int | None
    within_target_share: float | None = Field(
        description="Share of samples with a free time within the target"
    )
    latest_first_free_at: datetime | None
    latest_working_days: int | None
    breaches: int = Field(description="guarantee.breached events in the period")
    daily: list[DailyLeadTime]


class LeadTimeReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    municipality: str
    period: Period = Field(description="Dates the lead time was observed")
    survey_half: str | None
    target_working_days: int
    by_site_and_service: list[SiteServiceLeadTime]
    breaches: int
