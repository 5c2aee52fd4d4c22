"""The reporting service's one configuration object."""

from __future__ import annotations

from pydantic import Field, field_validator

from infra.settings import ConnectionSettings
from infra.staff_tokens import StaffTokenSettings
from services.reporting.domain.satisfaction import SatisfactionGoals
from services.reporting.domain.survey_periods import SurveyHalves, month_day


class ReportingSettings(ConnectionSettings, StaffTokenSettings):
    """Reports are read with a staff token (STAFF_TOKENS holds the municipalities' signing
    keys, as for booking): of the municipality reported on, or, for the regional report, of
    one that shares its figures (REGIONAL_MUNICIPALITIES)."""

    http_host: str = "127.0.0.1"
    http_port: int = 8002
    # Where the survey halves start, as MM-DD (SURVEY_H1_STARTS, SURVEY_H2_STARTS).
    survey_h1_starts: str = "01-01"
    survey_h2_starts: str = "07-01"
    # The survey goals (SATISFACTION_GOALS, JSON), and per municipality where they differ
    # (SATISFACTION_GOALS_BY_MUNICIPALITY='{"hvidovre": {"easy_to_find_time": 0.9}}').
    satisfaction_goals: SatisfactionGoals = SatisfactionGoals()
    satisfaction_goals_by_municipality: dict[str, SatisfactionGoals] = Field(default_factory=dict)
    # The municipalities that share their aggregate figures with the regional report
    # (REGIONAL_MUNICIPALITIES='["slagelse", "herning"]'); nobody shares by default.
    regional_municipalities: list[str] = Field(default_factory=list)

    @field_validator("survey_h1_starts", "survey_h2_starts")
    @classmethod
    def _is_a_month_and_day(cls, value: str) -> str:
        month_day(value)
        return value

    @property
    def survey_halves(self) -> SurveyHalves:
        return SurveyHalves(month_day(self.survey_h1_starts), month_day(self.survey_h2_starts))

    def goals_of(self, municipality: str) -> SatisfactionGoals:
        return self.satisfaction_goals_by_municipality.get(municipality, self.satisfaction_goals)
