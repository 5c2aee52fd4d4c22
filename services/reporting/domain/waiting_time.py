"""The waiting-time report: working days from booking to the booked time, per site, service
and channel, against the municipality's target."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from services.reporting.domain.report import Period


class TargetSource(StrEnum):
    """Where the target in a report came from."""

    query = "query"  # the caller's override
    municipality = "municipality"  # its `municipality.registered` event
    default = "default"  # the seeds' 7 working days: the municipality never registered


class WaitingFigures(BaseModel):
    """Over active (not cancelled) bookings made in the period. Percentiles interpolate
    linearly between the closest ranks (PostgreSQL `percentile_cont`)."""

    model_config = ConfigDict(frozen=True)

    bookings: int
    median: float | None = Field(description="None when there is no booking")
    p90: float | None = Field(description="90th percentile")
    within_target_share: float | None = Field(
        description="Share of bookings waiting at most the target's working days"
    )


class WaitingGroup(WaitingFigures):
    site: str
    service: str
    channel: str


class WaitingTimeReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    municipality: str
    period: Period
    survey_half: str | None = Field(description="e.g. 2025-H1, when asked for by half")
    target_working_days: int
    target_source: TargetSource
    by_site_service_and_channel: list[WaitingGroup]
    total: WaitingFigures
