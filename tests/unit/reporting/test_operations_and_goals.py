"""The pure rules of the operations and satisfaction reports."""

from __future__ import annotations

from datetime import date

from services.reporting.domain.operations import OperationsFigures, compare, year_earlier
from services.reporting.domain.regional import SharedFigures, regional_total
from services.reporting.domain.report import Period
from services.reporting.domain.satisfaction import (
    SatisfactionFigures,
    SatisfactionGoals,
    goals_met,
)


def period(start: date | None, end: date | None) -> Period:
    return Period(**{"from": start, "to": end})


def with_bookings(count: int) -> OperationsFigures:
    return OperationsFigures.zero().model_copy(update={"bookings": count})


def test_a_year_earlier_is_the_same_dates_and_29_february_becomes_the_28th() -> None:
    assert year_earlier(period(date(2024, 2, 29), date(2024, 3, 31))) == period(
        date(2023, 2, 28), date(2023, 3, 31)
    )
    assert year_earlier(period(None, date(2024, 3, 31))) is None


def test_a_doubling_is_a_ratio_of_two_and_flagged_as_a_peak() -> None:
    doubled = compare(with_bookings(16000), with_bookings(8000))

    assert (doubled.bookings_ratio, doubled.peak) == (2.0, True)
    assert compare(with_bookings(9000), with_bookings(8000)).peak is False
    assert compare(with_bookings(5), with_bookings(0)).bookings_ratio is None


def test_goals_are_met_at_the_goal_and_unknown_without_responses() -> None:
    goals = SatisfactionGoals()
    at_goal = SatisfactionFigures(
        responses=20,
        satisfied_with_booking_share=0.75,
        easy_to_find_time_share=0.85,
        scored_responses=0,
        mean_score=None,
    )
    none = at_goal.model_copy(
        update={
            "responses": 0,
            "satisfied_with_booking_share": None,
            "easy_to_find_time_share": None,
        }
    )

    assert goals_met(at_goal, goals).model_dump() == {
        "satisfied_with_booking": True,
        "easy_to_find_time": False,
    }
    assert goals_met(none, goals).model_dump() == {
        "satisfied_with_booking": None,
        "easy_to_find_time": None,
    }


def test_regional_shares_are_weighted_by_what_they_are_shares_of() -> None:
    def shared(name: str, bookings: int, within: float | None, responses: int) -> SharedFigures:
        return SharedFigures(
            municipality=name,
            bookings=bookings,
            median_waiting_working_days=None,
            within_target_share=within,
            target_working_days=5,
            survey_responses=responses,
            satisfied_with_booking_share=1.0 if responses else None,
            easy_to_find_time_share=0.5 if responses else None,
            guarantee_breaches=1,
        )

    total = regional_total([shared("a", 30, 1.0, 10), shared("b", 10, 0.0, 0)])

    assert total.bookings == 40
    assert total.within_own_target_share == 0.75
    assert (total.satisfied_with_booking_share, total.easy_to_find_time_share) == (1.0, 0.5)
    assert total.guarantee_breaches == 2
