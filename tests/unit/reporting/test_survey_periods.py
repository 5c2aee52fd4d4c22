"""The survey halves H1 and H2: default boundaries, configured ones, and malformed labels."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from services.reporting.domain.survey_periods import MalformedPeriod, SurveyHalves
from services.reporting.settings import ReportingSettings


def bounds(halves: SurveyHalves, label: str) -> tuple[date | None, date | None]:
    period = halves.labelled(label)
    return period.from_, period.to


def test_by_default_h1_is_january_to_june_and_h2_july_to_december() -> None:
    assert bounds(SurveyHalves(), "2025-H1") == (date(2025, 1, 1), date(2025, 6, 30))
    assert bounds(SurveyHalves(), "2025-H2") == (date(2025, 7, 1), date(2025, 12, 31))


def test_h1_of_a_leap_year_ends_on_the_last_of_june() -> None:
    assert bounds(SurveyHalves(), "2024-H1") == (date(2024, 1, 1), date(2024, 6, 30))


def test_h1_starting_in_december_begins_in_the_year_before() -> None:
    halves = SurveyHalves(h1_starts=(12, 1), h2_starts=(6, 1))

    assert bounds(halves, "2025-H1") == (date(2024, 12, 1), date(2025, 5, 31))
    assert bounds(halves, "2025-H2") == (date(2025, 6, 1), date(2025, 11, 30))


def test_consecutive_halves_leave_no_gap_and_do_not_overlap() -> None:
    for halves in (SurveyHalves(), SurveyHalves((12, 1), (6, 1)), SurveyHalves((3, 15), (9, 15))):
        days = [
            day
            for label in ("2025-H1", "2025-H2", "2026-H1")
            for day in bounds(halves, label)
            if day is not None
        ]
        h1_ends, h2_starts, h2_ends, next_h1_starts = days[1:5]
        assert (h2_starts - h1_ends).days == 1
        assert (next_h1_starts - h2_ends).days == 1


@pytest.mark.parametrize("label", ["2025-H3", "2025-h1", "H1", "2025H1", "25-H1", " 2025-H1"])
def test_a_label_that_is_not_a_survey_half_is_refused(label: str) -> None:
    with pytest.raises(MalformedPeriod, match="is not a survey half"):
        SurveyHalves().labelled(label)


def test_halves_starting_on_the_same_day_are_refused() -> None:
    with pytest.raises(MalformedPeriod, match="same day"):
        SurveyHalves((7, 1), (7, 1))


def test_settings_configure_the_halves_as_month_and_day() -> None:
    settings = ReportingSettings(survey_h1_starts="12-01", survey_h2_starts="06-01")

    assert settings.survey_halves == SurveyHalves((12, 1), (6, 1))


@pytest.mark.parametrize("boundary", ["02-29", "13-01", "7-1", "juli"])
def test_settings_refuse_a_boundary_that_not_every_year_has(boundary: str) -> None:
    with pytest.raises(ValidationError, match=boundary):
        ReportingSettings(survey_h2_starts=boundary)
