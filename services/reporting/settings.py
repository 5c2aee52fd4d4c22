"""The reporting service's one configuration object."""

from __future__ import annotations

from pydantic import field_validator

from infra.settings import ConnectionSettings
from services.reporting.domain.survey_periods import SurveyHalves, month_day


class ReportingSettings(ConnectionSettings):
    http_host: str = "127.0.0.1"
    http_port: int = 8002
    # Where the survey halves start, as MM-DD (SURVEY_H1_STARTS, SURVEY_H2_STARTS).
    survey_h1_starts: str = "01-01"
    survey_h2_starts: str = "07-01"

    @field_validator("survey_h1_starts", "survey_h2_starts")
    @classmethod
    def _is_a_month_and_day(cls, value: str) -> str:
        month_day(value)
        return value

    @property
    def survey_halves(self) -> SurveyHalves:
        return SurveyHalves(month_day(self.survey_h1_starts), month_day(self.survey_h2_starts))
