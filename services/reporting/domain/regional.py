"""The regional report: built only from the aggregate figures each sharing municipality exports,
never from anything per citizen or per booking."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.reporting.domain.report import Period


class SharedFigures(BaseModel):
    """What one municipality shares with the region for a period: aggregates only."""

    model_config = ConfigDict(frozen=True)

    municipality: str
    bookings: int = Field(description="Active bookings made in the period")
    median_waiting_working_days: float | None
    within_target_share: float | None
    target_working_days: int
    survey_responses: int
    satisfied_with_booking_share: float | None
    easy_to_find_time_share: float | None
    guarantee_breaches: int


class RegionalTotal(BaseModel):
    """Sums, and shares weighted by the counts they are shares of."""

    model_config = ConfigDict(frozen=True)

    bookings: int
    within_own_target_share: float | None
    survey_responses: int
    satisfied_with_booking_share: float | None
    easy_to_find_time_share: float | None
    guarantee_breaches: int


class RegionalReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: Period
    survey_half: str | None
    municipalities: list[SharedFigures]
    not_reporting: list[str] = Field(description="Sharing, but no events reported yet")
    total: RegionalTotal


def _weighted(pairs: list[tuple[float | None, int]]) -> float | None:
    weight = sum(count for share, count in pairs if share is not None)
    if not weight:
        return None
    return sum(share * count for share, count in pairs if share is not None) / weight


def regional_total(shared: list[SharedFigures]) -> RegionalTotal:
    return RegionalTotal(
        bookings=sum(m.bookings for m in shared),
        within_own_target_share=_weighted([(m.within_target_share, m.bookings) for m in shared]),
        survey_responses=sum(m.survey_responses for m in shared),
        satisfied_with_booking_share=_weighted(
            [(m.satisfied_with_booking_share, m.survey_responses) for m in shared]
        ),
        easy_to_find_time_share=_weighted(
            [(m.easy_to_find_time_share, m.survey_responses) for m in shared]
        ),
        guarantee_breaches=sum(m.guarantee_breaches for m in shared),
    )
