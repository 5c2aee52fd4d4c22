"""A booking's visit at the office: assessed beforehand, checked in, started, completed, or a
no-show."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from services.booking.domain.booking_state import (
    CHECK_IN_FROM,
    COMPLETE_FROM,
    NO_SHOW_FROM,
    START_FROM,
    BookingState,
    Sealer,
    Status,
)
from services.booking.domain.errors import Conflict


class Visit(BookingState):
    """The steps of the visit, each allowed only from the statuses its `*_FROM` names."""

    def pre_assess(
        self, outcome: str, note: str, by: str, at: datetime, citizen: Sealer | None
    ) -> None:
        """Staff look at the booking before the visit; `solved_online` resolves it. Their note
        is sealed with `citizen`'s key."""
        self._require_active()
        self._pre_assessed(
            **self._facts(),
            **self._about_citizen(citizen, note=note),
            outcome=outcome,
            assessed_at=at,
            by=by,
        )

    @event("PreAssessed")
    def _pre_assessed(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        outcome: str,
        note: str | None,
        assessed_at: datetime,
        by: str,
        subject_id: UUID | None = None,
        personal: str | None = None,
    ) -> None:
        self.pre_assessment = outcome
        if outcome == "solved_online":
            self.status = Status.resolved_online

    def check_in(self, by: str, at: datetime) -> None:
        self._require(CHECK_IN_FROM, "checked in")
        self._checked_in(**self._facts(), checked_in_at=at, by=by)

    @event("CheckedIn")
    def _checked_in(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        checked_in_at: datetime,
        by: str,
    ) -> None:
        self.status = Status.checked_in

    def start(self, by: str, at: datetime) -> None:
        self._require(START_FROM, "started")
        self._started(**self._facts(), started_at=at, by=by)

    @event("Started")
    def _started(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        started_at: datetime,
        by: str,
    ) -> None:
        self.status = Status.started
        self.started_at = started_at

    def complete(self, by: str, at: datetime) -> None:
        self._require(COMPLETE_FROM, "completed")
        minutes = max(0.0, (at - self.started_at).total_seconds() / 60)
        self._completed(**self._facts(), completed_at=at, handling_minutes=round(minutes, 2), by=by)

    @event("Completed")
    def _completed(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        completed_at: datetime,
        handling_minutes: float,
        by: str,
    ) -> None:
        self.status = Status.completed
        self.handling_minutes = handling_minutes

    def record_no_show(self, by: str, at: datetime) -> None:
        self._require(NO_SHOW_FROM, "recorded as a no-show")
        if at < self.starts_at:
            raise Conflict(
                f"booking {self.id} starts at {self.starts_at.isoformat()}; not yet a no-show"
            )
        self._no_show(**self._facts(), recorded_at=at, by=by)

    @event("NoShow")
    def _no_show(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        recorded_at: datetime,
        by: str,
    ) -> None:
        self.status = Status.no_show
