"""The citizen's answers to the survey after a completed visit (seeds/002)."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import event

from services.booking.domain.booking_state import BookingState, Status
from services.booking.domain.errors import Conflict


class Survey(BookingState):
    """One answer per booking, and only after the visit."""

    def answer_survey(
        self,
        satisfied_with_booking: bool,
        easy_to_find_time: bool,
        score: int | None,
        at: datetime,
        by: str | None = None,
    ) -> None:
        self._require((Status.completed,), "asked about a visit that has not happened")
        if self.survey_answered:
            raise Conflict(f"the survey for booking {self.id} is already answered")
        self._survey_answered(
            **self._facts(),
            satisfied_with_booking=satisfied_with_booking,
            easy_to_find_time=easy_to_find_time,
            score=score,
            answered_at=at,
            by=by,
        )

    @event("SurveyAnswered")
    def _survey_answered(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        satisfied_with_booking: bool,
        easy_to_find_time: bool,
        score: int | None,
        answered_at: datetime,
        by: str | None = None,
    ) -> None:
        self.survey_answered = True
