"""The satisfaction report per survey period: the two questions of the Hvidovre survey
(seeds/002) against the municipality's goals."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.reporting.domain.report import Period


class SatisfactionGoals(BaseModel):
    """Shares to reach; the seeds' goals: 75 % satisfied with having to book, 90 % found it easy
    to find a time."""

    model_config = ConfigDict(frozen=True)

    satisfied_with_booking: float = Field(default=0.75, ge=0, le=1)
    easy_to_find_time: float = Field(default=0.90, ge=0, le=1)


class SatisfactionFigures(BaseModel):
    model_config = ConfigDict(frozen=True)

    responses: int
    satisfied_with_booking_share: float | None = Field(description="None with no response")
    easy_to_find_time_share: float | None
    scored_responses: int = Field(description="Responses that gave a 1-5 score")
    mean_score: float | None


class SiteServiceSatisfaction(SatisfactionFigures):
    site: str | None
    service: str


class GoalsMet(BaseModel):
    """Whether the total reached each goal; None with no response."""

    model_config = ConfigDict(frozen=True)

    satisfied_with_booking: bool | None
    easy_to_find_time: bool | None


class SatisfactionReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    municipality: str
    period: Period = Field(description="Dates the answers were given")
    survey_half: str | None
    goals: SatisfactionGoals
    by_site_and_service: list[SiteServiceSatisfaction]
    total: SatisfactionFigures
    goals_met: GoalsMet


def goals_met(total: SatisfactionFigures, goals: SatisfactionGoals) -> GoalsMet:
    def reached(share: float | None, goal: float) -> bool | None:
        return None if share is None else share >= goal

    return GoalsMet(
        satisfied_with_booking=reached(
            total.satisfied_with_booking_share, goals.satisfied_with_booking
        ),
        easy_to_find_time=reached(total.easy_to_find_time_share, goals.easy_to_find_time),
    )
